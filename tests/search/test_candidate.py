"""A candidate's score is a function of (config, seed, proxy settings): order, history and resume do not matter."""

from __future__ import annotations

import torch

from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.config import ArchConfig, uniform_blocks
from rife_core.model.supernet import SuperNet, SuperSpace
from search.candidate import Inherited, build_candidate, run_candidate, weight_seed
from search.fidelity import train_row
from search.proxy import ProxySettings

A = ArchConfig(blocks=uniform_blocks([4, 1], [16, 16], 1), encoder_width=0, passed_feat_ch=0)
B = ArchConfig(blocks=uniform_blocks([8, 2, 1], [16, 24, 16], 1), encoder_width=8, encoder_ch=4, passed_feat_ch=4)
TINY = ProxySettings(steps=6, crop=48, batch=2, val_every=3, val_items=2, val_crop=64, size=(64, 64), workers=0)


def psnr_of(cfg: ArchConfig) -> float:
    return run_candidate(cfg, TINY.train_config()).metrics["psnr"]


def test_scores_do_not_depend_on_order_or_on_the_global_rng() -> None:
    torch.manual_seed(123)
    a_first, b_second = psnr_of(A), psnr_of(B)
    torch.rand(1000)  # whatever else the process did in between
    b_first = psnr_of(B)
    torch.manual_seed(7)
    a_second = psnr_of(A)
    assert abs(a_first - a_second) < 1e-6
    assert abs(b_first - b_second) < 1e-6
    assert a_first != b_first  # the two architectures really are scored differently


def test_initial_weights_are_a_function_of_seed_and_arch_id() -> None:
    torch.manual_seed(0)
    w1 = build_candidate(A, seed=0).state_dict()
    torch.manual_seed(1)
    w2 = build_candidate(A, seed=0).state_dict()
    w3 = build_candidate(A, seed=1).state_dict()
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert any(not torch.equal(w1[k], w3[k]) for k in w1 if k.endswith("weight"))
    assert weight_seed(0, A.arch_id) != weight_seed(0, B.arch_id) != weight_seed(1, B.arch_id)


def test_fidelity_rows_are_the_search_pipelines_scores() -> None:
    """search.fidelity caches what the search's candidate pipeline gives for the same (config, settings)."""
    row = train_row(A, TINY)
    assert row["status"] == "completed"
    assert abs(row["psnr"] - psnr_of(A)) < 1e-6


def test_an_inherited_candidate_without_fine_tune_is_scored_as_extracted() -> None:
    space = SuperSpace(
        scales=(4, 1),
        max_width=16,
        max_depth=1,
        conv_types=(A.conv_type,),
        downsamples=(A.downsample,),
        upsamples=(A.upsample,),
        max_encoder_width=0,
        encoder_ch=4,
        max_passed_feat_ch=0,
    )
    net = SuperNet(space, seed=3)
    res = run_candidate(A, TINY.train_config(), start=Inherited(net), validation=TINY.evaluation())
    assert res.trained is None and res.history[0]["step"] == 0
    direct = evaluate(model_predictor(net.extract(A).eval()), TINY.val_set(), max_items=2, center=64)
    assert abs(res.metrics["psnr"] - direct["psnr"]) < 1e-9
