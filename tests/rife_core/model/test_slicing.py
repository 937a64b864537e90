"""Slicing: a child takes the parent's live channels and units, and so computes what the parent computes.

The independent check: a parent whose surplus channels (or units) are dead, i.e. every weight writing
into them is zero, computes the same function as the smaller network without them. A child of that
smaller shape, sliced by filter norms, must then reproduce the parent's output exactly, wherever in
the channel order the dead channels sit.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rife_core.model.config import BlockConfig, uniform_blocks
from rife_core.model.ifnet import IFNet
from rife_core.model.init import init_parameters, seeded_generator
from rife_core.model.presets import PRESETS
from rife_core.model.slicing import ChildRefused, nearest_block, slice_child

V3_TINY = PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks([4, 2, 1], [16, 16, 16], 3))


def _frames() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    a = torch.rand(1, 3, 48, 64, generator=g, dtype=torch.float64)
    return a, torch.roll(a, shifts=(2, -3), dims=(2, 3))


def _parent(cfg=V3_TINY, seed: int = 0) -> IFNet:
    model = IFNet(cfg)
    init_parameters(model, seeded_generator(seed))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(0.05, 0.5, generator=seeded_generator(seed + 1))
    return model.double().eval()


def _kill_out(layer: nn.Module, channels: list[int], transposed: bool = False) -> None:
    """Zero every weight that writes into ``channels`` of ``layer``'s output."""
    with torch.no_grad():
        if transposed:
            layer.weight[:, channels] = 0
        else:
            layer.weight[channels] = 0
        layer.bias[channels] = 0


def _dead_set(width: int, keep: int, seed: int) -> list[int]:
    return sorted(torch.randperm(width, generator=torch.Generator().manual_seed(seed))[: width - keep].tolist())


