"""Bad input, one test per row of the README's "Bad input" table: one clear message naming the problem and
the fix, exit code 2, and nothing already recorded lost. Every row runs the real command in-process."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
import torch
import yaml

from rife_core.model.presets import create_model
from rife_core.training.checkpoint import save_checkpoint
from rife_core.training.config import TrainConfig
from tests.rife_core.conftest import TINY
from tests.search.test_run import PARENT_KINDS
from tests.search.test_run import TINY as TINY_SEARCH

ROOT = Path(__file__).resolve().parents[1]


def exit_code(module: str, argv: list[str]) -> int:
    """The command's exit code, whether it returns it or exits through argparse."""
    try:
        return importlib.import_module(module).main(argv)
    except SystemExit as e:
        return int(e.code)


def vimeo_like(root: Path, image: Callable[[Path], None]) -> Path:
    """A Vimeo-90K triplet layout with one triplet whose three images ``image`` writes."""
    seq = root / "sequences" / "00001" / "0001"
    seq.mkdir(parents=True)
    for i in (1, 2, 3):
        image(seq / f"im{i}.png")
    for split in ("train", "test"):
        (root / f"tri_{split}list.txt").write_text("00001/0001\n")
    return root


def space_file(path: Path, change: Callable[[dict], None]) -> Path:
    space = yaml.safe_load((ROOT / "space" / "v4_space.yaml").read_text())
    change(space)
    path.write_text(yaml.safe_dump(space))
    return path


def tiny_checkpoint(path: Path) -> Path:
    model = create_model(TINY, seed=0)
    return save_checkpoint(path, model, torch.optim.AdamW(model.parameters()), 1, TrainConfig())


SEARCH_ROWS = [  # (row, arguments of search.run after --budget, what the message must say)
    ("budget a word", ["--budget", "abc"], "write it like 0.5M, 500k"),
    ("budget zero", ["--budget", "0"], "not a positive count"),
    ("unknown objective", ["--budget", "0.5M", "--objectives", "psnr,speed"], "objectives"),
    ("unknown sampler", ["--budget", "0.5M", "--sampler", "cmaes"], "invalid choice: 'cmaes'"),
    ("missing space file", ["--budget", "0.5M", "--space", "{tmp}/nope.yaml"], "no such space file"),
    ("space with a typo'd dimension", ["--budget", "0.5M", "--space", "{typo}"], "unknown dimensions ['widht']"),
    ("space with an empty range", ["--budget", "0.5M", "--space", "{empty}"], "width must be a non-empty list"),
    ("--fix of an unknown name", ["--budget", "0.5M", "--fix", "colour=red"], "write NAME=VALUE with NAME one of"),
    ("--fix of a value outside the space", ["--budget", "0.5M", "--fix", "upsample=nearest"], "upsample choice"),
    ("unknown dataset kind", ["--budget", "0.5M", "--data", "vimeo:/x"], "unknown dataset"),
    (
        "dataset path that does not exist",
        ["--budget", "0.5M", "--data", "vimeo_triplet:{tmp}/none"],
        "does not exist; give the vimeo_triplet folder",
    ),
    ("dataset folder without triplets", ["--budget", "0.5M", "--data", "vimeo_triplet:{tmp}"], "list file is missing"),
    (
        "storage URL with a wrong scheme",
        ["--budget", "0.5M", "--storage", "mongodb://h/db"],
        "cannot open the Optuna storage 'mongodb://h/db'",
    ),
    (
        "storage host unreachable",
        ["--budget", "0.5M", "--storage", "postgresql://a:pw@127.0.0.1:1/db"],
        "cannot open the Optuna storage 'postgresql://a:***@127.0.0.1:1/db'",
    ),
]


