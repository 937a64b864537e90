"""``--retrain-top K``: the best front members trained by the deployment recipe and set beside what they
must beat.

Each member restarts as the search started it (sliced from the space's parent, seeded, or inherited from
the one-shot supernet) and trains ``--retrain-steps`` through the candidate pipeline. It is scored on the
test split of the first training data (all of it and its large-motion subset) and on every
``--retrain-eval`` data, beside the 50/50 blend, DIS and the parent on the same triplets; once every member
is trained, the members, the parent and the ``rife_v4_25`` preset are timed at 480x640 in turn over several
rounds (speedups are the median of the rounds' ratios), and each member is exported to ONNX.
``retrain.csv`` and ``retrain_baselines.csv`` in the search's folder hold the tables.
"""

from __future__ import annotations

import logging
import statistics

import pandas as pd
import torch

from results.files import write_csv
from rife_core.cost.latency import side_by_side_ms, speedup
from rife_core.cost.params import count_params
from rife_core.data.cache import cache_dir
from rife_core.data.spec import load
from rife_core.evaluation.baselines import METHODS
from rife_core.evaluation.evaluate import Predictor, evaluate, model_predictor
from rife_core.export.exporters import export_onnx
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.parents import resolve_parent
from rife_core.model.presets import create_model
from search.candidate import SEEDED, CandidateFailed, EvalSet, Inherited, Sliced, Start, run_candidate
from search.oneshot import train_supernet
from search.spec import SearchSpec
from space.space import SearchSpace

log = logging.getLogger(__name__)

DEPLOY_SIZE = (480, 640)  # the retrained models' latency is measured at this (H, W), as the parent's
REFERENCE_PRESET = "rife_v4_25"  # the released v4 network the latency is also compared with


def test_sets(spec: SearchSpec) -> dict[str, object]:
    """Name -> triplets every retrained member is scored on (the test split of each)."""
    first = spec.proxy.data[0]
    sets: dict[str, object] = {
        first: load(first, "test"),
        f"large_motion:{first}": load(f"large_motion:{first}", "test"),
    }
    for s in spec.retrain.eval:
        sets[s] = load(s, "test")
    return sets


def retrain_start(spec: SearchSpec, space: SearchSpace, parent: IFNet | None) -> tuple[str, Start]:
    """Where the members restart: ``--retrain-init``, else as the search started them."""
    init = spec.retrain.init or ("sliced" if parent is not None else spec.retrain_start)
    if init == "sliced":
        if parent is None:
            raise ValueError("--retrain-init sliced needs a space with a parent")
        return init, Sliced(parent, importance=spec.proxy.importance)
    if init == "inherited":
        supernet = train_supernet(SearchSpace.load(spec.space), spec.budget, spec.supernet, cache_dir() / "supernet")
        return init, Inherited(supernet, spec.retrain_config(space.parent))
    return init, SEEDED


def retrain(
    spec: SearchSpec, space: SearchSpace, df: pd.DataFrame, parent: IFNet | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Retrain the ``spec.retrain.top`` best front members (``parent``: the space's, already loaded, else
    loaded here); returns (members, baselines) and writes both."""
    top = df[df["pareto"]].sort_values("psnr", ascending=False).head(spec.retrain.top)
    if parent is None and space.parent is not None:
        parent = resolve_parent(space.parent)
    init, start = retrain_start(spec, space, parent)
    training = spec.retrain_config(space.parent)
    sets = test_sets(spec)
    evals = {f"test_psnr {name}": EvalSet(ds) for name, ds in sets.items()}
    backend = spec.proxy.latency_backend
    size = f"{DEPLOY_SIZE[0]}x{DEPLOY_SIZE[1]}"
    # What a member is timed against, side by side once every member is trained: the parent it was sliced
    # from and the released v4 network.
    compared: dict[str, torch.nn.Module] = {REFERENCE_PRESET: create_model(REFERENCE_PRESET)}
    if parent is not None:
        compared[f"parent {space.parent}"] = parent
    rows, trained = [], {}
    for _, r in top.iterrows():
        cfg = ArchConfig.from_json(r["config_json"])
        out = spec.out / "retrain" / f"{cfg.arch_id}_{init}"
        log.info(
            "retraining trial %d (%s) for %d steps from %s weights", r["trial"], cfg.arch_id, spec.retrain.steps, init
        )
        try:
            res = run_candidate(
                cfg, training, start=start, evals=evals, device=spec.proxy.device, out_dir=out, progress=True
            )
        except CandidateFailed as e:
            log.warning("retraining trial %d did not complete: %s", r["trial"], e)
            continue
        row = {
            "trial": r["trial"],
            "arch_id": cfg.arch_id,
            "params": count_params(cfg),
            "init": init,
            "steps": spec.retrain.steps,
            "train_minutes": round(res.train_s / 60, 1),
            "search_psnr": r["psnr"],
            "retrained_val_psnr": res.metrics.get("psnr"),
        }
        row.update({name: m["psnr"] for name, m in res.scores.items()})
        trained[cfg.arch_id] = res.model.cpu().eval()
        row["checkpoint"] = str(res.checkpoint)
        row["onnx"] = str(export_onnx(res.model, out / f"model_{size}.onnx", DEPLOY_SIZE))
        rows.append(row)
    timed = {**{k: m.cpu().eval() for k, m in compared.items()}, **trained}
    times = side_by_side_ms(timed, DEPLOY_SIZE, backend=backend)
    for row in rows:
        row[f"latency_ms {size} ({backend})"] = statistics.median(times[row["arch_id"]])
        for name in compared:
            row[f"speedup vs {name}"] = speedup(times, name, row["arch_id"])
    members = pd.DataFrame(rows)
    if rows:  # the paths last
        members = members[[c for c in members.columns if c not in ("checkpoint", "onnx")] + ["checkpoint", "onnx"]]
    methods: dict[str, Predictor] = dict(METHODS)
    if parent is not None:
        methods[f"parent {space.parent}"] = model_predictor(parent)
    base_rows = [
        {"data": name, **{m: evaluate(fn, ds)["psnr"] for m, fn in methods.items()}} for name, ds in sets.items()
    ]
    baselines = pd.DataFrame(base_rows)
    latency_row = {"data": f"latency_ms {size} ({backend})", **{k: statistics.median(times[k]) for k in compared}}
    baselines = pd.concat([baselines, pd.DataFrame([latency_row])], ignore_index=True)
    write_csv(members, spec.out / "retrain.csv")
    write_csv(baselines, spec.out / "retrain_baselines.csv")
    return members, baselines


def print_retrained(spec: SearchSpec, members: pd.DataFrame, baselines: pd.DataFrame) -> None:
    fmt = {"float_format": lambda v: f"{v:.4g}"}
    print(f"\nRetrained front members ({spec.retrain.steps} steps; PSNR in dB):")
    print(members.drop(columns=["checkpoint", "onnx"], errors="ignore").to_string(index=False, **fmt))
    print("\nBaselines on the same test triplets (PSNR in dB), and latency of the compared networks:")
    print(baselines.to_string(index=False, **fmt))
    for _, m in members.iterrows():
        print(f"\n{m['arch_id']}: checkpoint {m['checkpoint']}\n  ONNX {m['onnx']}")
        print(f"  on a video: python -m rife_core.interpolate VIDEO -o OUT.mp4 --checkpoint {m['checkpoint']}")
