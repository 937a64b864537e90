"""``python -m experiments.samplers``: which Optuna sampler finds the better PSNR/MACs front?

Each (sampler, seed) is one real ``search.run`` study in its own folder (resumable like any search) with
the same trials, budget and scoring (the seed seeds the sampler alone: an architecture scores the same in
every study); the comparison is the hypervolume of each study's front of (PSNR, MACs) against a fixed,
stated reference point, at the end and over trials, and the paired (by seed) difference of each sampler to
random sampling with its 95% interval. Every trial is the search's own (a child sliced from the parent and
fine-tuned, about 1.5 min on 2 CPU cores at the default proxy), so a comparison of several samplers and
seeds is hours on a CPU: shorten the proxy after ``--`` or use a GPU (``-- --device cuda``).

Examples:
    python -m experiments.samplers --budget 0.5M --trials 20 --seeds 3
    python -m experiments.samplers --budget 0.5M --trials 12 --seeds 2 -- --proxy-steps 200
    python -m experiments.samplers --budget 0.5M --trials 60 --seeds 5 --samplers tpe,nsga2,gp,random -- --device cuda
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd

from reports.build import build
from reports.hypervolume import hypervolume_over_trials
from results.files import write_csv, write_text
from results.paired import paired_difference
from rife_core.cli.args import configure_output

log = logging.getLogger("experiments.samplers")

SAMPLERS = ("tpe", "nsga2", "gp", "random")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m experiments.samplers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--budget", default="0.5M")
    p.add_argument("--trials", type=int, default=30, help="trials per study (30)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--samplers", default="tpe,nsga2,random", help=f"comma-separated from {', '.join(SAMPLERS)}")
    p.add_argument("--control", default="random", help="the sampler the others are compared with (random)")
    p.add_argument("--ref-psnr-below-blend", type=float, default=1.0, help="reference point: blend - this (1 dB)")
    p.add_argument("--ref-gmacs", type=float, default=2.0, help="reference point's GMACs at 256x256 (2.0)")
    p.add_argument("--out", type=Path, default=Path("runs/samplers"))
    p.add_argument("search_args", nargs=argparse.REMAINDER, help="after --: more search.run options for every study")
    return p


def study_dir(out: Path, sampler: str, seed: int) -> Path:
    return out / f"{sampler}_seed{seed}"


def run_study(args: argparse.Namespace, sampler: str, seed: int) -> Path:
    folder = study_dir(args.out, sampler, seed)
    extra = [a for a in args.search_args if a != "--"]
    # --seed 0 for all: every study scores an architecture the same way (start, data order); the seeds vary
    # the sampler only.
    cmd = [
        sys.executable,
        "-m",
        "search.run",
        "--budget",
        args.budget,
        "--trials",
        str(args.trials),
        "--sampler",
        sampler,
        "--seed",
        "0",
        "--sampler-seed",
        str(seed),
        "--out",
        str(folder),
        *extra,
    ]
    log.info("%s", " ".join(cmd[1:]))
    subprocess.run(cmd, check=True)
    return folder


def hypervolumes(trials: pd.DataFrame, reference: tuple[float, float]) -> list[float]:
    """Hypervolume of (-PSNR, GMACs) over the completed trials, in trial order."""
    done = trials[trials["state"] == "COMPLETE"].sort_values("trial")
    points = list(zip(-done["psnr"], done["macs"] / 1e9, strict=True))
    return hypervolume_over_trials(points, (-reference[0], reference[1]))


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    configure_output()
    samplers = args.samplers.split(",")
    if unknown := [s for s in samplers if s not in SAMPLERS]:
        p.error(f"unknown samplers {unknown}; choose from {', '.join(SAMPLERS)}")
    if args.control not in samplers:
        p.error(f"--control {args.control} is not among --samplers {args.samplers}")
    curves, final, blend = {}, [], None
    for seed in range(args.seeds):
        for sampler in samplers:
            folder = run_study(args, sampler, seed)
            scores = json.loads((folder / "baselines.json").read_text())
            b = next((v for k, v in scores.items() if k.startswith("blend")), None)
            blend = blend if blend is not None else b
            curves[(sampler, seed)] = pd.read_csv(folder / "trials.csv")
    if blend is None:
        log.error("no blend baseline in the studies' baselines.json; cannot place the reference point")
        return 1
    reference = (blend - args.ref_psnr_below_blend, args.ref_gmacs)
    rows = []
    for (sampler, seed), trials in curves.items():
        hv = hypervolumes(trials, reference)
        final.append({"sampler": sampler, "seed": seed, "hypervolume": hv[-1] if hv else 0.0})
        rows += [{"sampler": sampler, "seed": seed, "trial": k + 1, "hypervolume": v} for k, v in enumerate(hv)]
    final_df, curve_df = pd.DataFrame(final), pd.DataFrame(rows)
    lines = [
        f"reference point: PSNR {reference[0]:.2f} dB (blend - {args.ref_psnr_below_blend:g}), "
        f"{reference[1]:g} GMACs at 256x256; {args.trials} trials per study, {args.seeds} seeds"
    ]
    control = final_df[final_df["sampler"] == args.control].set_index("seed")["hypervolume"]
    for sampler in samplers:
        hv = final_df[final_df["sampler"] == sampler].set_index("seed")["hypervolume"]
        line = f"{sampler}: hypervolume {hv.mean():.4f} +- {hv.std(ddof=1) if len(hv) > 1 else 0:.4f}"
        if sampler != args.control:
            seeds = sorted(set(hv.index) & set(control.index))
            line += f"; vs {args.control}: {paired_difference(hv[seeds], control[seeds], 'hypervolume')}"
        lines.append(line)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(final_df, args.out / "hypervolume_final.csv")
    write_csv(curve_df, args.out / "hypervolume_over_trials.csv")
    write_text(args.out / "summary.md", "\n\n".join(lines) + "\n")
    meta = {"reference": list(reference), "trials": args.trials, "seeds": args.seeds, "samplers": samplers}
    write_text(args.out / "samplers.json", json.dumps(meta, indent=1))
    print("\n".join(lines))

    print(f"\nreport: {build(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
