from __future__ import annotations

import json
from pathlib import Path

import pytest

from rife_core.cli.cost import main
from rife_core.cost.params import count_params
from rife_core.model.presets import PRESETS


def test_json_report_for_a_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--preset", "lite_s", "--size", "32x64", "--no-latency", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["params"] == count_params(PRESETS["lite_s"])
    assert report["padded_size"] == [32, 64]
    assert report["macs"] == report["macs_conv"] + report["macs_warp"] + report["macs_other"]
    assert report["mac_unit"] == "MACs" and report["latency_ms"] is None


def test_config_file_and_text_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "arch.json"
    path.write_text(PRESETS["lite_ds"].to_json())
    assert main(["--config", str(path), "--size", "30x40", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{count_params(PRESETS['lite_ds']):,}" in out
    assert "padded internally to 64x64" in out and "latency" in out


def test_vs_dis_reports_the_ratio_to_dis_timed_in_turn(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--preset", "lite_s", "--size", "32x32", "--repeats", "2", "--rounds", "2", "--vs-dis", "ultrafast"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reference"] == "DIS-ultrafast" and report["reference_ms"] > 0 and report["latency_ratio"] > 0
    assert main(argv) == 0
    assert "DIS-ultrafast" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "lite_s", "--size", "72x"], "HEIGHTxWIDTH"),
        (["--config", "/no/such/arch.json"], "no such file"),
        (["--preset", "nope"], "invalid choice"),
        (["--preset", "lite_s", "--vs-dis", "medium", "--no-latency"], "--vs-dis times the network beside OpenCV"),
        (["--preset", "lite_s", "--vs-dis", "slow"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_invalid_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(PRESETS["lite_s"].to_dict() | {"upsample": "nearest"}))
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(path)])
    assert exc.value.code == 2
    assert "upsample='nearest'" in capsys.readouterr().err
