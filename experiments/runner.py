"""Run an ablation: every (variant, seed) trained and scored once, cached, resumable, tracked in MLflow.

Each finished run is one JSON line in ``OUT/<name>/runs.jsonl`` (keyed by a hash of everything that decides
its result) and one MLflow run nested under the ablation's parent run; a re-run skips what is there. The key
holds no ablation name, so a run another ablation in ``OUT`` already finished (e.g. the shared ``lite_s``
control) is copied with ``reused_from`` naming it, not trained again. Every run starts as the spec says
(``start``: sliced from its ``parent``, or seeded), from the one start constructor the search uses.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from experiments.parent_child import served
from experiments.spec import EVAL_CROP, AblationSpec, SpecError, Variant
from results.files import JsonlCache, content_key
from results.paired import kernels
from rife_core.data.spec import load
from rife_core.machine import machine_info
from rife_core.model.ifnet import IFNet
from rife_core.model.parents import resolve_parent
from rife_core.training.checkpoint import resolve_device
from rife_core.training.start import SLICED, Start, make_start, weight_seed
from search.candidate import CandidateFailed, CostProbe, EvalSet, run_candidate
from search.tracking import MlflowWriter

log = logging.getLogger(__name__)

EXPERIMENT = "rife-nas-ablations"
LATENCY_REPEATS = 10


@dataclass(frozen=True)
class RunSettings:
    """What is fixed across an ablation besides the spec: it enters every run's cache key."""

    budget_scale: float = 1.0
    lpips: bool = True
    device: str = "auto"

    def key_fields(self) -> dict[str, Any]:
        return {"budget_scale": self.budget_scale, "lpips": self.lpips, "crop": EVAL_CROP}


def run_cache(path: Path) -> JsonlCache:
    """``runs.jsonl``: one line per finished (variant, seed) and kernels, by (key, kernels)."""
    return JsonlCache(path, lambda row: (row["key"], kernels(row)))


def entry_tag(entry: tuple[str, str]) -> str:
    """A stored run's (key, kernels) as one MLflow tag."""
    return f"{entry[0]} on {entry[1]}"


def here(device: str) -> dict[str, Any]:
    """The ``machine`` record of runs trained by this process on ``device`` (``auto`` resolved)."""
    return machine_info(str(resolve_device(device)))


def plan_runs(
    spec: AblationSpec, fixed: dict[str, Any], have: set[tuple[str, str]], local: str
) -> list[tuple[Variant, int, list[str]]]:
    """For each (variant, seed) of ``spec``, the kernels whose run of it the comparison uses.

    A variant's run pairs with the control's run of the same seed on the same kernels: where such a pair is
    in ``have`` ((key, kernels) of stored runs) it is used (the ``local`` kernels first), else both are
    trained on ``local``. The control's job lists every kernels a variant's pair needs."""
    ctl = spec.variant(spec.control)
    need: dict[tuple[str, int], list[str]] = {}
    for v, seed in spec.jobs():
        if v.name == spec.control:
            continue
        vk, ck = v.key(seed, fixed), ctl.key(seed, fixed)
        both = sorted({g for k, g in have if k == vk and (ck, g) in have}, key=lambda g: (g != local, g))
        group = both[0] if both else local
        need[(v.name, seed)] = [group]
        groups = need.setdefault((ctl.name, seed), [])
        if group not in groups:
            groups.append(group)
    return [(v, seed, need.get((v.name, seed)) or [local]) for v, seed in spec.jobs()]


def eval_sets(spec: AblationSpec, lpips: bool = False) -> dict[str, EvalSet]:
    """Each eval set of ``spec`` by name, scored as its entry says (split, crop, items)."""
    return {
        e.name: EvalSet(_eval_set(e.data, e.split), max_items=e.items, center=e.crop, lpips=lpips) for e in spec.evals
    }


@cache
def _eval_set(spec: str, split: str) -> Any:
    """Loaded once per process: a large-motion subset runs DIS over every candidate triplet to select."""

    return load(spec, split)


def baselines(spec: AblationSpec) -> dict[str, float]:
    """PSNR of the 50/50 blend on each eval set: the level a net that learned no motion sits at."""

    return {name: es.blend_psnr() for name, es in eval_sets(spec).items()}


def check_served(spec: AblationSpec) -> dict[str, str]:
    """Each variant of a spec on a parent: how the parent serves it; raises ``SpecError`` naming every
    variant it cannot serve and why, before any training. Empty for a spec without a parent."""
    if spec.start.parent is None or spec.start.kind != SLICED:
        return {}
    out, refused = {}, []
    for v in spec.variants:
        ok, how = served(spec.start.parent, v.arch)
        out[v.name] = how
        if not ok:
            refused.append(f"{v.name}: {how}")
    if refused:
        raise SpecError(f"spec {spec.name}: the parent {spec.start.parent} cannot serve " + "; ".join(refused))
    return out


def load_spec_parent(spec: AblationSpec) -> IFNet | None:
    """The spec's parent, loaded (once per command); None where it names none."""
    return resolve_parent(spec.start.parent) if spec.start.parent is not None else None


