"""One Optuna trial: sample -> feasibility -> the candidate pipeline (with pruning) -> record -> objectives."""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path

import numpy as np
import optuna
import torch

from results.record import DATA_ERROR, INTERRUPTED, TrialRecord
from results.schema import objective_info
from rife_core.cost.params import count_params
from rife_core.cost.report import CostReport
from rife_core.data.frames import DataError
from rife_core.data.torch_data import center_crop, to_tensor
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.training.start import make_start, weight_seed
from search.candidate import CandidateFailed, run_candidate
from search.pruner import OPTUNA, PARETO, ParetoPruner, Reference, pruning_mode
from search.spec import SearchSpec
from space.space import SearchSpace

log = logging.getLogger(__name__)


WORKER = f"{socket.gethostname()}:{os.getpid()}"


class BadData(Exception):
    """Bad data met in a trial (e.g. a corrupt image): not one of Optuna's caught errors, so the search stops."""


def _own_message(e: Exception) -> str:
    """The error's own message; a DataLoader worker's error carries the worker's traceback before it."""
    text = str(e)
    if "Original Traceback" not in text:
        return text
    last = text.strip().splitlines()[-1]
    return last.split(": ", 1)[1] if last.startswith(type(e).__module__) else last


class TrialFailed(RuntimeError):
    """A trial that could not produce a result (diverged training, an error); the search goes on."""


CONSTRAINT_KEYS = ("params", "macs", "latency")
# Optuna 5 records constraints per trial (Trial.set_constraint); 4.x takes a constraints_func on the sampler.
NATIVE_CONSTRAINTS = hasattr(optuna.trial.Trial, "set_constraint")


def constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
    """Optuna constraint values (<= 0 is feasible): parameter, MAC and latency excess over the limits."""
    return list(TrialRecord.of(trial.user_attrs).constraints or [0.0, 0.0, 0.0])


def record_constraints(trial: optuna.Trial, record: TrialRecord, excess: list[float], keys: tuple[str, ...]) -> None:
    record.set(trial, constraints=list(excess))
    if NATIVE_CONSTRAINTS:
        for key in keys:
            trial.set_constraint(key, excess[CONSTRAINT_KEYS.index(key)])


def latency_excess_ms(spec: SearchSpec, cost: CostReport) -> float:
    """Milliseconds over the stricter latency limit (<= 0 within): ``max_latency_ms``, and ``max_latency_dis``
    as ms over that many times DIS-medium's time in the same probe; 0 without limits."""
    excess = []
    if spec.max_latency_ms is not None:
        excess.append(cost.latency_ms - spec.max_latency_ms)
    if spec.max_latency_dis is not None:
        if cost.latency_ratio is None or cost.reference_ms is None:
            raise ValueError("--max-latency-dis needs the candidate timed in turn with DIS-medium (the search's probe)")
        excess.append((cost.latency_ratio - spec.max_latency_dis) * cost.reference_ms)
    return max(excess, default=0.0)


def check_parent(space: SearchSpace, parent: IFNet | None) -> None:
    """Refuse a space that names a parent without the loaded parent: it is loaded once per process, by the
    command, and passed down."""
    if space.parent is not None and parent is None:
        raise ValueError(
            f"the space's candidates start from the parent {space.parent}: load it once "
            "(rife_core.model.parents.resolve_parent) and pass it"
        )


def trial_dir(out: Path, number: int) -> Path:
    return out / "trials" / f"{number:04d}"