def _make_narrow(parent: IFNet, keep: int) -> dict[str, list[int]]:
    """Kill all but ``keep`` stream channels and half the hidden channels of every block, at random places;
    returns the live channels of each set, by a name of this test's own."""
    live: dict[str, list[int]] = {}

    def kill(layer: nn.Module, width: int, n_keep: int, seed: int, name: str, transposed: bool = False) -> list[int]:
        dead = _dead_set(width, n_keep, seed)
        _kill_out(layer, dead, transposed)
        live[name] = [c for c in range(width) if c not in dead]
        return dead

    for bi, block in enumerate(parent.blocks):
        width = block.conv0[1][0].out_channels
        stream = kill(block.conv0[1][0], width, keep, 10 + bi, f"{bi}.stream")
        kill(block.conv0[0][0], width // 2, keep // 2, 20 + bi, f"{bi}.conv0")
        for ui, unit in enumerate(block.convblock):
            kill(unit.convs[0][0], width, keep, 30 + 10 * bi + ui, f"{bi}.unit{ui}")
            _kill_out(unit.convs[1][0], stream)
        for hi, head in enumerate((block.lastconv, block.maskconv)):
            kill(head.learned[0], width // 2, keep // 2, 40 + 10 * bi + hi, f"{bi}.head{hi}", transposed=True)
    return live


def _put(layer: nn.Module, w: torch.Tensor, b: torch.Tensor, outs: list[int], ins: list[int], t: bool = False) -> None:
    """Copy filters ``outs`` over inputs ``ins`` (``t``: a transposed conv, stored (in, out, kh, kw))."""
    layer.weight.copy_(w[ins][:, outs] if t else w[outs][:, ins])
    layer.bias.copy_(b[outs])


def _standalone(parent: IFNet, cfg, live: dict[str, list[int]]) -> IFNet:
    """``cfg`` built on its own, each weight copied by hand from the parent's live channels."""
    net = IFNet(cfg).double()
    p = dict(parent.named_parameters())
    with torch.no_grad():
        for bi, block in enumerate(net.blocks):
            s, c0 = live[f"{bi}.stream"], live[f"{bi}.conv0"]
            pre = f"blocks.{bi}."
            w = {k[len(pre) :]: v for k, v in p.items() if k.startswith(pre)}
            _put(block.conv0[0][0], w["conv0.0.0.weight"], w["conv0.0.0.bias"], c0, list(range(6 if bi == 0 else 11)))
            block.conv0[0][1].weight.copy_(w["conv0.0.1.weight"][c0])
            _put(block.conv0[1][0], w["conv0.1.0.weight"], w["conv0.1.0.bias"], s, c0)
            block.conv0[1][1].weight.copy_(w["conv0.1.1.weight"][s])
            for ui, unit in enumerate(block.convblock):
                inner, u = live[f"{bi}.unit{ui}"], f"convblock.{ui}.convs."
                _put(unit.convs[0][0], w[u + "0.0.weight"], w[u + "0.0.bias"], inner, s)
                unit.convs[0][1].weight.copy_(w[u + "0.1.weight"][inner])
                _put(unit.convs[1][0], w[u + "1.0.weight"], w[u + "1.0.bias"], s, inner)
                unit.convs[1][1].weight.copy_(w[u + "1.1.weight"][s])
            for hi, head in enumerate(("lastconv", "maskconv")):
                hid, learned, h = live[f"{bi}.head{hi}"], getattr(block, head).learned, f"{head}.learned."
                _put(learned[0], w[h + "0.weight"], w[h + "0.bias"], hid, s, t=True)
                learned[1].weight.copy_(w[h + "1.weight"][hid])
                outs = list(range(learned[2].out_channels))
                _put(learned[2], w[h + "2.weight"], w[h + "2.bias"], outs, hid, t=True)
    return net


def _same(a: IFNet, b: IFNet) -> float:
    x0, x1 = _frames()
    with torch.no_grad():
        return float((a(x0, x1).frame - b(x0, x1).frame).abs().max())


def test_a_child_of_the_parents_shape_is_the_parent() -> None:
    parent = _parent()
    child, report = slice_child(parent, V3_TINY)
    assert report.share == 1.0 and report.inherited == parent.num_params() and not report.seeded
    for (n, p), (m, q) in zip(parent.state_dict().items(), child.state_dict().items(), strict=True):
        assert n == m and torch.equal(p.to(q.dtype), q)
    assert _same(parent, child.double()) == 0.0


def test_a_narrow_child_keeps_the_live_channels() -> None:
    parent = _parent()
    live = _make_narrow(parent, keep=8)
    narrow = V3_TINY.replace(blocks=uniform_blocks([4, 2, 1], [8, 8, 8], 3))
    child, report = slice_child(parent, narrow, importance=None)
    assert report.share == 1.0 and child.num_params() < parent.num_params()
    assert _same(parent, child.double()) < 1e-12
    # and it is the stand-alone child with the live weights copied by hand, weight for weight
    standalone = _standalone(parent, narrow, live).state_dict()
    for name, value in child.double().state_dict().items():
        assert torch.equal(value, standalone[name]), name


def test_a_random_narrow_child_differs() -> None:
    # the check above can fail: a child that keeps other channels does not compute the parent's function
    parent = _parent()
    _make_narrow(parent, keep=8)
    narrow = V3_TINY.replace(blocks=uniform_blocks([4, 2, 1], [8, 8, 8], 3))
    child, _ = slice_child(_parent(seed=9), narrow)
    assert _same(parent, child.double()) > 1e-3


@pytest.mark.parametrize("rule", ["first", "norm"])
def test_a_shallow_child_keeps_the_units_the_rule_names(rule: str) -> None:
    parent = _parent()
    keep = [0, 1] if rule == "first" else [0, 2]
    for block in parent.blocks:
        for ui, unit in enumerate(block.convblock):
            if ui not in keep:  # a unit whose last conv writes nothing is the identity
                _kill_out(unit.convs[1][0], list(range(unit.convs[1][0].out_channels)))
    shallow = V3_TINY.replace(blocks=uniform_blocks([4, 2, 1], [16, 16, 16], 2))
    child, _ = slice_child(parent, shallow, depth_rule=rule)
    assert _same(parent, child.double()) < 1e-12


def test_blocks_at_scales_the_parent_lacks_inherit_from_the_nearest() -> None:
    assert [nearest_block(V3_TINY, s) for s in (16, 8, 4, 2, 1)] == [0, 0, 0, 1, 2]
    deeper = V3_TINY.replace(blocks=uniform_blocks([8, 4, 2, 1], [8, 8, 8, 8], 1))
    child, report = slice_child(_parent(), deeper)
    assert report.parent_blocks == [0, 0, 1, 2]
    # block 1 reads the mask and flow planes, which the parent's block 0 never reads (zeroed, not random)
    first = child.blocks[1].conv0[0][0].weight
    assert torch.count_nonzero(first[:, 6:]) == 0 and torch.count_nonzero(first[:, :6]) > 0
    assert report.share < 1.0


def test_layers_without_a_counterpart_are_seeded_and_reported() -> None:
    parent = _parent()
    cfg = V3_TINY.replace(blocks=uniform_blocks([4, 2, 1], [8, 8, 8], 1), encoder_width=8, downsample="conv")
    child, report = slice_child(parent, cfg, seed=3)
    # the encoder has no counterpart in the parent; the learned downsampler is rewritten from its bilinear one
    assert report.seeded == ["encode"] and [s.name for s in report.layers] == ["blocks.0.down", "blocks.1.down"]
    assert 0 < report.inherited < report.total
    again, _ = slice_child(parent, cfg, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(child.parameters(), again.parameters(), strict=True))


def test_a_child_the_parent_cannot_serve_is_refused_with_every_reason() -> None:
    parent = _parent()
    too_big = V3_TINY.replace(blocks=(BlockConfig(4, 32, 3), BlockConfig(2, 16, 5), BlockConfig(1, 16, 3)))
    with pytest.raises(ChildRefused) as e:
        slice_child(parent, too_big)
    assert "blocks[0].width=32 is wider" in str(e.value) and "blocks[1].depth=5 is deeper" in str(e.value)
    with pytest.raises(ChildRefused, match="activation='leaky_relu' differs"):
        slice_child(parent, V3_TINY.replace(activation="leaky_relu"))
    with pytest.raises(ValueError, match="depth_rule"):
        slice_child(parent, V3_TINY, depth_rule="random")


def test_one_frame_order_child_shares_the_weights() -> None:
    parent = _parent()
    child, report = slice_child(parent, V3_TINY.replace(both_orders=False))
    assert report.share == 1.0 and child.num_params() == parent.num_params()
