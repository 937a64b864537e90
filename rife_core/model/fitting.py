"""Fitted starts: a layer of a kind the parent lacks, fitted to the function of the parent's layer it replaces.

- ``rank1_dsconv``: a standard 3x3 conv's nearest depthwise-separable conv in weights (per input channel,
  the rank-1 SVD of its (out, 9) filter bank: depthwise taps = the first right singular vector, pointwise
  = the first left one times the singular value). A start, not a fit: it keeps the filters' leading energy.
- ``fit_linear``: closed-form least squares for a layer whose output is affine in its parameters (convs,
  transposed convs, then fixed pixel shuffles and bilinear resizes), by conjugate gradients on the normal
  equations (CGLS), so no design matrix is ever formed.
- ``fit_adam``: any other layer or whole block (depthwise-separable trunks, whose output is bilinear in
  depthwise and pointwise weights), by Adam on the mean squared output error.

Every fit runs on fixed activations (the parent's own, on fixed training crops), so a start is a function
of (parent, child, data, seed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

Pairs = Sequence[tuple[torch.Tensor, torch.Tensor]]  # (input, target) per batch


def relative_error(fn: Callable[[torch.Tensor], torch.Tensor], pairs: Pairs) -> float:
    """||fn(x) - y|| / ||y|| over all batches (0: the target reproduced)."""
    num = den = 0.0
    with torch.no_grad():
        for x, y in pairs:
            num += float((fn(x) - y).pow(2).sum())
            den += float(y.pow(2).sum())
    return math.sqrt(num / den) if den else 0.0


@torch.no_grad()
def rank1_dsconv(weight: torch.Tensor, bias: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(depthwise (c, 1, 3, 3), pointwise (o, c, 1, 1), bias (o,)) nearest a standard conv's (o, c, 3, 3) weight.

    Returns the factors and keeps ``bias`` (zeros when None).
    """
    o, c, kh, kw = weight.shape
    banks = weight.permute(1, 0, 2, 3).reshape(c, o, kh * kw)  # per input channel: (out, taps)
    u, s, vh = torch.linalg.svd(banks.double(), full_matrices=False)
    # Sign convention: the depthwise taps sum to >= 0, so equal filters give equal factors.
    sign = torch.where(vh[:, 0].sum(-1) < 0, -1.0, 1.0).to(vh.dtype)
    depthwise = (vh[:, 0] * sign[:, None]).reshape(c, 1, kh, kw)
    pointwise = (u[:, :, 0] * s[:, :1] * sign[:, None]).T.reshape(o, c, 1, 1)
    b = torch.zeros(o, dtype=weight.dtype) if bias is None else bias.detach().clone()
    return depthwise.to(weight.dtype), pointwise.to(weight.dtype), b


def fit_linear(
    module: nn.Module, pairs: Pairs, forward: Callable[[torch.Tensor], torch.Tensor], iters: int = 60
) -> None:
    """Least squares of ``forward(x)`` (affine in ``module``'s parameters) to the targets, by CGLS.

    Starts from the module's current parameters; ``iters`` conjugate-gradient steps (exact in at most as
    many as there are parameters, in exact arithmetic). Runs in float64: the residual updates lose the fit
    in float32 when flow gains scale the outputs by up to 32.
    """
    dtype = next(module.parameters()).dtype
    module.double()
    pairs = [(x.double(), y.double()) for x, y in pairs]
    try:
        _cgls(module, pairs, forward, iters)
    finally:
        module.to(dtype)


def _cgls(module: nn.Module, pairs: Pairs, forward: Callable[[torch.Tensor], torch.Tensor], iters: int) -> None:
    params = [p for p in module.parameters() if p.requires_grad]

    def residual() -> list[torch.Tensor]:
        with torch.no_grad():
            return [y - forward(x) for x, y in pairs]

    def apply_t(rs: list[torch.Tensor]) -> list[torch.Tensor]:
        """A^T r: the gradient of sum <forward(x), r> over the batches."""
        total = [torch.zeros_like(p) for p in params]
        for (x, _), r in zip(pairs, rs, strict=True):
            grads = torch.autograd.grad((forward(x) * r).sum(), params, allow_unused=True)
            for t, g in zip(total, grads, strict=True):
                if g is not None:
                    t += g
        return total

    def apply(direction: list[torch.Tensor]) -> list[torch.Tensor]:
        """A d: the output's change when the parameters move by d (the bias part cancels)."""
        with torch.no_grad():
            before = [forward(x) for x, _ in pairs]
            for p, d in zip(params, direction, strict=True):
                p.add_(d)
            after = [forward(x) for x, _ in pairs]
            for p, d in zip(params, direction, strict=True):
                p.sub_(d)
        return [a - b for a, b in zip(after, before, strict=True)]

    def dot(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
        return float(sum((x * y).sum() for x, y in zip(a, b, strict=True)))

    r = residual()
    s = apply_t(r)
    p = [t.clone() for t in s]
    gamma = dot(s, s)
    for _ in range(iters):
        if gamma <= 1e-30:
            break
        q = apply(p)
        alpha = gamma / max(dot(q, q), 1e-30)
        with torch.no_grad():
            for w, d in zip(params, p, strict=True):
                w.add_(alpha * d)
        r = [a - alpha * b for a, b in zip(r, q, strict=True)]
        s = apply_t(r)
        new_gamma = dot(s, s)
        p = [a + (new_gamma / gamma) * b for a, b in zip(s, p, strict=True)]
        gamma = new_gamma


def fit_adam(
    module: nn.Module,
    pairs: Pairs,
    forward: Callable[[torch.Tensor], torch.Tensor],
    steps: int = 200,
    lr: float = 1e-3,
) -> None:
    """Adam on the mean squared error of ``forward(x)`` against the targets, cycling over the batches."""
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    for step in range(steps):
        x, y = pairs[step % len(pairs)]
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(forward(x), y)
        loss.backward()
        opt.step()
    opt.zero_grad(set_to_none=True)
