"""One trial: sample -> feasibility -> cost -> proxy training with pruning -> objectives."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import optuna
import torch

from rife_core.cost.latency import measure_latency
from rife_core.cost.macs import count_macs
from rife_core.cost.params import count_params
from rife_core.data.spec import load
from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.trainer import train
from search.pruner import ParetoPruner, Reference
from search.spec import SearchSpec
from space.space import SearchSpace

log = logging.getLogger(__name__)

# Keys of the trial user attributes that make up the results table.
METRIC_KEYS = ("params", "macs", "macs_warp", "latency_ms", "psnr", "ssim", "lpips", "ie")
OBJECTIVE_ATTR = {
    "psnr": "psnr",
    "ssim": "ssim",
    "lpips": "lpips",
    "macs": "macs",
    "params": "params",
    "latency": "latency_ms",
}


INTERMEDIATE = ("psnr", "ssim")  # objectives that validation reports during training


class TrialFailed(RuntimeError):
    """A trial that could not produce a result (diverged training, an error); the search goes on."""


CONSTRAINT_KEYS = ("params", "macs", "latency")
# Optuna 5 records constraints per trial (Trial.set_constraint); 4.x takes a constraints_func on the sampler.
NATIVE_CONSTRAINTS = hasattr(optuna.trial.Trial, "set_constraint")


def constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
    """Optuna constraint values (<= 0 is feasible): parameter, MAC and latency excess over the limits."""
    return list(trial.user_attrs.get("constraints", [0.0, 0.0, 0.0]))


def record_constraints(trial: optuna.Trial, excess: list[float], keys: tuple[str, ...] = CONSTRAINT_KEYS) -> None:
    trial.set_user_attr("constraints", list(excess))
    if NATIVE_CONSTRAINTS:
        for key in keys:
            trial.set_constraint(key, excess[CONSTRAINT_KEYS.index(key)])


def is_infeasible(trial: optuna.trial.FrozenTrial) -> bool:
    return bool(trial.user_attrs.get("infeasible", False))


class Objective:
    def __init__(self, spec: SearchSpec, space: SearchSpace) -> None:
        self.spec = spec
        self.space = space
        self.pruner = ParetoPruner(margin_db=spec.prune_margin_db, warmup_steps=spec.proxy_val_every)
        self.multi = len(spec.objectives) > 1
        self._val = None

    @property
    def val_set(self):
        if self._val is None:
            from rife_core.data.triplets import ConcatTriplets

            specs = self.spec.val_data or self.spec.data
            self._val = ConcatTriplets("val", [load(s, "val", seed=self.spec.seed) for s in specs])
        return self._val

    def train_config(self, steps: int | None = None) -> TrainConfig:
        s = self.spec
        return TrainConfig(
            data=s.data,
            val_data=s.val_data,
            stages=(Stage(steps=steps or s.proxy_steps, crop=s.proxy_crop, batch_size=s.proxy_batch, lr=s.proxy_lr),),
            loss=dict(s.proxy_loss),
            warmup_steps=min(50, (steps or s.proxy_steps) // 10),
            seed=s.seed,
            val_every=s.proxy_val_every,
            val_items=s.val_items,
            val_crop=s.val_crop,
            workers=s.workers,
        )

    # --- the trial ----------------------------------------------------------------------------------
    def __call__(self, trial: optuna.Trial) -> tuple[float, ...] | float:
        cfg = self.space.sample(trial)
        params = count_params(cfg)
        trial.set_user_attr("arch_id", cfg.arch_id)
        trial.set_user_attr("config_json", cfg.to_json())
        trial.set_user_attr("params", params)
        excess = [float(params - self.spec.budget + 1), 0.0, 0.0]
        if excess[0] > 0:
            record_constraints(trial, excess)
            self._infeasible(trial, f"{params:,} parameters >= budget {self.spec.budget:,}")
        record_constraints(trial, excess, ("params",))

        reused = self._reuse(trial, cfg)
        if reused is not None:
            return reused

        t0 = time.perf_counter()
        model = IFNet(cfg)
        macs = count_macs(model.eval(), self.spec.size)
        lat = measure_latency(model, self.spec.size, repeats=5, warmup=2)
        trial.set_user_attr("macs", macs.total)
        trial.set_user_attr("macs_warp", macs.warp)
        trial.set_user_attr("latency_ms", lat.median_ms)
        if self.spec.max_macs is not None:
            excess[1] = float(macs.total - self.spec.max_macs)
        if self.spec.max_latency_ms is not None:
            excess[2] = lat.median_ms - self.spec.max_latency_ms
        record_constraints(trial, excess, ("macs", "latency"))
        if excess[1] > 0 or excess[2] > 0:
            self._infeasible(trial, f"MACs {macs.total:.3g} / latency {lat.median_ms:.1f} ms over the limit")
        trial.set_user_attr("overhead_s", time.perf_counter() - t0)

        curve: dict[int, float] = {}
        cost = float(trial.user_attrs[OBJECTIVE_ATTR[self.spec.cost_objective]])

        def hook(step: int, metrics: dict[str, float]) -> None:
            curve[step] = metrics["psnr"]
            trial.set_user_attr("curve", {str(k): v for k, v in curve.items()})
            if not self.spec.pruning:
                return
            if self.multi:
                decision = self.pruner.decide(step, metrics["psnr"], cost, self._references(trial.study))
                if decision.prune:
                    trial.set_user_attr("pruned_by", decision.to_dict())
                    raise optuna.TrialPruned(decision.reason)
            elif self.spec.objectives[0] in INTERMEDIATE:
                # Single objective: Optuna's own pruner, fed the objective's intermediate values.
                trial.report(metrics[self.spec.objectives[0]], step)
                if trial.should_prune():
                    trial.set_user_attr("pruned_by", {"prune": True, "step": step, "reason": "optuna pruner"})
                    raise optuna.TrialPruned(f"pruned by {type(trial.study.pruner).__name__} at step {step}")

        out_dir = self.spec.out / "trials" / f"{trial.number:04d}"
        t1 = time.perf_counter()
        result = train(model, self.train_config(), out_dir=out_dir, device=self.spec.device, on_validation=hook)
        trial.set_user_attr("train_s", time.perf_counter() - t1)
        if result.status != "completed":
            trial.set_user_attr("fail_reason", result.message)
            raise TrialFailed(result.message)
        final = dict(result.metrics)
        if self.spec.lpips:
            final["lpips"] = evaluate(
                model_predictor(model.eval()),
                self.val_set,
                device=next(model.parameters()).device,
                max_items=self.spec.val_items,
                center=self.spec.val_crop,
                lpips_net="alex",
            )["lpips"]
        for k in ("psnr", "ssim", "lpips", "ie"):
            if k in final:
                trial.set_user_attr(k, float(final[k]))
        trial.set_user_attr("checkpoint", str(result.checkpoint))
        self._image_strip(model, out_dir)
        return self._objectives(trial.user_attrs)

    # --- helpers ------------------------------------------------------------------------------------
    def _infeasible(self, trial: optuna.Trial, reason: str) -> None:
        trial.set_user_attr("infeasible", True)
        trial.set_user_attr("infeasible_reason", reason)
        raise optuna.TrialPruned(f"infeasible: {reason}")

    def _objectives(self, attrs: dict) -> tuple[float, ...] | float:
        values = tuple(float(attrs[OBJECTIVE_ATTR[o]]) for o in self.spec.objectives)
        return values if self.multi else values[0]

    def _reuse(self, trial: optuna.Trial, cfg: ArchConfig):
        """A repeated architecture reuses the stored result of its first complete trial."""
        for t in trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if t.user_attrs.get("arch_id") == cfg.arch_id and t.number != trial.number:
                for k, v in t.user_attrs.items():
                    if k not in ("reused_from", "constraints"):
                        trial.set_user_attr(k, v)
                record_constraints(trial, constraints(t), ("macs", "latency"))
                trial.set_user_attr("reused_from", t.number)
                log.info(
                    "trial %d repeats architecture %s of trial %d: result reused", trial.number, cfg.arch_id, t.number
                )
                return self._objectives(t.user_attrs)
        return None

    def _references(self, study: optuna.Study) -> list[Reference]:
        key = OBJECTIVE_ATTR[self.spec.cost_objective]
        refs = []
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if "curve" in t.user_attrs and key in t.user_attrs and "reused_from" not in t.user_attrs:
                refs.append(
                    Reference(t.number, float(t.user_attrs[key]), {int(k): v for k, v in t.user_attrs["curve"].items()})
                )
        return refs

    def _image_strip(self, model: IFNet, out_dir: Path) -> None:
        """frame0 | prediction | ground truth | error (x4), from the first validation triplet."""
        from PIL import Image

        from rife_core.data.torch_data import center_crop, to_tensor

        tri = center_crop(self.val_set[0], self.spec.val_crop)
        dev = next(model.parameters()).device
        a, b = (to_tensor(x).unsqueeze(0).to(dev) for x in (tri.img0, tri.img1))
        with torch.no_grad():
            pred = model.eval()(a, b, torch.tensor([tri.t], device=dev)).frame[0].clamp(0, 1)
        pred_u8 = (pred.permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
        err = np.clip(np.abs(pred_u8.astype(int) - tri.imgt.astype(int)) * 4, 0, 255).astype(np.uint8)
        out_dir.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate([tri.img0, pred_u8, tri.imgt, err], axis=1)).save(out_dir / "strip.png")


__all__ = ["METRIC_KEYS", "Objective", "TrialFailed", "constraints", "is_infeasible"]
