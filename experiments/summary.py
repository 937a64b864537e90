"""The ablation's summary: per-variant means, paired differences to the control with intervals, verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from experiments.spec import AblationSpec
from results.paired import PairedDifference, paired_difference, paired_runs
from results.schema import ABOVE_BLEND_DB

HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "lpips": False}


@dataclass
class Summary:
    variants: pd.DataFrame  # one row per variant: means and stds, cost
    differences: pd.DataFrame  # one row per (variant, metric): paired difference to the control
    notes: list[str]

    def markdown(self) -> str:
        return "\n\n".join(
            [
                self.variants.to_markdown(index=False, floatfmt=".3f"),
                self.differences.to_markdown(index=False, floatfmt="+.3f"),
                *(f"> {n}" for n in self.notes),
            ]
        )


def metric_columns(spec: AblationSpec, rows: pd.DataFrame) -> list[str]:
    """``metric@evalset`` columns present, the first eval set first."""
    return [f"{m}@{e.name}" for e in spec.evals for m in HIGHER_IS_BETTER if f"{m}@{e.name}" in rows]


def summarize(
    spec: AblationSpec, rows: list[dict], blend: dict[str, float], latency: dict[str, Any] | None = None
) -> Summary:
    """Per-variant means and costs, paired differences to the control, notes; ``latency``: the variants'
    side-by-side timing (``experiments.latency``), whose ratios to the control join the table."""
    df = pd.DataFrame(rows)
    ok = df[df["status"] == "completed"] if "status" in df else df.iloc[0:0]
    cols = metric_columns(spec, ok)
    table = []
    for v in spec.variants:
        r = ok[ok["variant"] == v.name]
        entry = {"variant": v.name + (" (control)" if v.name == spec.control else ""), "runs": len(r)}
        for c in cols:
            entry[c] = (
                f"{r[c].mean():.3f} ± {r[c].std(ddof=1):.3f}"
                if len(r) > 1
                else (f"{r[c].mean():.3f}" if len(r) else "-")
            )
        left = plateau_exit(r)
        if left is not None:
            entry["left_blend_at"] = left
        for c, fmt in (("params", "{:,.0f}"), ("macs", "{:.3f}"), ("warp_share", "{:.1%}"), ("latency_ms", "{:.1f}")):
            if c in r and len(r):
                val = r[c].mean() / 1e9 if c == "macs" else r[c].mean()
                entry["GMACs" if c == "macs" else c] = fmt.format(val)
        if latency is not None:
            h, w = latency["size"]
            entry[f"ms@{h}x{w}"] = f"{latency['ms'][v.name]:.1f}"
            entry["latency_ratio"] = f"{latency['ratio'][v.name]:.3f}"
        table.append(entry)
    diffs = []
    for v in spec.variants:
        if v.name == spec.control:
            continue
        for c in cols:
            vals, ctl, _ = paired_runs(ok, v.name, spec.control, c)  # same seed, same kernels
            d: PairedDifference = paired_difference(vals, ctl, c, HIGHER_IS_BETTER[c.split("@")[0]])
            diffs.append(
                {
                    "variant": v.name,
                    "metric": c,
                    "difference": d.mean,
                    "ci_low": d.low,
                    "ci_high": d.high,
                    "pairs": d.n,
                    "verdict": d.verdict,
                }
            )
    notes = plateau_notes(spec, ok, blend)
    if "train_seconds" in df and df["train_seconds"].notna().any():
        own = df[df["reused_from"].isna()] if "reused_from" in df else df
        started = int(own["shared_stages"].notna().sum()) if "shared_stages" in own else 0
        notes.append(
            f"training time: {own['train_seconds'].sum() / 60:.1f} min over {len(own)} run(s) trained here "
            f"({own['train_seconds'].median() / 60:.1f} min median per run; wall time includes any other load)"
            + (f"; {started} of them started from first stages another run had trained" if started else "")
        )
    failed = df[df["status"] != "completed"] if "status" in df else df.iloc[0:0]
    if len(failed):
        notes.append(
            f"{len(failed)} run(s) did not complete: "
            + "; ".join(
                f"{r['variant']} seed {r['seed']}: {r.get('reason', r['status'])}" for r in failed.to_dict("records")
            )
        )
    variants = pd.DataFrame(table)
    if "left_blend_at" in variants:
        variants["left_blend_at"] = variants["left_blend_at"].fillna("-")
    return Summary(variants, pd.DataFrame(diffs), notes)


def plateau_exit(runs: pd.DataFrame) -> str | None:
    """Median step of the first validation > ``ABOVE_BLEND_DB`` above the blend of the same triplets ("never")."""
    if "history_blend" not in runs or runs["history_blend"].isna().all():
        return None
    steps = []
    for hist, b in zip(runs["history"], runs["history_blend"], strict=True):
        if b is None or b != b or not isinstance(hist, list):
            continue
        first = next((step for step, psnr in hist if psnr > b + ABOVE_BLEND_DB), None)
        steps.append(float("inf") if first is None else first)
    if not steps:
        return None
    med = float(pd.Series(steps).median())
    never = sum(s == float("inf") for s in steps)
    text = "never" if med == float("inf") else f"{med:.0f}"
    text += f" ({never} of {len(steps)} never)" if never and med != float("inf") else ""
    # Runs recorded before the trainer kept the blend have no exit step: say how many runs this rests on.
    return text + (f" [{len(steps)} of {len(runs)} runs]" if len(steps) < len(runs) else "")


def plateau_notes(spec: AblationSpec, ok: pd.DataFrame, blend: dict[str, float]) -> list[str]:
    notes = []
    for s, b in blend.items():
        col = f"psnr@{s}"
        if col not in ok or ok.empty:
            continue
        means = ok.groupby("variant")[col].mean()
        if (means < b + ABOVE_BLEND_DB).all():
            notes.append(
                f"every variant sits at the blend level on {s} (blend {b:.2f} dB, best variant {means.max():.2f}): "
                "no variant learned motion at this budget, so no difference here is evidence; "
                "raise --budget-scale or train on a GPU"
            )
        else:
            left = int((means >= b + ABOVE_BLEND_DB).sum())
            notes.append(
                f"{left} of {len(means)} variants are > {ABOVE_BLEND_DB} dB above the blend ({b:.2f} dB) on {s}"
            )
    return notes
