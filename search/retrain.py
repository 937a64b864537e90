"""``--retrain-top K``: the best front members trained by the deployment recipe and set beside what they
must beat.

Each member restarts as the search started it (sliced from the space's parent, or seeded) and trains
``--retrain-steps`` through the candidate pipeline. It is scored on the test split of the first training
data (all of it and its large-motion subset) and on every ``--retrain-eval`` data, beside the 50/50 blend,
DIS (each preset) and the parent on the same triplets; once every member is trained, the members, the
parent, the ``rife_v4_25`` preset, the blend and DIS at each preset are timed at ``--latency-size``
(480x640) in turn over several rounds (speedups and ``latency_dis``, the time over DIS-medium's, are the
median of the rounds' ratios), and each member is exported to ONNX. ``retrain.csv`` and
``retrain_baselines.csv`` in the search's folder hold the tables; ``reports.figures.time_quality_figure``
draws them.
"""

from __future__ import annotations

import logging
import statistics

import pandas as pd
import torch

from results.files import write_csv
from rife_core.cost.latency import side_by_side_ms, speedup
from rife_core.cost.params import count_params
from rife_core.data.spec import load
from rife_core.evaluation.baselines import TIMED_METHODS, baseline_psnr
from rife_core.export.exporters import export_onnx
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import create_model
from rife_core.training.start import Start, StartError, make_start
from search.baselines import DIS_PRESETS_COMPARED
from search.candidate import CandidateFailed, EvalSet, run_candidate
from search.objective import check_parent
from search.spec import SearchSpec
from space.space import SearchSpace

log = logging.getLogger(__name__)

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


def retrain_start(spec: SearchSpec, parent: IFNet | None) -> Start:
    """Where the members restart: ``--retrain-init``, else as the search started them."""
    try:
        return make_start(parent, spec.retrain.init, importance=spec.proxy.importance)
    except StartError as e:
        raise ValueError(f"--retrain-init: {e}") from e


def retrain(
    spec: SearchSpec, space: SearchSpace, df: pd.DataFrame, parent: IFNet | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Retrain the ``spec.retrain.top`` best front members (``parent``: the space's, loaded once by the
    command); returns (members, baselines) and writes both."""
    check_parent(space, parent)
    top = df[df["pareto"]].sort_values("psnr", ascending=False).head(spec.retrain.top)
    start = retrain_start(spec, parent)
    init = start.kind
    training = spec.retrain_config(space.parent)
    sets = test_sets(spec)
    evals = {f"test_psnr {name}": EvalSet(ds) for name, ds in sets.items()}
    backend = spec.proxy.latency_backend
    deploy = spec.proxy.latency_size
    size = f"{deploy[0]}x{deploy[1]}"
    # What a member is timed against, side by side once every member is trained: the parent it was sliced
    # from, the released v4 network, and the classical methods (DIS at each preset, the blend).
    compared: dict[str, torch.nn.Module] = {REFERENCE_PRESET: create_model(REFERENCE_PRESET)}
    if parent is not None:
        compared[f"parent {space.parent}"] = parent
    classical = {name: make() for name, make in TIMED_METHODS.items()}
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
        row["onnx"] = str(export_onnx(res.model, out / f"model_{size}.onnx", deploy))
        rows.append(row)
    timed = {**{k: m.cpu().eval() for k, m in compared.items()}, **classical, **trained}
    times = side_by_side_ms(timed, deploy, backend=backend)
    for row in rows:
        row[f"latency_ms {size} ({backend})"] = statistics.median(times[row["arch_id"]])
        row["latency_dis"] = speedup(times, row["arch_id"], "dis")
        for name in compared:
            row[f"speedup vs {name}"] = speedup(times, name, row["arch_id"])
    members = pd.DataFrame(rows)
    if rows:  # the paths last
        members = members[[c for c in members.columns if c not in ("checkpoint", "onnx")] + ["checkpoint", "onnx"]]
    parents = {f"parent {space.parent}": parent} if parent is not None else {}
    base_rows = [
        {"data": name, **baseline_psnr(ds, parents, dis_presets=DIS_PRESETS_COMPARED)} for name, ds in sets.items()
    ]
    baselines = pd.DataFrame(base_rows)
    methods = [*compared, *classical]
    latency_row = {"data": f"latency_ms {size} ({backend})", **{k: statistics.median(times[k]) for k in methods}}
    ratio_row = {"data": "latency_dis", **{k: speedup(times, k, "dis") for k in methods}}
    baselines = pd.concat([baselines, pd.DataFrame([latency_row, ratio_row])], ignore_index=True)
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