def spec_start(spec: AblationSpec, parent: IFNet | None) -> Start:
    """Every run's start: the spec's kind from ``parent`` (``load_spec_parent``)."""
    if spec.start.parent is not None and parent is None:
        raise ValueError(f"spec {spec.name} starts from the parent {spec.start.parent}: load it and pass it")
    return make_start(parent, spec.start.kind, importance=spec.start.importance)


def stage_keys(
    variant: Variant, cfg: Any, weight_seed: int, device: str, start: dict[str, Any] | None = None
) -> list[str]:
    """Key of the training state after each stage but the last: equal keys, equal weights at that point.

    Variants that differ only in later stages (a fine-tune with another loss, say) share these, so the
    common stages train once (``trainer.train`` resumes exactly where a straight run would be).
    """
    out = []
    for k in range(1, len(cfg.stages)):
        train = {n: v for n, v in replace(cfg, stages=cfg.stages[:k]).to_dict().items() if n != "workers"}
        d = {"arch": variant.arch.to_dict(), "weight_seed": weight_seed, "train": train, "device": device}
        out.append(content_key({**d, **(start or {})}))  # a seeded start adds nothing: keys read as before
    return out


def run_one(
    spec: AblationSpec,
    variant: Variant,
    seed: int,
    settings: RunSettings,
    stage_dir: Path | None = None,
    start: Start | None = None,
) -> dict:
    """Train ``variant`` at ``seed`` from ``start`` (``spec_start``; None: seeded) through the candidate
    pipeline and score it on every eval set.

    ``stage_dir``: where the states after shared first stages are kept (see ``stage_keys``); None trains
    every stage.
    """
    cfg = variant.train_config(seed, (spec.evals[0].data,), settings.budget_scale, spec.start.parent)
    resume, save, shared = None, {}, 0
    if stage_dir is not None:
        wseed = weight_seed(seed, variant.arch.arch_id)
        keys = stage_keys(variant, cfg, wseed, settings.device, spec.start.key_fields())
        paths = [stage_dir / f"{k}.pt" for k in keys]
        shared = max((i + 1 for i, p in enumerate(paths) if p.is_file()), default=0)
        resume = paths[shared - 1] if shared else None
        save = {i: p for i, p in enumerate(paths) if i >= shared}
    evals = eval_sets(spec, settings.lpips)
    t0 = time.perf_counter()
    try:
        res = run_candidate(
            variant.arch,
            cfg,
            start=start,
            evals=evals,
            cost=CostProbe(spec.size, repeats=LATENCY_REPEATS, warmup=3),
            device=settings.device,
            resume=resume,
            stage_checkpoints=save,
        )
    except CandidateFailed as e:
        assert e.trained is not None
        row: dict[str, Any] = {
            "status": e.trained.status,
            "train_seconds": time.perf_counter() - t0,
            "steps": e.trained.step,
            "reason": str(e),
        }
        if shared:
            row["shared_stages"] = shared
        return row
    trained = res.trained
    assert trained is not None and res.cost is not None
    row = {"status": trained.status, "train_seconds": res.train_s, "steps": trained.step}
    if shared:
        row["shared_stages"] = shared  # trained by an earlier run; train_seconds counts only the rest
    for name, m in res.scores.items():
        row.update({f"{k}@{name}": float(v) for k, v in m.items() if k in ("psnr", "ssim", "lpips")})
    row.update(
        params=res.cost.params,
        macs=res.cost.macs,
        warp_share=res.cost.warp_share,
        latency_ms=res.cost.latency_ms,
        history=[[h["step"], round(h["psnr"], 3)] for h in trained.history],
        history_blend=trained.blend_psnr,
    )
    if res.start_shares:
        row["start_shares"] = {k: round(v, 4) for k, v in res.start_shares.items()}
    return row


