"""End to end: tiny proxies, real SQLite Optuna storage and a real MLflow store."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import optuna
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from reports.build import study_report
from reports.figures import time_quality_figure
from results.schema import label
from results.study_table import open_storage
from search.proxy import ProxySettings
from search.run import main
from search.spec import SearchSpec, TrackingSettings, fingerprint
from search.study import counted
from search.tracking import EXPERIMENT

TINY = "--proxy-steps 6 --proxy-val-every 3 --val-items 2 --proxy-crop 48 --proxy-batch 2 --size 64x64 --latency-size 64x64".split()
# The parent's layer kinds: trials start copied, not fitted (a fit costs tens of seconds per candidate);
# test_search_end_to_end_and_resume searches the whole default space, fitted starts included.
PARENT_KINDS = [a for f in ("conv_type=standard", "downsample=bilinear", "upsample=deconv2") for a in ("--fix", f)]


def search_command(*args: str) -> list[str]:
    """``search.run`` in a child process with the tiny proxy and the parent's kinds, then ``args``."""
    return [sys.executable, "-m", "search.run", *TINY, *PARENT_KINDS, *args]


def slow_search_command(out: Path) -> list[str]:
    """A two-trial search in a child process, slow enough to be stopped mid-trial."""
    return search_command(
        "--out", str(out), *"--proxy-steps 400 --proxy-val-every 100 --budget 0.5M --trials 2".split()
    )


def run(out: Path, *extra: str, kinds: bool = False) -> int:
    fixes = [] if kinds or "--space" in extra else PARENT_KINDS
    return main(["--out", str(out), *TINY, *fixes, *extra])


def trial_runs(out: Path) -> pd.DataFrame:
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name(EXPERIMENT)
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"  # the UI opens on the runs table
    runs = client.search_runs([exp.experiment_id], filter_string="tags.kind = 'trial'")
    return pd.DataFrame(
        [
            {
                "trial": int(r.data.tags["trial_number"]),
                "state": r.data.tags["state"],
                "pareto": r.data.tags["pareto"],
                "params": r.data.metrics.get("params"),
                "parent": r.data.tags.get("mlflow.parentRunId"),
                "status": r.info.status,
            }
            for r in runs
        ]
    )


def load_study(out: Path) -> optuna.Study:
    # open_storage: the search may be creating the schema at this moment (a race it retries)
    return optuna.load_study(study_name="rife-nas", storage=open_storage(f"sqlite:///{out / 'optuna.db'}"))