@pytest.mark.parametrize(("row", "argv", "message"), SEARCH_ROWS, ids=[r[0] for r in SEARCH_ROWS])
def test_search_usage_errors(row: str, argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    typo = space_file(tmp_path / "typo.yaml", lambda s: s.__setitem__("widht", s.pop("width")))
    empty = space_file(tmp_path / "empty.yaml", lambda s: s.__setitem__("width", []))
    argv = [a.format(tmp=tmp_path, typo=typo, empty=empty) for a in argv]
    out = tmp_path / "out"
    assert exit_code("search.run", [*argv, "--no-lpips", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (out / "optuna.db").exists()  # refused before a study was recorded


def test_corrupt_training_image_stops_the_search_and_its_trial_is_redone(tmp_path: Path, capsys) -> None:
    data = vimeo_like(tmp_path / "vimeo", lambda p: p.write_bytes(b"not a png"))
    out = tmp_path / "out"
    argv = [
        *TINY_SEARCH,
        *"--budget 150k --trials 2 --no-lpips --out".split(),
        str(out),
        "--data",
        f"vimeo_triplet:{data}",
        "--val-data",
        "default",
    ]
    assert exit_code("search.run", argv) == 2
    err = capsys.readouterr().err
    assert f"{data}/sequences/00001/0001/im1.png: not a readable image" in err and "redone" in err
    stored = optuna.load_study(study_name="rife-nas", storage=f"sqlite:///{out / 'optuna.db'}").trials
    trials = [t for t in stored if not t.user_attrs.get("infeasible")]  # over-budget samples never start
    assert [t.state.name for t in trials] == ["FAIL"]
    from results.study_table import counted

    assert trials[0].user_attrs["fail_reason"].startswith("data error: ") and not counted(trials[0])


def test_corrupt_image_in_evaluation_names_the_file(tmp_path: Path, capsys) -> None:
    data = vimeo_like(tmp_path / "vimeo", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n cut"))
    argv = ["--method", "blend", "--data", f"vimeo_triplet:{data}", "--no-lpips"]
    assert exit_code("rife_core.cli.evaluate", argv) == 2
    assert f"{data}/sequences/00001/0001/im1.png: not a readable image" in capsys.readouterr().err


def test_checkpoint_of_another_architecture_is_refused_for_resume(tmp_path: Path, capsys) -> None:
    ckpt = tiny_checkpoint(tmp_path / "tiny.pt")
    argv = ["--preset", "lite_s", "--steps", "1", "--loss", "l1=1", "--resume", str(ckpt), "--out", str(tmp_path)]
    assert exit_code("rife_core.cli.train", argv) == 2
    assert "holds another architecture than the one given" in capsys.readouterr().err
    assert ckpt.is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["tiny.pt"]


@pytest.mark.parametrize("module", ["rife_core.cli.evaluate", "rife_core.cli.train"])
def test_truncated_checkpoint_is_named(module: str, tmp_path: Path, capsys) -> None:
    cut = tmp_path / "cut.pt"
    cut.write_bytes(tiny_checkpoint(tmp_path / "tiny.pt").read_bytes()[:2000])
    if module.endswith("evaluate"):
        argv = ["--checkpoint", str(cut), "--data", "synthetic:2", "--no-lpips"]
    else:
        argv = ["--preset", "lite_s", "--steps", "1", "--loss", "l1=1", "--resume", str(cut), "--out", str(tmp_path)]
    assert exit_code(module, argv) == 2
    assert f"{cut}: not a readable checkpoint" in capsys.readouterr().err


def test_study_name_that_exists_with_other_objectives_is_refused_and_kept(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    first = [*TINY_SEARCH, *PARENT_KINDS, "--budget", "150k", "--trials", "1", "--no-lpips", "--out", str(out)]
    assert exit_code("search.run", first) == 0
    capsys.readouterr()
    assert exit_code("search.run", [*first, "--objectives", "psnr,latency"]) == 2
    assert "was created with other objectives (psnr,macs; this run asks for psnr,latency)" in capsys.readouterr().err
    trials = optuna.load_study(study_name="rife-nas", storage=f"sqlite:///{out / 'optuna.db'}").trials
    assert [t.state.name for t in trials if not t.user_attrs.get("infeasible")] == ["COMPLETE"]


@pytest.mark.parametrize(
    ("flag", "value", "named"), [("--ema", "1.5", "ema_decay=1.5"), ("--warmup", "-3", "warmup_steps=-3")]
)
def test_out_of_range_recipe_options_are_named(flag: str, value: str, named: str, tmp_path: Path, capsys) -> None:
    argv = ["--preset", "lite_s", "--steps", "1", "--loss", "l1=1", flag, value, "--out", str(tmp_path / "run")]
    assert exit_code("rife_core.cli.train", argv) == 2
    assert named in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_missing_retrain_data_is_refused_before_the_search(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    argv = [
        "--budget",
        "0.5M",
        "--out",
        str(out),
        "--retrain-top",
        "1",
        "--retrain-eval",
        f"ucf101:{tmp_path / 'none'}",
    ]
    assert exit_code("search.run", argv) == 2
    assert f"{tmp_path / 'none'}: does not exist" in capsys.readouterr().err
    assert not (out / "optuna.db").exists()  # nothing recorded
