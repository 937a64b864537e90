"""The ``rife_v3_hd`` preset computes what RIFE v3.x HD computes; its parameters are counted exactly.

The reference (``v3_reference.py``) is written from the published structure; both get the same random
weights through the release's key names (``parents.to_family_state``), so the key mapping is tested too.
"""

from __future__ import annotations

import pytest
import torch

from rife_core.cost.params import count_params
from rife_core.model.config import uniform_blocks
from rife_core.model.ifnet import IFNet
from rife_core.model.parents import PARENTS, to_family_state
from rife_core.model.presets import PRESETS

from .v3_reference import RefIFNetV3


def _pair(c: int = 90, pairs: int = 4, scales: tuple[int, ...] = (4, 2, 1), seed: int = 0):
    torch.manual_seed(seed)
    ref = RefIFNetV3(c, pairs, scales).double().eval()
    with torch.no_grad():  # PReLU slopes off their 0.25 default, so a slope in the wrong place shows
        for m in ref.modules():
            if isinstance(m, torch.nn.PReLU):
                m.weight.uniform_(-0.5, 0.5)
    cfg = PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks(list(scales), [c] * len(scales), pairs))
    ours = IFNet(cfg).double().eval()
    release = {f"module.{k}": v for k, v in ref.state_dict().items()}  # the release's naming
    ours.load_state_dict(to_family_state(release, cfg), strict=True)
    return ref, ours


@pytest.mark.parametrize(
    ("c", "pairs", "scales", "size"),
    [(90, 4, (4, 2, 1), (64, 96)), (16, 2, (8, 4, 2, 1), (64, 64)), (24, 1, (2, 1), (40, 56))],
)
def test_forward_parity_with_the_published_structure(c, pairs, scales, size) -> None:
    ref, ours = _pair(c, pairs, scales)
    g = torch.Generator().manual_seed(1)
    a = torch.rand(2, 3, *size, generator=g, dtype=torch.float64)
    b = torch.rand(2, 3, *size, generator=g, dtype=torch.float64)
    with torch.no_grad():
        frame, flows = ref(a, b)
        out = ours(a, b)
    assert (out.frame - frame).abs().max() < 1e-5
    for x, y in zip(out.flows, flows, strict=True):
        assert (x - y).abs().max() < 1e-5


def test_float32_parity_on_random_weights() -> None:
    ref, ours = _pair(seed=3)
    ref, ours = ref.float(), ours.float()
    g = torch.Generator().manual_seed(4)
    a, b = torch.rand(1, 3, 64, 64, generator=g), torch.rand(1, 3, 64, 64, generator=g)
    with torch.no_grad():
        assert (ours(a, b).frame - ref(a, b)[0]).abs().max() < 1e-5


def test_parameter_count_is_the_release_less_the_dead_first_block_inputs() -> None:
    ref = RefIFNetV3()
    cfg = PRESETS["rife_v3_hd"]
    assert sum(p.numel() for p in ref.parameters()) == 3_038_015  # with the teacher block, as released
    assert ref.deployed_params() == PARENTS["rife_v3_hd"].released_params == 2_277_600
    dead = (45 * 9) * (1 + 4)  # block 0's first conv: 45 filters x 3x3 over the all-zero mask and flow planes
    assert count_params(cfg) == IFNet(cfg).num_params() == ref.deployed_params() - dead


def test_no_timestep_input_refuses_other_times() -> None:
    model = IFNet(PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks([2, 1], [8, 8], 1)))
    x = torch.rand(1, 3, 32, 32)
    model(x, x, 0.5)
    with pytest.raises(ValueError, match="middle frame only"):
        model(x, x, 0.25)


def test_evaluation_reaches_other_times_by_halving() -> None:
    from rife_core.evaluation.evaluate import model_predictor

    model = IFNet(PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks([2, 1], [8, 8], 1))).eval()
    a, b = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    predict = model_predictor(model)
    with torch.no_grad():
        mid = model(a, b).frame
        quarter = model(a, mid).frame
        three_quarters = model(mid, b).frame
        got = predict(a, b, torch.tensor([0.25, 0.75]))
        assert torch.equal(predict(a, b, torch.tensor([0.5])), mid)
    assert torch.allclose(got[0], quarter[0], atol=1e-6) and torch.allclose(got[1], three_quarters[1], atol=1e-6)
    with pytest.raises(ValueError, match="not k / 2"):
        predict(a, b, torch.tensor([1 / 3]))