def wait_for_a_running_trial(out: Path, timeout: float = 240) -> None:
    """Return once the search writing to ``out`` has a trial running that has reported progress."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(1)
        if (out / "optuna.db").exists():
            try:
                trials = load_study(out).get_trials(deepcopy=False)
            except (KeyError, optuna.exceptions.StorageInternalError):
                continue
            if any(t.state.name == "RUNNING" and "curve" in t.user_attrs for t in trials):
                return


def test_search_end_to_end_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s"
    assert run(out, "--budget", "150k", "--trials", "2", kinds=True) == 0
    # What a kill between storing a trial and logging it leaves: one run missing, one cut short (RUNNING).
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name(EXPERIMENT)
    first, second = client.search_runs([exp.experiment_id], filter_string="tags.kind = 'trial'")
    client.delete_run(first.info.run_id)
    client.update_run(second.info.run_id, status="RUNNING")
    assert run(out, "--budget", "150k", "--trials", "3", kinds=True) == 0  # resumes and logs what is missing
    study = load_study(out)
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if counted(t)]
    infeasible = [t for t in trials if t.user_attrs.get("infeasible")]
    assert len(done) == 3
    assert all(t.user_attrs["params"] < 150_000 for t in done)
    # Infeasible samples never trained: no trial folder, no MLflow run.
    assert all(not (out / "trials" / f"{t.number:04d}").exists() for t in infeasible)
    runs = trial_runs(out)
    assert sorted(runs["trial"]) == sorted(t.number for t in done)  # MLflow and Optuna hold the same trials
    state = {t.number: t.state.name for t in done}  # a child that collapsed in 6 steps is a failed trial
    want = ["FINISHED" if state[n] == "COMPLETE" else "FAILED" for n in runs["trial"]]
    assert runs["parent"].nunique() == 1 and runs["status"].tolist() == want
    front = {t.number for t in study.best_trials}
    assert set(runs.loc[runs["pareto"] == "true", "trial"]) == front
    for name in ("trials.csv", "pareto_front.csv", "dashboard.html", "search_spec.json", "baselines.json"):
        assert (out / name).is_file()
    assert (out / "report" / "index.html").is_file() and (out / "report" / "front.md").is_file()
    assert "dis (baseline)" in capsys.readouterr().out
    # The default space's candidates start from its parent, whose score is a baseline drawn on the front.
    completed = [t for t in done if t.state.name == "COMPLETE" and t.user_attrs.get("reused_from") is None]
    assert completed and all(t.user_attrs["inherited_share"] > 0.9 for t in completed)
    # ... copied, rewritten or fitted, counted apart (layer kinds the parent lacks are fitted or rewritten)
    shares = [t.user_attrs["start_shares"] for t in completed]
    assert all(set(s) == {"copied", "rewritten", "fitted"} for s in shares)
    pairs = zip(shares, completed, strict=True)
    assert all(abs(sum(s.values()) - t.user_attrs["inherited_share"]) < 1e-3 for s, t in pairs)
    baselines = json.loads((out / "baselines.json").read_text())
    parent = baselines["parent rife_v3_hd (baseline)"]
    assert parent > baselines["blend (baseline)"]
    figs, _ = study_report(pd.read_csv(out / "trials.csv"), baselines)
    lines = {a.text: a.y for fig in figs for a in fig.layout.annotations if a.text and "baseline" in a.text}
    assert lines["parent rife_v3_hd (baseline)"] == pytest.approx(parent)
    # Each candidate is timed at --latency-size in turn with DIS-medium; DIS at each preset, the blend and the
    # parent were timed the same way before the first trial, and are points on the latency charts.
    rows = pd.read_csv(out / "trials.csv")
    timed = rows[rows["state"] == "COMPLETE"]
    assert len(timed) and (timed["latency_ms"] > 0).all() and (timed["latency_dis"] > 0).all()
    timing = json.loads((out / "baseline_latency.json").read_text())
    methods = ("blend", "dis-ultrafast", "dis-fast", "dis", "parent rife_v3_hd")
    assert set(timing) == {f"{m} (baseline)" for m in methods} and timing["dis (baseline)"]["latency_dis"] == 1.0
    assert {"dis-fast (baseline)", "dis-ultrafast (baseline)"} <= set(baselines)
    assert load_study(out).user_attrs["baseline_latency"] == timing
    figs, _ = study_report(rows, baselines, timing)
    (points,) = [
        t
        for f in figs
        if f.layout.xaxis.title.text == label("latency_dis") and f.layout.yaxis.title.text == label("psnr")
        for t in f.data
        if t.name == "baselines, timed in turn"
    ]
    drawn = dict(zip(points.text, zip(points.x, points.y, strict=True), strict=True))
    assert drawn["dis"] == (1.0, pytest.approx(baselines["dis (baseline)"]))
    assert drawn["parent rife_v3_hd"][0] == pytest.approx(timing["parent rife_v3_hd (baseline)"]["latency_dis"])


def test_latency_limits_in_ms_and_in_times_dis(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from search.objective import latency_excess_ms

    cost = SimpleNamespace(latency_ms=120.0, latency_ratio=4.0, reference_ms=30.0)  # DIS took 30 ms beside it
    assert latency_excess_ms(SearchSpec(budget=1, out=tmp_path), cost) == 0.0
    assert latency_excess_ms(SearchSpec(budget=1, out=tmp_path, max_latency_ms=200.0), cost) == -80.0
    assert latency_excess_ms(SearchSpec(budget=1, out=tmp_path, max_latency_dis=1.0), cost) == 90.0  # (4 - 1) * 30
    both = SearchSpec(budget=1, out=tmp_path, max_latency_ms=100.0, max_latency_dis=5.0)
    assert latency_excess_ms(both, cost) == 20.0  # the stricter limit: 120 - 100 ms (5x DIS would be 150 ms)
    with pytest.raises(ValueError, match="timed in turn with DIS-medium"):
        latency_excess_ms(
            SearchSpec(budget=1, out=tmp_path, max_latency_dis=1.0),
            SimpleNamespace(latency_ms=1.0, latency_ratio=None, reference_ms=None),
        )


def test_the_latency_size_enters_the_fingerprint_only_where_latency_decides(tmp_path: Path) -> None:
    space = {"width": [16]}
    deploy = SearchSpec(budget=500_000, out=tmp_path, objectives=("psnr", "latency"))
    same = replace(deploy, proxy=ProxySettings(latency_size=(256, 256)))
    assert deploy.fingerprint_settings(space)["latency_size"] == [480, 640]
    assert "latency_size" not in same.fingerprint_settings(space)  # studies made before it resume with it
    limited = SearchSpec(budget=500_000, out=tmp_path, max_latency_dis=1.0)
    assert "latency_size" in limited.fingerprint_settings(space)
    assert "latency_size" not in SearchSpec(budget=500_000, out=tmp_path).fingerprint_settings(space)  # reported
    assert deploy.proxy.key() == same.proxy.key()  # a time is not a score: cached results stay valid


def test_repeated_architecture_is_not_trained_twice(tmp_path: Path) -> None:
    fixes = "scales=4,2 width=16 depth=1 both_orders=false warp_every=1 warp_resolution=full".split()
    fixes += "conv_type=standard downsample=bilinear upsample=deconv2".split()  # one architecture in all
    out = tmp_path / "d"
    assert run(out, "--budget", "0.5M", "--trials", "2", *[a for f in fixes for a in ("--fix", f)]) == 0
    done = [t for t in load_study(out).get_trials(deepcopy=False) if counted(t)]
    assert len(done) == 2 and done[1].user_attrs["reused_from"] == done[0].number
    assert done[1].values == done[0].values
    assert not (out / "trials" / f"{done[1].number:04d}").exists()


def test_dead_database_is_one_clear_error_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://alice:s3cret@127.0.0.1:1/none"
    code = run(tmp_path / "x", "--budget", "0.5M", "--trials", "1", "--storage", url, "--mlflow-uri", url)
    assert code == 2
    printed = capsys.readouterr()
    assert "cannot open the Optuna storage 'postgresql://alice:***@127.0.0.1:1/none'" in printed.err
    assert "s3cret" not in printed.err + printed.out
    written = [p.read_text(errors="replace") for p in (tmp_path / "x").rglob("*") if p.is_file()]
    assert not any("s3cret" in text for text in written)


def test_urls_are_written_with_their_passwords_masked(tmp_path: Path) -> None:
    from results.study_table import redact_url

    assert (
        redact_url("postgresql+psycopg://bob:p%40ss@db.lan:5432/nas") == "postgresql+psycopg://bob:***@db.lan:5432/nas"
    )
    assert redact_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db" and redact_url(None) is None
    tracking = TrackingSettings(storage="postgresql://a:pw1@h/db", mlflow_uri="http://u:pw2@h:5000")
    spec = SearchSpec(budget=500_000, out=tmp_path, tracking=tracking)
    assert spec.storage_url == "postgresql://a:pw1@h/db"  # used as given to connect
    text = spec.write().read_text()
    assert "pw1" not in text and "pw2" not in text and "a:***@h" in text and "u:***@h:5000" in text


def test_dump_space(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--budget", "0.5M", "--dump-space", "3"]) == 0
    out = capsys.readouterr().out
    assert "space size:" in out and out.count('"blocks"') == 3
    assert main(["--budget", "0.5M", "--dump-space", "0", "--out", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert "space size:" in out and '"blocks"' not in out and not (tmp_path / "none").exists()  # no search ran


def test_single_objective_reports_validation_psnr_to_optunas_pruner(tmp_path: Path) -> None:
    out = tmp_path / "single"
    assert run(out, "--budget", "0.5M", "--trials", "2", "--objectives", "psnr") == 0
    study = load_study(out)
    assert len(study.directions) == 1
    done = [t for t in study.get_trials(deepcopy=False) if counted(t) and t.state.name == "COMPLETE"]
    assert done
    for t in done:  # the values Hyperband decides on are the validation curve, step by step
        assert t.intermediate_values == {int(k): v for k, v in t.user_attrs["curve"].items()}
        assert set(t.intermediate_values) == {3, 6}


def test_fingerprint_refuses_other_settings_and_keeps_the_spec(tmp_path: Path, capsys) -> None:
    out = tmp_path / "f"
    assert run(out, "--budget", "150k", "--trials", "1") == 0
    spec_before = (out / "search_spec.json").read_text()
    capsys.readouterr()
    assert run(out, "--budget", "150k", "--trials", "2", "--proxy-steps", "9", "--data", "synthetic:40") == 2
    err = capsys.readouterr().err
    assert "proxy_steps: 6 -> 9" in err and "data: ['default'] -> ['synthetic:40']" in err
    assert "--out" in err and "--study-name" in err and "search_spec.json" in err
    assert (out / "search_spec.json").read_text() == spec_before
    assert len([t for t in load_study(out).get_trials(deepcopy=False) if counted(t)]) == 1
    # A larger budget does not change any score: the study resumes.
    assert run(out, "--budget", "200k", "--trials", "2") == 0


def test_a_resumed_studys_scores_repeat_outside_the_study(tmp_path: Path) -> None:
    """Re-scoring a stored trial's architecture from scratch (sliced from a freshly loaded parent), after other
    trials ran, gives its stored PSNR."""
    from rife_core.model.config import ArchConfig
    from rife_core.model.parents import resolve_parent
    from rife_core.training.start import make_start
    from search.candidate import run_candidate
    from space.space import SearchSpace

    out = tmp_path / "r"
    assert run(out, "--budget", "150k", "--trials", "2") == 0
    assert run(out, "--budget", "150k", "--trials", "3") == 0
    spec = SearchSpec.read(out / "search_spec.json")
    done = [t for t in load_study(out).get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    last = done[-1]  # trained in the resumed process, after the others
    cfg = ArchConfig.from_json(last.user_attrs["config_json"])
    space = SearchSpace.load(spec.space)
    start = make_start(resolve_parent(space.parent), importance=spec.proxy.importance, fit=spec.proxy.fit)
    again = run_candidate(cfg, spec.proxy.train_config(parent=space.parent), start=start, device=spec.proxy.device)
    assert abs(again.metrics["psnr"] - last.user_attrs["psnr"]) < 1e-6


@pytest.mark.slow
def test_killed_search_resumes_to_the_total(tmp_path: Path) -> None:
    """Kill the process mid-trial, re-run the same command: the total completes, nothing is duplicated."""
    import signal
    import subprocess

    out = tmp_path / "k"
    cmd = slow_search_command(out)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_a_running_trial(out)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed = [t.number for t in load_study(out).get_trials(deepcopy=False) if t.state.name == "RUNNING"]
    assert killed, "the search was not caught mid-trial"
    assert run(out, "--proxy-steps", "400", "--proxy-val-every", "100", "--budget", "0.5M", "--trials", "2") == 0
    study = load_study(out)
    done = [t for t in study.get_trials(deepcopy=False) if counted(t)]
    assert len(done) == 2 and not set(killed) & {t.number for t in done}
    runs = trial_runs(out)
    assert sorted(runs["trial"]) == sorted(t.number for t in done)  # no run for the killed trial, none twice


def test_resume_on_a_shared_storage_leaves_a_run_another_worker_is_logging(tmp_path: Path) -> None:
    # With --storage other workers may be logging a trial right now: a fresh RUNNING run is theirs.
    out = tmp_path / "s"
    storage = ["--storage", f"sqlite:///{tmp_path / 'shared.db'}"]
    assert run(out, "--budget", "150k", "--trials", "1", *storage) == 0
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name(EXPERIMENT)
    (logging,) = client.search_runs([exp.experiment_id], filter_string="tags.kind = 'trial'")
    client.update_run(logging.info.run_id, status="RUNNING")
    assert run(out, "--budget", "150k", "--trials", "2", *storage) == 0
    runs = trial_runs(out)
    assert len(runs) == 2 and runs["trial"].is_unique  # not deleted, not logged a second time
    kept = client.get_run(logging.info.run_id).info
    assert kept.lifecycle_stage == "active" and kept.status == "RUNNING"


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_interrupted_trial_is_redone(tmp_path: Path) -> None:
    """SIGINT mid-trial: exit 130, a summary, the running trial failed as 'interrupted' and not counted."""
    import signal
    import subprocess

    from results.record import TrialRecord

    out = tmp_path / "c"
    cmd = slow_search_command(out)
    # A child inherits an ignored SIGINT (which something earlier in a test session may have set), and Python
    # then keeps ignoring it: give the search the default disposition, as a terminal's Ctrl-C finds it.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for_a_running_trial(out)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted: 0 of 2 trials finished" in err
    trials = load_study(out).get_trials(deepcopy=False)
    stopped = [t for t in trials if TrialRecord.of(t.user_attrs).fail_reason == "interrupted"]
    assert len(stopped) == 1 and stopped[0].state.name == "FAIL" and not counted(stopped[0])


@pytest.mark.parametrize(("best", "fires"), [(30.40, True), (30.58, True), (30.60, False), (31.50, False)])
def test_flat_front_warning_fires_only_when_the_best_trial_is_near_the_blend(best: float, fires: bool, caplog) -> None:
    from results.schema import ABOVE_BLEND_DB
    from search.run import warn_if_uninformative

    blend = 30.29
    df = pd.DataFrame({"state": ["COMPLETE", "COMPLETE", "PRUNED"], "psnr": [best, 30.0, 33.0]})
    with caplog.at_level("WARNING", logger="search"):
        warn_if_uninformative(df, {"blend (baseline)": blend, "dis (baseline)": 33.0}, SearchSpec(budget=500_000))
    assert ("no trial beat the blend" in caplog.text) is fires
    assert fires is (best - blend < ABOVE_BLEND_DB)  # pruned trials do not count, whatever they scored


@pytest.mark.slow  # over a minute on 2 cores
def test_retrain_top_reports_retrained_and_test_scores_beside_the_search_score(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s"
    assert (
        run(
            out,
            "--budget",
            "150k",
            "--trials",
            "1",
            "--no-lpips",
            "--retrain-top",
            "1",
            "--retrain-steps",
            "4",
            "--fix",
            "corr_radius=0",
            "--fix",
            "flow_resolution=full",
            "--latency-size",
            "480x640",
        )
        == 0  # the architecture this test was written with: 4 steps train it sanely
    )
    printed = capsys.readouterr().out
    assert "Retrained front members (4 steps" in printed
    assert "search_psnr" in printed and "test_psnr default" in printed and "test_psnr large_motion:default" in printed
    assert "python -m rife_core.interpolate" in printed
    members = pd.read_csv(out / "retrain.csv")
    (m,) = members.itertuples()
    assert m.init == "sliced" and m.params < 150_000 and Path(m.onnx).is_file() and Path(m.checkpoint).is_file()
    assert {"speedup vs parent rife_v3_hd", "speedup vs rife_v4_25"} <= set(members.columns)
    base = pd.read_csv(out / "retrain_baselines.csv").set_index("data")
    assert {"blend", "dis", "parent rife_v3_hd"} <= set(base.columns)
    assert base.loc["default", "parent rife_v3_hd"] > base.loc["default", "blend"]
    lat = base.loc["latency_ms 480x640 (torch)"]
    assert lat["parent rife_v3_hd"] > lat["rife_v4_25"] > 0  # the parent is the slower released network
    latency = members["latency_ms 480x640 (torch)"][0]
    # timed side by side with the networks it is compared with: faster than the 2.3M-parameter parent
    assert 0 < latency < lat["parent rife_v3_hd"] and members["speedup vs parent rife_v3_hd"][0] > 1
    # DIS at each preset and the blend, timed in the same rounds and scored on the same triplets
    assert {"dis-ultrafast", "dis-fast"} <= set(base.columns) and base.loc["latency_dis", "dis"] == 1.0
    assert lat["dis-ultrafast"] < lat["dis"] and base.loc["latency_dis", "dis-ultrafast"] < 1  # ~5x apart
    assert members["latency_dis"][0] > 0 and base.loc["default", "dis-ultrafast"] > base.loc["default", "blend"]
    fig = time_quality_figure(members, base, "test_psnr default")
    drawn = {t.name: t for t in fig.data}
    assert drawn["DIS"].x[-1] == pytest.approx(lat["dis"]) and drawn["DIS"].y[-1] == pytest.approx(
        base.loc["default", "dis"]
    )
    assert list(drawn["found members"].x) == pytest.approx([latency])


def test_the_latency_backend_enters_the_fingerprint_only_when_it_is_not_torch(tmp_path: Path) -> None:
    torch_spec = SearchSpec(budget=500_000, out=tmp_path)
    ort_spec = SearchSpec(budget=500_000, out=tmp_path, proxy=ProxySettings(latency_backend="onnxruntime"))
    space = {"width": [16]}
    assert "latency_backend" not in torch_spec.fingerprint_settings(space)  # studies made before it resume
    assert fingerprint(torch_spec.fingerprint_settings(space)) != fingerprint(ort_spec.fingerprint_settings(space))
    # latency does not change a candidate's scores: cached proxy results stay valid
    assert torch_spec.proxy.key() == ort_spec.proxy.key() and ort_spec.proxy.latency_backend == "onnxruntime"


def test_a_flat_front_is_warned_about_with_the_fix(caplog) -> None:
    from search.run import warn_if_uninformative

    df = pd.DataFrame({"state": ["COMPLETE"], "psnr": [30.3]})
    with caplog.at_level("WARNING", logger="search"):
        warn_if_uninformative(df, {"blend (baseline)": 30.29}, SearchSpec(budget=500_000))
    assert "--proxy-steps" in caplog.text and "proxies are too short" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="search"):
        warn_if_uninformative(df.assign(psnr=32.0), {"blend (baseline)": 30.29}, SearchSpec(budget=500_000))
    assert caplog.text == ""


@pytest.mark.parametrize(("objectives", "warns"), [("psnr,macs", True), ("psnr,latency", False)])
def test_a_prior_space_without_the_latency_objective_is_warned_about(
    objectives: str, warns: bool, tmp_path: Path, caplog
) -> None:
    space = tmp_path / "hybrid.yaml"
    text = (Path(__file__).parents[2] / "space" / "v4_space.yaml").read_text()
    space.write_text(text.replace("flow_init: [none]", "flow_init: [none, dis_medium]"))
    argv = ["--budget", "0.5M", "--space", str(space), "--objectives", objectives, "--dump-space", "0"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 0
    assert ("MACs do not count the prior's DIS" in caplog.text) == warns


def test_a_study_recorded_before_the_one_shot_path_was_retired_resumes(tmp_path: Path) -> None:
    """``data/study_before_retirement``: a one-trial study and its search_spec.json, written by the code of
    tag shared-supernet-final (TINY, ``--budget 150k --trials 1 --no-lpips``). The same command with one trial more resumes it: the fingerprint reads as before."""
    import shutil

    recorded = Path(__file__).parent / "data" / "study_before_retirement"
    out = tmp_path / "old"
    shutil.copytree(recorded, out)
    before = load_study(out)
    (done,) = [t for t in before.get_trials(deepcopy=False) if counted(t)]
    stored = json.loads((out / "search_spec.json").read_text())
    assert stored["strategy"] == "proxy" and "supernet" in stored  # the retired settings are in the file
    spec = SearchSpec.read(out / "search_spec.json")  # and read without them
    fp = before.user_attrs["fingerprint"]
    assert fingerprint(spec.fingerprint_settings(before.user_attrs["fingerprint_settings"]["space"])) == fp
    # the default space has grown since (layer kinds): the refusal writes the study's recorded space, which resumes it
    assert run(out, "--budget", "150k", "--trials", "2", "--no-lpips", kinds=True) == 2
    space = out / "recorded_space.yaml"
    assert space.is_file()
    assert run(out, "--budget", "150k", "--trials", "2", "--no-lpips", "--space", str(space)) == 0
    after = load_study(out)
    assert after.user_attrs["fingerprint"] == fp
    trials = [t for t in after.get_trials(deepcopy=False) if counted(t)]
    assert len(trials) == 2 and trials[0].number == done.number
    assert trials[0].user_attrs["psnr"] == done.user_attrs["psnr"]  # what was stored stays
