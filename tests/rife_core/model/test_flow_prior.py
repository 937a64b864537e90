"""``flow_init``: a classical DIS flow prior that the first block refines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rife_core.cost.latency import measure_latency, onnx_session
from rife_core.cost.macs import count_macs
from rife_core.cost.params import count_params
from rife_core.cost.report import format_report, measure_cost
from rife_core.evaluation.baselines import dis_interpolate
from rife_core.export import export_onnx
from rife_core.model.config import FLOW_INITS, ArchConfig, BlockConfig, ConfigError
from rife_core.model.flow_prior import dis_prior
from rife_core.model.presets import PRESETS, create_model
from space.space import V4_SPACE, SearchSpace

PRIORS = [f for f in FLOW_INITS if f != "none"]


def _textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture (H, W, 3) in [0, 1]: DIS needs gradients to match, not noise."""
    rng = np.random.default_rng(seed)
    small = rng.random((h // 8 + 2, w // 8 + 2, 3)).astype(np.float32)
    big = torch.nn.functional.interpolate(
        torch.from_numpy(small).permute(2, 0, 1)[None], scale_factor=8, mode="bicubic", align_corners=False
    )
    return big[0].permute(1, 2, 0).numpy()[:h, :w].clip(0, 1)


def _frames(shift: tuple[int, int], size=(96, 128)) -> tuple[torch.Tensor, torch.Tensor]:
    """frame1 is frame0 translated by ``shift`` = (dx, dy) whole pixels."""
    dx, dy = shift
    h, w = size
    big = _textured(h + 2 * abs(dy) + 8, w + 2 * abs(dx) + 8)
    oy, ox = abs(dy) + 4, abs(dx) + 4
    f0 = big[oy : oy + h, ox : ox + w]
    f1 = big[oy - dy : oy - dy + h, ox - dx : ox - dx + w]  # content moves by +shift
    return (torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1)[None] for f in (f0, f1))


@pytest.mark.parametrize("flow_init", PRIORS)
def test_prior_of_a_translation_points_at_the_true_positions(flow_init: str) -> None:
    # Content moves by (6, -4) px from frame0 to frame1; at t the middle frame's pixel p shows frame0's
    # p - t * shift and frame1's p + (1 - t) * shift.
    shift, t = np.array([6.0, -4.0]), 0.25
    a, b = _frames((6, -4))
    prior = dis_prior(a, b, torch.tensor([t]), flow_init)[0].numpy()
    inner = (slice(None), slice(16, -16), slice(16, -16))  # away from borders DIS cannot match
    to0 = np.median(prior[0:2][inner].reshape(2, -1), axis=1)
    to1 = np.median(prior[2:4][inner].reshape(2, -1), axis=1)
    assert np.abs(to0 - (-t * shift)).max() < 0.5
    assert np.abs(to1 - ((1 - t) * shift)).max() < 0.5


def test_zero_residual_computes_dis_interpolation() -> None:
    # With every block's output zeroed the network is the DIS baseline (same flows, blend weights as mask).
    cfg = PRESETS["lite_s"].replace(flow_init="dis_medium")
    model = create_model(cfg, seed=0).eval()
    for block in model.blocks:
        for p in block.lastconv.parameters():
            torch.nn.init.zeros_(p)
    a, b = _frames((5, 3), size=(90, 120))
    for t in (0.5, 0.3):
        tt = torch.tensor([t])
        with torch.no_grad():
            got = model(a, b, tt).frame
        want = dis_interpolate(a, b, tt)
        # OpenCV's remap in the baseline works on uint8 with fixed-point weights: about 1/255 apart.
        assert (got - want).abs().max() < 3 / 255
        assert (got - want).abs().mean() < 0.5 / 255


@pytest.mark.parametrize("flow_init", FLOW_INITS)
def test_params_are_counted_analytically_and_outputs_have_the_input_size(flow_init: str) -> None:
    cfg = ArchConfig(
        blocks=(BlockConfig(4, 8, 1), BlockConfig(1, 8, 1)), encoder_width=8, passed_feat_ch=4, flow_init=flow_init
    )
    model = create_model(cfg, seed=0).eval()
    assert count_params(cfg) == model.num_params()
    extra = count_params(cfg) - count_params(cfg.replace(flow_init="none"))
    # The first block's first conv reads a mask and a flow more: 5 input channels x 3x3 x (width/2) outputs.
    assert extra == (0 if flow_init == "none" else 5 * 9 * 4)
    a, b = torch.rand(2, 3, 45, 71), torch.rand(2, 3, 45, 71)
    with torch.no_grad():
        out = model(a, b, torch.tensor([0.3, 0.7]))
    assert out.frame.shape == (2, 3, 45, 71) and torch.isfinite(out.frame).all()


def test_a_given_prior_is_used_and_checked() -> None:
    cfg = PRESETS["lite_s"].replace(flow_init="dis_fast")
    model = create_model(cfg, seed=0).eval()
    a, b = _frames((3, 2), size=(64, 96))
    t = torch.tensor([0.5])
    with torch.no_grad():
        computed = model(a, b, t).frame
        given = model(a, b, t, dis_prior(a, b, t, "dis_fast")).frame
        other = model(a, b, t, torch.zeros(1, 4, 64, 96)).frame
    assert torch.equal(computed, given)
    assert (computed - other).abs().max() > 1e-3
    with pytest.raises(ValueError, match="flow_init must be"):
        model(a, b, t, torch.zeros(1, 4, 32, 48))
    with pytest.raises(ValueError, match="no flow prior"):
        create_model("lite_s", seed=0)(a, b, t, torch.zeros(1, 4, 64, 96))


def test_onnx_export_takes_the_prior_as_an_input(tmp_path: Path) -> None:
    cfg = PRESETS["lite_fast"].replace(flow_init="dis_ultrafast")
    model = create_model(cfg, seed=0).eval()
    for size in ((64, 96), (45, 71)):
        a, b = (torch.from_numpy(_textured(*size, seed=s)).permute(2, 0, 1)[None].contiguous() for s in (1, 2))
        t = torch.tensor([0.4])
        prior = dis_prior(a, b, t, cfg.flow_init)
        with torch.no_grad():
            want = model(a, b, t).frame.numpy()
        path = export_onnx(model, tmp_path / "m.onnx", size)
        sess = onnx_session(str(path), 1)
        assert [i.name for i in sess.get_inputs()] == ["img0", "img1", "t", "flow_init"]
        feeds = {"img0": a.numpy(), "img1": b.numpy(), "t": t.numpy(), "flow_init": prior.numpy()}
        (got,) = sess.run(None, feeds)
        assert np.abs(got - want).max() < 1e-4


def test_cost_counts_the_prior_as_time_not_macs() -> None:
    cfg = PRESETS["lite_fast"].replace(flow_init="dis_ultrafast")
    model = create_model(cfg, seed=0).eval()
    macs = count_macs(model, (64, 96))
    assert macs.total > 0 and not macs.unsupported
    report = measure_cost(cfg, (64, 96), model=model, repeats=2, warmup=1, threads=1)
    assert report.prior is not None and "DIS" in report.prior and report.prior_ms > 0
    assert "flow prior" in format_report("x", report)
    # onnxruntime's timed call includes the DIS it needs for its graph input.
    lat = measure_latency(model, (64, 96), repeats=2, warmup=1, threads=1, backend="onnxruntime")
    assert lat.median_ms > 0
    plain = measure_cost(PRESETS["lite_fast"], (64, 96), latency=False)
    assert plain.prior is None and plain.prior_ms is None


def test_config_and_space() -> None:
    with pytest.raises(ConfigError, match="flow_init"):
        PRESETS["lite_s"].replace(flow_init="farneback")
    assert "flow_init" not in PRESETS["lite_s"].to_dict()  # RIFE presets keep their arch_id
    assert PRESETS["lite_s"].replace(flow_init="dis_fast").to_dict()["flow_init"] == "dis_fast"
    space = SearchSpace.load(V4_SPACE)
    assert space.choices["flow_init"] == ("none",)
    prior_space = SearchSpace({**space.choices, "flow_init": ("none", "dis_fast")})
    assert {c.flow_init for c in prior_space.enumerate_sample(30)} == {"none", "dis_fast"}
