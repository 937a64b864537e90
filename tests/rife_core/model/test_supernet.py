"""Subnets of the weight-sharing supernet are exactly their ArchConfigs."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rife_core.cost.params import count_params
from rife_core.model.config import CONV_TYPES, DOWNSAMPLE_TYPES, UPSAMPLE_TYPES, ArchConfig, BlockConfig
from rife_core.model.supernet import SuperNet, SuperSpace

V4_UPSAMPLES = tuple(u for u in UPSAMPLE_TYPES if u != "deconv2")  # deconv2 is a parent's (slicing.py)
SPACE = SuperSpace(
    scales=(4, 2, 1),
    max_width=16,
    max_depth=2,
    conv_types=CONV_TYPES,
    downsamples=DOWNSAMPLE_TYPES,
    upsamples=V4_UPSAMPLES,
    max_encoder_width=8,
    encoder_ch=4,
    max_passed_feat_ch=4,
    max_corr_radius=2,
)


@pytest.fixture(scope="module")
def supernet() -> SuperNet:
    return SuperNet(SPACE, seed=0)


@st.composite
def subnets(draw) -> ArchConfig:
    scales = draw(st.sampled_from([(4, 1), (4, 2, 1), (2, 1), (1,)]))
    blocks = tuple(BlockConfig(s, draw(st.sampled_from([8, 12, 16])), draw(st.integers(0, 2))) for s in scales)
    warp_resolution = draw(st.sampled_from(["full", "block"]))
    return ArchConfig(
        blocks=blocks,
        conv_type=draw(st.sampled_from(CONV_TYPES)),
        downsample="bilinear" if warp_resolution == "block" else draw(st.sampled_from(DOWNSAMPLE_TYPES)),
        upsample=draw(st.sampled_from(V4_UPSAMPLES)),
        warp_every=draw(st.sampled_from([0, 1, 2])),
        warp_resolution=warp_resolution,
        encoder_width=draw(st.sampled_from([0, 4, 8])),
        encoder_ch=4,
        passed_feat_ch=draw(st.sampled_from([0, 2, 4])),
        corr_radius=draw(st.sampled_from([0, 1, 2])),
    )


@given(subnets())
@settings(max_examples=30, deadline=None)
def test_extracted_subnet_has_the_configs_parameters_and_the_same_output(supernet: SuperNet, cfg: ArchConfig) -> None:
    model = supernet.extract(cfg).eval()
    assert sum(p.numel() for p in model.parameters()) == count_params(cfg)
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 3, 24, 40, generator=g), torch.rand(1, 3, 24, 40, generator=g)
    with torch.no_grad():
        shared = supernet(cfg, a, b, 0.5)
        alone = model(a, b, 0.5)
    torch.testing.assert_close(shared.frame, alone.frame, atol=1e-6, rtol=0)
    torch.testing.assert_close(shared.flows[-1], alone.flows[-1], atol=1e-5, rtol=0)


def test_narrower_subnets_share_the_leading_channels(supernet: SuperNet) -> None:
    wide = ArchConfig(blocks=(BlockConfig(2, 16, 2), BlockConfig(1, 16, 2)), encoder_width=8, passed_feat_ch=4)
    narrow = ArchConfig(blocks=(BlockConfig(2, 8, 1), BlockConfig(1, 12, 2)), encoder_width=8, passed_feat_ch=4)
    w, n = supernet.extract(wide).state_dict(), supernet.extract(narrow).state_dict()
    key = "blocks.1.convblock.0.conv.weight"
    assert torch.equal(n[key], w[key][:12, :12])
    assert torch.equal(n["encode.cnn1.weight"], w["encode.cnn1.weight"])


def test_gradients_reach_the_shared_weights(supernet: SuperNet) -> None:
    cfg = ArchConfig(blocks=(BlockConfig(4, 8, 1), BlockConfig(1, 8, 1)), encoder_width=4, passed_feat_ch=2)
    supernet.zero_grad()
    out = supernet(cfg, torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), 0.5)
    (out.frame.mean() + out.flows[-1].abs().mean()).backward()
    touched = {k for k, p in supernet.shared.items() if p.grad is not None and p.grad.abs().sum() > 0}
    assert any(k.startswith("s4f|trunk:standard") for k in touched) and any(k.startswith("head") for k in touched)
    assert not any("dsconv" in k for k in touched)  # other choices' weights are untouched


def test_a_config_outside_the_space_is_refused(supernet: SuperNet) -> None:
    cfg = ArchConfig(blocks=(BlockConfig(8, 8, 1), BlockConfig(1, 32, 1)), encoder_width=0, passed_feat_ch=0)
    with pytest.raises(ValueError, match="not a subnet"):
        supernet.extract(cfg)


def test_input_channels_keep_their_meaning_across_configs(supernet: SuperNet) -> None:
    """Frames, timestep, mask and flow read the same shared columns whether or not features are present."""
    blocks = (BlockConfig(2, 8, 1), BlockConfig(1, 8, 1))
    rich = supernet.extract(ArchConfig(blocks=blocks, encoder_width=8, encoder_ch=4, passed_feat_ch=4))
    bare = supernet.extract(ArchConfig(blocks=blocks, encoder_width=0, passed_feat_ch=0))
    r, b = rich.state_dict()["blocks.1.conv0.0.0.weight"], bare.state_dict()["blocks.1.conv0.0.0.weight"]
    assert r.shape[1] == 6 + 8 + 1 + 1 + 4 + 4 and b.shape[1] == 6 + 1 + 1 + 4
    assert torch.equal(r[:, :6], b[:, :6])  # frame0, frame1
    assert torch.equal(r[:, 14:16], b[:, 6:8])  # timestep, mask
    assert torch.equal(r[:, -4:], b[:, -4:])  # flow


def test_every_sample_of_the_default_space_is_a_subnet_of_its_supernet() -> None:
    from space.space import V4_SPACE, SearchSpace

    space = SearchSpace.load(V4_SPACE)
    net = SuperNet(space.super_space())
    for cfg in space.enumerate_sample(12, seed=1):
        assert net.space.covers(cfg) is None
        assert sum(p.numel() for p in net.extract(cfg).parameters()) == count_params(cfg)


def test_a_smaller_cost_volume_takes_its_own_displacements_of_the_largest(supernet: SuperNet) -> None:
    blocks = (BlockConfig(4, 16, 1), BlockConfig(1, 8, 1))
    big = supernet.extract(ArchConfig(blocks=blocks, encoder_width=0, passed_feat_ch=0, corr_radius=2)).state_dict()
    small = supernet.extract(ArchConfig(blocks=blocks, encoder_width=8, passed_feat_ch=4, corr_radius=1)).state_dict()
    # conv0 reads frames (6) and t (1), then the volume; radius 1's 3x3 displacements are the middle of
    # radius 2's 5x5 grid (row-major)
    centre = [6, 7, 8, 11, 12, 13, 16, 17, 18]
    first = "blocks.0.conv0.0.0.weight"
    assert torch.equal(small[first][:, 2 * 3 + 2 * 4 + 1 :], big[first][:, [2 * 3 + 1 + c for c in centre]])
    assert torch.equal(small["corr.features.0.0.weight"], big["corr.features.0.0.weight"])


def test_init_from_loads_a_subnets_inherited_weights_exactly(tmp_path, supernet: SuperNet) -> None:
    from dataclasses import asdict

    from rife_core.cli.train import main as train_main
    from rife_core.training.checkpoint import load_subnet, read_checkpoint

    cfg = ArchConfig(blocks=(BlockConfig(4, 12, 1), BlockConfig(1, 8, 2)), encoder_width=4, passed_feat_ch=2)
    path = tmp_path / "supernet.pt"
    # The one-shot search's format, half precision as search.oneshot.write_snapshot writes it.
    shared = {k: v.half() for k, v in supernet.state_dict().items()}
    torch.save({"shared": shared, "step": 5, "meta": {"super_space": asdict(SPACE)}}, path)
    loaded = load_subnet(path, cfg)
    want = SuperNet(SPACE)
    want.load_state_dict({k: v.float() for k, v in shared.items()})
    expected = dict(want.extract(cfg).named_parameters())
    got = dict(loaded.named_parameters())
    assert got.keys() == expected.keys() and sum(p.numel() for p in got.values()) == count_params(cfg)
    assert all(torch.equal(got[k], expected[k]) for k in got)

    too_wide = cfg.replace(blocks=(BlockConfig(4, 32, 1),))
    with pytest.raises(ValueError, match="not a subnet"):
        load_subnet(path, too_wide)
    torch.save({"shared": shared, "step": 5, "meta": {}}, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="does not record its space"):
        load_subnet(tmp_path / "old.pt", cfg)

    # The CLI trains from those weights: after 0 optimiser effect (lr 0) the checkpoint holds them.
    (tmp_path / "arch.json").write_text(cfg.to_json())
    argv = [
        "--config",
        str(tmp_path / "arch.json"),
        "--init-from",
        str(path),
        *"--steps 1 --lr 0 --crop 32 --batch 2 --data synthetic:8 --val-data synthetic:2 --out".split(),
        str(tmp_path / "run"),
        "--device",
        "cpu",
    ]
    assert train_main(argv) == 0
    trained = read_checkpoint(tmp_path / "run" / "last.pt")["model"]
    assert all(torch.equal(trained[k], expected[k]) for k in expected)
