"""Record (or compare) what a small search, fidelity run and ablation produce: the refactoring guard.

A refactor that claims "behaviour unchanged" runs this before (``--write before.json``) and after
(``--compare before.json``): trial scores, the retrained member's, reference rows and their recipe key,
fidelity rows, ablation rows (to 1e-6), the study fingerprint and the cache keys must be equal. Minutes on
2 CPU cores; nothing else should run beside it.

    python benchmarks/behaviour_snapshot.py --write runs/snapshot_before.json
    python benchmarks/behaviour_snapshot.py --compare runs/snapshot_before.json
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

SEARCH = ["--budget", "0.5M", "--trials", "3", "--proxy-steps", "60", "--proxy-val-every", "20", "--no-lpips"]
RETRAIN = ["--retrain-top", "1", "--retrain-steps", "20"]
REFERENCE = ["--budget", "0.5M", "--n", "2", "--seeds", "0", "--ref-steps", "20", "--score-items", "4"]
FIDELITY = ["--budget", "0.5M", "--reference", "train", "--n", "3", "--proxy-steps", "20", "--ref-steps", "40"]
ABLATION = ["width", "--seeds", "1", "--budget-scale", "0.03", "--no-lpips", "--set", "eval_items=8"]
TOLERANCE = 1e-6
FIDELITY_MODULE, REFERENCE_MODULE = "fidelity.run", "fidelity.reference"


def _run(module: str, args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", module, *args], check=True, stdout=subprocess.DEVNULL)


def snapshot(work: Path) -> dict:
    """Run the three commands in ``work`` and return what they recorded."""
    import optuna

    _run("search.run", [*SEARCH, *RETRAIN, "--out", str(work / "search")])
    trials = pd.read_csv(work / "search" / "trials.csv")
    retrained = pd.read_csv(work / "search" / "retrain.csv")
    retrain_cols = [c for c in retrained if c == "arch_id" or c.startswith(("test_psnr", "retrained_val"))]
    cols = [c for c in ("trial", "state", "arch_id", "params", "macs", "macs_warp", "psnr", "ssim") if c in trials]
    study = optuna.load_study(study_name="rife-nas", storage=f"sqlite:///{work / 'search' / 'optuna.db'}")
    _run(REFERENCE_MODULE, [*REFERENCE, "--table", str(work / "reference.csv")])
    reference = pd.read_csv(work / "reference.csv").drop(columns=["train_seconds", "device"])
    _run(FIDELITY_MODULE, [*FIDELITY, "--out", str(work / "fidelity")])
    rows = [json.loads(line) for line in (work / "fidelity" / "results.jsonl").read_text().splitlines()]
    _run("experiments.run", [*ABLATION, "--out", str(work / "ablations")])
    runs = [json.loads(line) for line in (work / "ablations" / "width" / "runs.jsonl").read_text().splitlines()]
    score = lambda r: {k: v for k, v in r.items() if k.startswith(("psnr", "ssim")) or k in ("params", "macs")}  # noqa: E731
    return {
        "search": {
            "fingerprint": study.user_attrs["fingerprint"],
            "trials": trials[cols].to_dict("records"),
            "retrain": retrained[retrain_cols].to_dict("records"),
        },
        "reference": reference.to_dict("records"),
        "fidelity": [
            {
                "arch_id": r["arch_id"],
                "settings": r["settings"],
                "psnr": r["psnr"],
                "ssim": r["ssim"],
                "history": r["history"],
            }
            for r in rows
        ],
        "ablation": [{"key": r["key"], "variant": r["variant"], "status": r["status"], **score(r)} for r in runs],
    }


def differences(a: object, b: object, where: str = "") -> list[str]:
    """Where two snapshots differ (floats beyond ``TOLERANCE``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}.{k}: only in one" for k in set(a) ^ set(b)]
        return out + [d for k in a.keys() & b.keys() for d in differences(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{where}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        same = (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE
        return [] if same else [f"{where}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="record a snapshot to this JSON file")
    g.add_argument("--compare", type=Path, help="record one and compare it with this JSON file")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        snap = snapshot(Path(tmp))
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(json.dumps(snap, indent=1))
        print(f"snapshot written to {args.write}")
        return 0
    diffs = differences(json.loads(args.compare.read_text()), json.loads(json.dumps(snap)))
    print("\n".join(diffs) if diffs else f"same as {args.compare} (floats to {TOLERANCE:g})")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
