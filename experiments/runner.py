"""Run an ablation: every (variant, seed) trained and scored once, cached, resumable, tracked in MLflow.

Each finished run is one JSON line in ``OUT/<name>/runs.jsonl`` (keyed by a hash of everything that decides
its result) and one MLflow run nested under the ablation's parent run; a re-run skips what is there. The key
holds no ablation name, so a run another ablation in ``OUT`` already finished (e.g. the shared ``lite_s``
control) is copied with ``reused_from`` naming it, not trained again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from experiments.spec import AblationSpec, Variant
from reports.files import append_jsonl, read_jsonl

log = logging.getLogger(__name__)

EXPERIMENT = "rife-nas-ablations"
EVAL_CROP = 256
LATENCY_REPEATS = 10


@dataclass(frozen=True)
class RunSettings:
    """What is fixed across an ablation besides the spec: it enters every run's cache key."""

    budget_scale: float = 1.0
    lpips: bool = True
    device: str = "auto"

    def key_fields(self) -> dict[str, Any]:
        return {"budget_scale": self.budget_scale, "lpips": self.lpips, "crop": EVAL_CROP}


class RunCache:
    """``runs.jsonl``: one line per finished (variant, seed); a line cut short by a kill is ignored."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict]:
        return {row["key"]: row for row in read_jsonl(self.path)}

    def append(self, row: dict) -> None:
        append_jsonl(self.path, row)


def eval_sets(spec: AblationSpec) -> dict[str, Any]:
    return {s: _eval_set(s) for s in spec.eval}


@cache
def _eval_set(spec: str) -> Any:
    """Loaded once per process: a large-motion subset runs DIS over every candidate triplet to select."""
    from rife_core.data.spec import load

    return load(spec, "val")


def baselines(spec: AblationSpec) -> dict[str, float]:
    """PSNR of the 50/50 blend on each eval set: the level a net that learned no motion sits at."""
    from rife_core.evaluation.baselines import blend
    from rife_core.evaluation.evaluate import evaluate

    return {
        s: evaluate(blend, ds, max_items=spec.eval_items, center=EVAL_CROP)["psnr"] for s, ds in eval_sets(spec).items()
    }


def stage_keys(variant: Variant, cfg: Any, weight_seed: int, device: str) -> list[str]:
    """Key of the training state after each stage but the last: equal keys, equal weights at that point.

    Variants that differ only in later stages (a fine-tune with another loss, say) share these, so the
    common stages train once (``trainer.train`` resumes exactly where a straight run would be).
    """
    out = []
    for k in range(1, len(cfg.stages)):
        train = {n: v for n, v in replace(cfg, stages=cfg.stages[:k]).to_dict().items() if n != "workers"}
        d = {"arch": variant.arch.to_dict(), "weight_seed": weight_seed, "train": train, "device": device}
        out.append(hashlib.sha256(json.dumps(d, sort_keys=True, default=list).encode()).hexdigest()[:12])
    return out


def run_one(
    spec: AblationSpec, variant: Variant, seed: int, settings: RunSettings, stage_dir: Path | None = None
) -> dict:
    """Train ``variant`` at ``seed``, then measure its cost and score it on every eval set.

    ``stage_dir``: where the states after shared first stages are kept (see ``stage_keys``); None trains
    every stage.
    """
    from rife_core.cost.report import measure_cost
    from rife_core.evaluation.evaluate import evaluate, model_predictor
    from rife_core.model.presets import create_model
    from rife_core.training.trainer import train
    from search.candidate import weight_seed

    cfg = variant.train_config(seed, (spec.eval[0],), settings.budget_scale)
    wseed = weight_seed(seed, variant.arch.arch_id)
    model = create_model(variant.arch, seed=wseed)
    resume, save, shared = None, {}, 0
    if stage_dir is not None:
        paths = [stage_dir / f"{k}.pt" for k in stage_keys(variant, cfg, wseed, settings.device)]
        shared = max((i + 1 for i, p in enumerate(paths) if p.is_file()), default=0)
        resume = paths[shared - 1] if shared else None
        save = {i: p for i, p in enumerate(paths) if i >= shared}
    t0 = time.perf_counter()
    res = train(model, cfg, device=settings.device, resume=resume, stage_checkpoints=save)
    row: dict[str, Any] = {"status": res.status, "train_seconds": time.perf_counter() - t0, "steps": res.step}
    if shared:
        row["shared_stages"] = shared  # trained by an earlier run; train_seconds counts only the rest
    if res.status != "completed":
        row["reason"] = res.message
        return row
    dev = next(model.parameters()).device
    for name, ds in eval_sets(spec).items():
        m = evaluate(
            model_predictor(model.eval()), ds, device=dev, max_items=spec.eval_items, center=EVAL_CROP,
            lpips_net="alex" if settings.lpips else None,
        )  # fmt: skip
        row.update({f"{k}@{name}": float(v) for k, v in m.items() if k in ("psnr", "ssim", "lpips")})
    cost = measure_cost(variant.arch, spec.size, repeats=LATENCY_REPEATS, threads=None)
    row.update(
        params=cost.params, macs=cost.macs, warp_share=cost.warp_share, latency_ms=cost.latency_ms,
        history=[[h["step"], round(h["psnr"], 3)] for h in res.history],
        history_blend=res.blend_psnr,
    )  # fmt: skip
    return row


class Tracker:
    """One MLflow parent run per ablation (found again on resume), a nested run per finished (variant, seed)."""

    def __init__(self, uri: str, spec: AblationSpec, artifacts: Path) -> None:
        from mlflow.tracking import MlflowClient

        from rife_core.cli.args import quiet_third_party_loggers
        from search.tracking import ML_EXPERIMENT

        quiet_third_party_loggers()
        self.client = MlflowClient(tracking_uri=uri)
        exp = self.client.get_experiment_by_name(EXPERIMENT)
        self.exp_id = (
            exp.experiment_id
            if exp
            else self.client.create_experiment(
                EXPERIMENT, artifact_location=artifacts.resolve().as_uri(), tags=ML_EXPERIMENT
            )
        )
        found = self.client.search_runs(
            [self.exp_id], f"tags.ablation = '{spec.name}' and tags.kind = 'ablation'", max_results=1
        )
        if found:
            self.parent = found[0].info.run_id
        else:
            run = self.client.create_run(
                self.exp_id, run_name=spec.name, tags={"ablation": spec.name, "kind": "ablation"}
            )
            self.parent = run.info.run_id
            self.client.log_param(self.parent, "idea", spec.idea[:500])
            self.client.log_param(self.parent, "control", spec.control)
            self.client.log_text(self.parent, json.dumps(spec.source, indent=1, default=str), "spec.json")

    def log_run(self, variant: Variant, seed: int, row: dict) -> None:
        tags = {"mlflow.parentRunId": self.parent, "ablation": row["ablation"], "variant": variant.name,
                "seed": str(seed), "key": row["key"]}  # fmt: skip
        run = self.client.create_run(self.exp_id, run_name=f"{variant.name} seed {seed}", tags=tags)
        rid = run.info.run_id
        self.client.log_param(rid, "arch", variant.arch.to_json()[:6000])
        self.client.log_param(rid, "train", json.dumps(variant.train, default=str)[:6000])
        self.client.log_param(rid, "data", ",".join(variant.data))
        for k, v in row.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                self.client.log_metric(rid, k.replace("@", "_at_").replace(":", "_"), float(v))
        self.client.set_terminated(rid, "FINISHED" if row["status"] == "completed" else "FAILED")

    def sync(self, stored: dict[str, tuple[Variant, int, dict]]) -> int:
        """Log the stored rows (by key) that have no finished MLflow run: killed between storing a row and
        logging it, or while logging it (a RUNNING run, replaced). Returns how many were logged."""
        runs = self.client.search_runs([self.exp_id], f"tags.mlflow.parentRunId = '{self.parent}'", max_results=5000)
        have = set()
        for r in runs:
            if r.info.status == "RUNNING":
                self.client.delete_run(r.info.run_id)
            else:
                have.add(r.data.tags.get("key"))
        missing = [k for k in stored if k not in have]
        for key in missing:
            self.log_run(*stored[key])
        if missing:
            log.info("MLflow: logged %d finished run(s) a stopped run had not logged", len(missing))
        return len(missing)

    def finish(self, files: list[Path], report: Path | None = None) -> None:
        for f in files:
            self.client.log_artifact(self.parent, str(f))
        if report is not None:
            self.client.log_artifacts(self.parent, str(report), "report")
        self.client.set_terminated(self.parent, "FINISHED")


def finished_elsewhere(out: Path, name: str) -> dict[str, dict]:
    """Completed runs of the other ablations in ``out``, by key (a copy is never a source itself)."""
    found: dict[str, dict] = {}
    for path in sorted(out.glob("*/runs.jsonl")):
        if path.parent.name == name:
            continue
        for key, row in RunCache(path).load().items():
            if row.get("status") == "completed" and "reused_from" not in row:
                found.setdefault(key, row)
    return found


def run_ablation(
    spec: AblationSpec,
    out: Path,
    settings: RunSettings,
    *,
    tracking_uri: str | None = None,
    on_run: Callable[[int, int, dict], None] | None = None,
) -> list[dict]:
    """Every (variant, seed) of ``spec``: cached rows are reused, missing ones trained. Returns all rows."""
    folder = out / spec.name
    cache = RunCache(folder / "runs.jsonl")
    done = cache.load()
    elsewhere = finished_elsewhere(out, spec.name)
    tracker = Tracker(tracking_uri or f"sqlite:///{(out / 'mlflow.db').resolve()}", spec, out / "mlartifacts")
    jobs = [(v, s) for s in range(spec.seeds) for v in spec.variants]  # seed-major: early seeds give pairs
    rows, t0, trained = [], time.perf_counter(), 0
    fixed = {**settings.key_fields(), "eval": list(spec.eval), "eval_items": spec.eval_items}
    todo = sum(v.key(s, fixed) not in done and v.key(s, fixed) not in elsewhere for v, s in jobs)
    by_key = {v.key(s, fixed): (v, s) for v, s in jobs}
    tracker.sync({k: (*by_key[k], row) for k, row in done.items() if k in by_key})  # what a kill left unlogged
    for k, (variant, seed) in enumerate(jobs, 1):
        key = variant.key(seed, fixed)
        if key in done:
            rows.append(done[key])
            continue
        row = {"ablation": spec.name, "variant": variant.name, "seed": seed, "key": key}
        if key in elsewhere:
            other = elsewhere[key]
            row.update({k: v for k, v in other.items() if k not in row}, reused_from=other["ablation"])
            cache.append(row)
            tracker.log_run(variant, seed, row)
            rows.append(row)
            log.info("run %d/%d  %s seed %d: the same run as in %s, reused", k, len(jobs), variant.name, seed,
                     other["ablation"])  # fmt: skip
            continue
        row.update(run_one(spec, variant, seed, settings, stage_dir=out / "stages"))
        cache.append(row)
        tracker.log_run(variant, seed, row)
        rows.append(row)
        trained += 1
        elapsed = time.perf_counter() - t0
        log.info(
            "run %d/%d  %s seed %d: %s  %s  elapsed %.0fs  ETA %.0fs",
            k, len(jobs), variant.name, seed, row["status"],
            f"{row.get(f'psnr@{spec.eval[0]}', float('nan')):.2f} dB" if row["status"] == "completed" else "",
            elapsed, elapsed / trained * (todo - trained),
        )  # fmt: skip
        if on_run is not None:
            on_run(k, len(jobs), row)
    return rows