class Tracker:
    """One MLflow parent run per ablation (found again on resume), a nested run per finished (variant, seed)."""

    def __init__(self, uri: str, spec: AblationSpec, artifacts: Path) -> None:
        def describe(client: Any, run_id: str) -> None:
            client.log_param(run_id, "idea", spec.idea[:500])
            client.log_param(run_id, "control", spec.control)
            client.log_param(run_id, "start", json.dumps(asdict(spec.start)))
            client.log_text(run_id, json.dumps(spec.source, indent=1, default=str), "spec.json")

        self.writer = MlflowWriter(
            uri,
            EXPERIMENT,
            {"ablation": spec.name, "kind": "ablation"},
            spec.name,
            artifacts=artifacts,
            on_new_parent_run=describe,
        )
        self.client, self.exp_id = self.writer.client, self.writer.experiment_id
        self.parent_run_id = self.writer.parent_run_id

    def log_run(self, variant: Variant, seed: int, row: dict) -> None:
        tags = {"ablation": row["ablation"], "variant": variant.name, "seed": str(seed), "key": row["key"]}
        tags.update(kernels=kernels(row), entry=entry_tag((row["key"], kernels(row))))
        rid = self.writer.start_nested(f"{variant.name} seed {seed}", tags)
        self.client.log_param(rid, "arch", variant.arch.to_json()[:6000])
        self.client.log_param(rid, "train", json.dumps(variant.train, default=str)[:6000])
        self.client.log_param(rid, "data", ",".join(variant.data))
        for k, v in row.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                self.client.log_metric(rid, k.replace("@", "_at_").replace(":", "_"), float(v))
        self.client.set_terminated(rid, "FINISHED" if row["status"] == "completed" else "FAILED")

    def sync(self, stored: dict[tuple[str, str], tuple[Variant, int, dict]]) -> int:
        """Log the stored rows (by key and kernels) that have no finished MLflow run: killed between storing a
        row and logging it, or while logging it (a RUNNING run, replaced). Returns how many were logged."""
        return self.writer.sync({entry_tag(e): (lambda v=v: self.log_run(*v)) for e, v in stored.items()}, "entry")

    def finish(self, files: list[Path], report: Path | None = None) -> None:
        for f in files:
            self.client.log_artifact(self.parent_run_id, str(f))
        if report is not None:
            self.client.log_artifacts(self.parent_run_id, str(report), "report")
        self.client.set_terminated(self.parent_run_id, "FINISHED")


def finished_elsewhere(out: Path, name: str) -> dict[tuple[str, str], dict]:
    """Completed runs of the other ablations in ``out``, by (key, kernels) (a copy is never a source)."""
    found: dict[tuple[str, str], dict] = {}
    for path in sorted(out.glob("*/runs.jsonl")):
        if path.parent.name == name:
            continue
        for entry, row in run_cache(path).load().items():
            if row.get("status") == "completed" and "reused_from" not in row:
                found.setdefault(entry, row)
    return found


def run_ablation(
    spec: AblationSpec,
    out: Path,
    settings: RunSettings,
    *,
    tracking_uri: str | None = None,
    on_run: Callable[[int, int, dict], None] | None = None,
    parent: IFNet | None = None,
) -> list[dict]:
    """Every (variant, seed) of ``spec``: cached rows are reused, missing ones trained. Returns all rows.

    ``parent``: the spec's parent, loaded once by the command (``load_spec_parent``)."""
    start = spec_start(spec, parent)
    folder = out / spec.name
    cache = run_cache(folder / "runs.jsonl")
    done = cache.load()
    elsewhere = finished_elsewhere(out, spec.name)
    tracker = Tracker(tracking_uri or f"sqlite:///{(out / 'mlflow.db').resolve()}", spec, out / "mlartifacts")
    rows, t0, trained = [], time.perf_counter(), 0
    fixed = {**settings.key_fields(), "eval": list(spec.eval), "eval_items": spec.eval_items, **spec.start.key_fields()}
    machine = here(settings.device)
    local = kernels({"machine": machine})
    jobs = plan_runs(spec, fixed, set(done) | set(elsewhere), local)
    todo = sum(
        (v.key(s, fixed), g) not in done and (v.key(s, fixed), g) not in elsewhere for v, s, gs in jobs for g in gs
    )
    log.info("%d run(s) to train on %s", todo, local)
    by_entry = {(v.key(s, fixed), g): (v, s) for v, s, gs in jobs for g in gs}
    tracker.sync({e: (*by_entry[e], row) for e, row in done.items() if e in by_entry})  # what a kill left unlogged
    for k, (variant, seed, groups) in enumerate(jobs, 1):
        key = variant.key(seed, fixed)
        for group in groups:
            if (key, group) in done:
                rows.append(done[(key, group)])
                continue
            row = {"ablation": spec.name, "variant": variant.name, "seed": seed, "key": key}
            if (key, group) in elsewhere:
                other = elsewhere[(key, group)]
                row.update({k: v for k, v in other.items() if k not in row}, reused_from=other["ablation"])
                cache.append(row)
                tracker.log_run(variant, seed, row)
                rows.append(row)
                log.info(
                    "run %d/%d  %s seed %d: the same run as in %s, reused",
                    k,
                    len(jobs),
                    variant.name,
                    seed,
                    row["reused_from"],
                )
                continue
            assert group == local, group  # plan_runs trains only here
            row.update(run_one(spec, variant, seed, settings, stage_dir=out / "stages", start=start))
            row["machine"] = machine  # scores reproduce on the same kernels (results.paired.kernels)
            cache.append(row)
            tracker.log_run(variant, seed, row)
            rows.append(row)
            trained += 1
            elapsed = time.perf_counter() - t0
            log.info(
                "run %d/%d  %s seed %d: %s  %s  elapsed %.0fs  ETA %.0fs",
                k,
                len(jobs),
                variant.name,
                seed,
                row["status"],
                f"{row.get(f'psnr@{spec.evals[0].name}', float('nan')):.2f} dB" if row["status"] == "completed" else "",
                elapsed,
                elapsed / trained * (todo - trained),
            )
            if on_run is not None:
                on_run(k, len(jobs), row)
    return rows
