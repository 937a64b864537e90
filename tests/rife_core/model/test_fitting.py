"""Fitted starts against independent references: numpy's SVD and least squares."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rife_core.model.fitting import fit_adam, fit_linear, rank1_dsconv, relative_error


def test_the_rank1_factorisation_is_numpys_leading_singular_triplet_per_input_channel() -> None:
    w = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    depthwise, pointwise, bias = rank1_dsconv(w, None)
    assert depthwise.shape == (4, 1, 3, 3) and pointwise.shape == (6, 4, 1, 1) and not bias.any()
    for i in range(4):
        u, s, vt = np.linalg.svd(w[:, i].reshape(6, 9).numpy(), full_matrices=False)
        expected = s[0] * np.outer(u[:, 0], vt[0])
        got = pointwise[:, i, 0, 0].numpy()[:, None] * depthwise[i, 0].reshape(1, 9).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-10)
    # the factorised conv applied to an input is the rank-1 conv
    x = torch.randn(1, 4, 5, 5, dtype=torch.float64)
    sep = F.conv2d(F.conv2d(x, depthwise, padding=1, groups=4), pointwise)
    assert sep.shape == (1, 6, 5, 5)


def _head() -> tuple[nn.Module, object, list]:
    torch.manual_seed(3)
    conv = nn.Conv2d(2, 4, 3, 1, 1).double()

    def fwd(x: torch.Tensor) -> torch.Tensor:  # conv, pixel shuffle, then bilinear: affine in the weights
        return F.interpolate(F.pixel_shuffle(conv(x), 2), scale_factor=2, mode="bilinear", align_corners=False)

    g = torch.Generator().manual_seed(4)
    xs = [torch.randn(2, 2, 6, 6, generator=g, dtype=torch.float64) for _ in range(2)]
    # a target the head can nearly reach (a nonlinear map of another head's output) plus noise
    other = nn.Conv2d(2, 4, 3, 1, 1).double()
    with torch.no_grad():
        ys = [torch.tanh(F.interpolate(F.pixel_shuffle(other(x), 2), scale_factor=2, mode="bilinear")) for x in xs]
    return conv, fwd, list(zip(xs, ys, strict=True))


def test_a_linear_fit_reaches_numpys_least_squares_solution() -> None:
    conv, fwd, pairs = _head()
    n = sum(p.numel() for p in conv.parameters())
    # independent: the design matrix column by column (output for each unit parameter), then numpy lstsq
    with torch.no_grad():
        for p in conv.parameters():
            p.zero_()
        columns = []
        for j in range(n):
            v = torch.zeros(n, dtype=torch.float64)
            v[j] = 1.0
            torch.nn.utils.vector_to_parameters(v, conv.parameters())
            columns.append(torch.cat([fwd(x).flatten() for x, _ in pairs]).numpy())
        torch.nn.utils.vector_to_parameters(torch.zeros(n, dtype=torch.float64), conv.parameters())
    design = np.stack(columns, 1)
    target = torch.cat([y.flatten() for _, y in pairs]).numpy()
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    best = np.linalg.norm(design @ solution - target) / np.linalg.norm(target)
    fit_linear(conv, pairs, fwd, iters=n)
    got = relative_error(fwd, pairs)
    assert got <= best + 1e-6
    assert best < 0.9  # the problem is not trivial: the fit explains most of the target


def test_an_adam_fit_lowers_the_output_error_from_its_start() -> None:
    conv, fwd, pairs = _head()
    before = relative_error(fwd, pairs)
    fit_adam(conv, pairs, fwd, steps=200, lr=1e-2)
    assert relative_error(fwd, pairs) < 0.8 * before