class Objective:
    """The study's objective; built once per search and shared by its worker threads."""

    def __init__(self, spec: SearchSpec, space: SearchSpace, fingerprint: str, parent: IFNet | None = None) -> None:
        check_parent(space, parent)
        self.spec = spec
        # sliced from the space's parent where it names one (loaded by the command), else seeded
        self.start = make_start(parent, importance=spec.proxy.importance, fit=spec.proxy.fit)
        self.space = space
        self.proxy = spec.proxy
        self.fingerprint = fingerprint
        self.pruning = pruning_mode(spec.objectives, spec.pruning)
        self.pruner = ParetoPruner(margin_db=spec.prune_margin_db, warmup_steps=spec.proxy.val_every)

    # --- the trial ----------------------------------------------------------------------------------
    def __call__(self, trial: optuna.Trial) -> tuple[float, ...] | float:
        rec = TrialRecord()
        try:
            return self._run(trial, rec)
        except optuna.TrialPruned:
            raise
        except KeyboardInterrupt:  # Optuna marks it failed; the reason keeps it out of the count, so it reruns
            rec.set(trial, fail_reason=INTERRUPTED)
            raise
        except DataError as e:  # the data's fault, not the architecture's: stop the search, redo the trial later
            message = _own_message(e)
            rec.set(trial, fail_reason=f"{DATA_ERROR}{message}")
            raise BadData(message) from e
        except Exception as e:  # stored, so that a failure is told apart from a trial killed mid-run
            if rec.fail_reason is None:
                rec.set(trial, fail_reason=f"{type(e).__name__}: {e}")
            raise

    def _run(self, trial: optuna.Trial, rec: TrialRecord) -> tuple[float, ...] | float:
        rec.set(trial, worker=WORKER)
        cfg = self.space.sample(trial)
        params = count_params(cfg)
        rec.set(
            trial,
            arch_id=cfg.arch_id,
            config_json=cfg.to_json(),
            fingerprint=self.fingerprint,
            weight_seed=weight_seed(self.proxy.seed, cfg.arch_id),
            params=params,
        )
        excess = [float(params - self.spec.budget + 1), 0.0, 0.0]
        if excess[0] > 0:
            record_constraints(trial, rec, excess, CONSTRAINT_KEYS)
            self._infeasible(trial, rec, f"{params:,} parameters >= budget {self.spec.budget:,}")
        record_constraints(trial, rec, excess, ("params",))

        reused = self._reuse(trial, rec, cfg)
        if reused is not None:
            return reused

        t0 = time.perf_counter()

        def on_cost(cost: CostReport) -> None:
            rec.set(trial, macs=cost.macs, macs_warp=cost.macs_warp, latency_ms=cost.latency_ms)
            rec.set(trial, latency_dis=cost.latency_ratio)
            rec.set(trial, overhead_s=time.perf_counter() - t0)  # building and cost probes
            if self.spec.max_macs is not None:
                excess[1] = float(cost.macs - self.spec.max_macs)
            excess[2] = latency_excess_ms(self.spec, cost)
            record_constraints(trial, rec, excess, ("macs", "latency"))
            if excess[1] > 0 or excess[2] > 0:
                ratio = f" (x{cost.latency_ratio:.2f} DIS-medium)" if cost.latency_ratio is not None else ""
                self._infeasible(
                    trial, rec, f"MACs {cost.macs:.3g} / latency {cost.latency_ms:.1f} ms{ratio} over the limit"
                )

        out_dir = trial_dir(self.spec.out, trial.number)
        try:
            result = run_candidate(
                cfg,
                self.proxy.train_config(parent=self.space.parent),
                start=self.start,
                evals={"val": self.proxy.evaluation()} if self.proxy.lpips else {},
                cost=self.proxy.cost_probe(),
                device=self.proxy.device,
                out_dir=out_dir,
                on_cost=on_cost,
                on_validation=self._hook(trial, rec),
            )
        except CandidateFailed as e:
            rec.set(trial, fail_reason=str(e))
            raise TrialFailed(str(e)) from e
        final = {**result.scores.get("val", {}), **result.metrics}
        rec.set(
            trial,
            train_s=result.train_s,
            checkpoint=str(result.checkpoint),
            inherited_share=round(result.inherited_share, 4),
            start_shares={k: round(v, 4) for k, v in result.start_shares.items()},
        )
        rec.set(trial, **{k: float(final[k]) for k in ("psnr", "ssim", "lpips", "ie") if k in final})
        self._image_strip(result.model, out_dir)
        return self._objectives(rec)

    def _hook(self, trial: optuna.Trial, rec: TrialRecord):
        curve: dict[str, float] = {}

        def hook(step: int, metrics: dict[str, float]) -> None:
            curve[str(step)] = metrics["psnr"]
            rec.set(trial, curve=dict(curve))
            if self.pruning == PARETO:
                cost = float(getattr(rec, objective_info(self.spec.cost_objective).column))
                decision = self.pruner.decide(step, metrics["psnr"], cost, self._references(trial.study))
                if decision.prune:
                    rec.set(trial, pruned_by=decision.to_dict())
                    raise optuna.TrialPruned(decision.reason)
            elif self.pruning == OPTUNA:
                trial.report(metrics[objective_info(self.spec.objectives[0]).column], step)
                if trial.should_prune():
                    rec.set(trial, pruned_by={"prune": True, "step": step, "reason": "optuna pruner"})
                    raise optuna.TrialPruned(f"pruned by {type(trial.study.pruner).__name__} at step {step}")

        return hook

    # --- helpers ------------------------------------------------------------------------------------
    def _infeasible(self, trial: optuna.Trial, rec: TrialRecord, reason: str) -> None:
        rec.set(trial, infeasible=True, infeasible_reason=reason)
        raise optuna.TrialPruned(f"infeasible: {reason}")

    def _objectives(self, rec: TrialRecord) -> tuple[float, ...] | float:
        values = tuple(float(getattr(rec, objective_info(o).column)) for o in self.spec.objectives)
        return values if len(values) > 1 else values[0]

    def _reuse(self, trial: optuna.Trial, rec: TrialRecord, cfg: ArchConfig):
        """A repeated architecture under the same settings reuses the results of its first complete trial."""
        for t in trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            first = TrialRecord.of(t.user_attrs)
            if t.number == trial.number or first.reused_from is not None:
                continue
            if first.arch_id == cfg.arch_id and first.fingerprint == self.fingerprint:
                rec.set(trial, **first.results(), reused_from=t.number)
                record_constraints(trial, rec, constraints(t), ("macs", "latency"))
                log.info("trial %d repeats architecture %s of trial %d: reused", trial.number, cfg.arch_id, t.number)
                return self._objectives(rec)
        return None

    def _references(self, study: optuna.Study) -> list[Reference]:
        column = objective_info(self.spec.cost_objective).column
        refs = []
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            r = TrialRecord.of(t.user_attrs)
            cost = getattr(r, column)
            if r.curve and cost is not None and r.reused_from is None:
                refs.append(Reference(t.number, float(cost), {int(k): v for k, v in r.curve.items()}))
        return refs

    def _image_strip(self, model: IFNet, out_dir: Path) -> None:
        """frame0 | prediction | ground truth | error (x4), from the first validation triplet."""
        from PIL import Image

        tri = center_crop(self.proxy.val_set()[0], self.proxy.val_crop)
        dev = next(model.parameters()).device
        a, b = (to_tensor(x).unsqueeze(0).to(dev) for x in (tri.img0, tri.img1))
        with torch.no_grad():
            pred = model.eval()(a, b, torch.tensor([tri.t], device=dev)).frame[0].clamp(0, 1)
        pred_u8 = (pred.permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
        err = np.clip(np.abs(pred_u8.astype(int) - tri.imgt.astype(int)) * 4, 0, 255).astype(np.uint8)
        out_dir.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate([tri.img0, pred_u8, tri.imgt, err], axis=1)).save(out_dir / "strip.png")


__all__ = ["Objective", "TrialFailed", "constraints"]
