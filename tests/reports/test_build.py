"""The report builder on fixed tables: the expected figures, tables and an offline page."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reports.build import ReportError, build, main


def config(levels: int, width: int, upsample: str) -> str:
    blocks = [{"scale": 2**i, "width": width, "depth": 2} for i in reversed(range(levels))]
    return json.dumps({"blocks": blocks, "upsample": upsample, "warp_every": 1, "encoder_width": 16})


def trials() -> pd.DataFrame:
    rows = [  # trial, state, psnr, ssim, GMACs, latency, params, levels, width, upsample, pareto
        (0, "COMPLETE", 30.1, 0.90, 0.10, 10.0, 50_000, 3, 16, "deconv", True),
        (1, "COMPLETE", 30.6, 0.91, 0.30, 20.0, 150_000, 4, 32, "deconv", True),
        (2, "COMPLETE", 30.2, 0.89, 0.40, 25.0, 200_000, 4, 32, "bilinear", False),
        (3, "PRUNED", 29.0, 0.85, 0.20, 15.0, 90_000, 3, 24, "bilinear", False),
        (4, "COMPLETE", 31.0, 0.92, 0.80, 40.0, 450_000, 5, 48, "pixelshuffle", True),
        (5, "COMPLETE", 30.0, 0.90, 0.50, 30.0, 300_000, 5, 48, "bilinear", False),
    ]
    return pd.DataFrame(
        [
            {
                "trial": t,
                "state": s,
                "arch_id": f"a{t}",
                "config_json": config(lv, w, up),
                "params": p,
                "macs": g * 1e9,
                "latency_ms": lat,
                "psnr": ps,
                "ssim": ss,
                "pareto": par,
            }
            for t, s, ps, ss, g, lat, p, lv, w, up, par in rows
        ]
    )


def test_search_folder_gives_fronts_hypervolume_effects_and_tables(tmp_path: Path) -> None:
    src = tmp_path / "search"
    src.mkdir()
    trials().to_csv(src / "trials.csv", index=False)
    (src / "baselines.json").write_text(json.dumps({"blend (baseline)": 30.29, "dis (baseline)": 33.0}))
    index = build(src)
    page = index.read_text()
    # fronts: (MACs, latency) x (PSNR, SSIM) = 4; hypervolume; dimension effects; parallel coordinates
    assert page.count('class="figure"') == 7
    assert '<script src="plotly.min.js">' in page and "cdn" not in page.lower()
    assert (index.parent / "plotly.min.js").stat().st_size > 1_000_000
    front = pd.read_csv(index.parent / "front.csv")
    assert sorted(front["trial"]) == [0, 1, 4] and "GMACs" in front and front["GMACs"].max() == pytest.approx(0.8)
    md = (index.parent / "trials.md").read_text()
    assert md.startswith("|") and "GMACs" in md and "config_json" not in md
    effects = pd.read_csv(index.parent / "dimension_effects.csv")
    assert (effects["share_of_variance"].between(0, 1)).all() and "levels" in set(effects["dimension"])


def test_ablation_folder_gives_bars_and_intervals(tmp_path: Path) -> None:
    src = tmp_path / "upsample"
    src.mkdir()
    runs = [
        {"variant": v, "seed": s, "status": "completed", "psnr@default": 30 + i * 0.2 + s * 0.05}
        for i, v in enumerate(["deconv", "bilinear"])
        for s in range(3)
    ]
    (src / "runs.jsonl").write_text("\n".join(json.dumps(r) for r in runs))
    pd.DataFrame([{"variant": "deconv (control)"}, {"variant": "bilinear"}]).to_csv(src / "variants.csv", index=False)
    pd.DataFrame(
        [
            {
                "variant": "bilinear",
                "metric": "psnr@default",
                "difference": 0.2,
                "ci_low": 0.1,
                "ci_high": 0.3,
                "pairs": 3,
                "verdict": "better",
            }
        ]
    ).to_csv(src / "differences.csv", index=False)
    page = build(src).read_text()
    assert page.count('class="figure"') == 2  # one bar chart per metric, one interval plot per metric


def test_unknown_source_is_a_clear_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(ReportError, match="search folder"):
        build(tmp_path)
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path)])
    assert e.value.code == 2 and "trials.csv" in capsys.readouterr().err


def test_fidelity_folder_gives_the_scatter_and_the_agreement(tmp_path: Path) -> None:
    src = tmp_path / "fid"
    src.mkdir()
    df = pd.DataFrame(
        {
            "arch_id": list("abcd"),
            "params": [1e4, 5e4, 1e5, 4e5],
            "config_json": "{}",
            "proxy_psnr": [29.0, 29.5, 30.1, 30.4],
            "reference_psnr": [29.2, 29.9, 30.0, 31.0],
        }
    )
    df.to_csv(src / "fidelity_k1_r1.csv", index=False)
    agreement = [{"name": "kendall_tau", "value": 0.67, "low": -0.2, "high": 1.0, "n": 4}]
    summary = {"proxy_key": "k1", "blend_psnr": 30.29, "agreement": agreement, "references_above_blend": 1, "n": 4}
    (src / "summary.json").write_text(json.dumps(summary))
    page = build(src).read_text()
    assert page.count('class="figure"') == 1 and "kendall_tau +0.67 [-0.20, +1.00]" in page
    assert "config_json" not in (src / "report" / "architectures.csv").read_text()


def test_validation_curves_of_trials_and_of_ablation_runs(tmp_path: Path) -> None:
    from reports.figures import ablation_curves_figure, search_curves_figure

    df = trials()
    df["curve"] = [json.dumps({"200": 29.0 + t * 0.1, "400": 29.5 + t * 0.2}) if t != 5 else None for t in df["trial"]]
    fig = search_curves_figure(df, {"blend (baseline)": 30.29})
    assert len(fig.data) == 5  # trial 5 has no curve
    pruned = [t for t in fig.data if "pruned" in t.name]
    assert [t.name for t in pruned] == ["trial 3 (pruned)"] and pruned[0].line.dash == "dash"
    assert list(fig.data[0].x) == [200, 400]

    src = tmp_path / "search"
    src.mkdir()
    df.to_csv(src / "trials.csv", index=False)
    (src / "baselines.json").write_text(json.dumps({"blend (baseline)": 30.29}))
    page = build(src).read_text()
    assert page.count('class="figure"') == 8 and "Validation curves" in page
    assert "curve" not in pd.read_csv(src / "report" / "trials.csv")

    runs = pd.DataFrame(
        [
            {
                "variant": v,
                "seed": s,
                "status": "completed",
                "history": [[100, 30.0], [200, 31.0 + s]],
                "history_blend": 30.5,
            }
            for v in ("a", "b")
            for s in range(2)
        ]
    )
    fig = ablation_curves_figure(runs, "a")
    assert len(fig.data) == 4 and sum(t.showlegend for t in fig.data) == 2  # one legend entry per variant
    assert {t.line.color for t in fig.data if t.legendgroup == "a"} != {
        t.line.color for t in fig.data if t.legendgroup == "b"
    }


def test_a_study_is_found_by_name_in_its_storage(tmp_path: Path) -> None:
    import optuna

    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = optuna.create_study(study_name="s1", storage=url, directions=["maximize", "minimize"])
    study.set_user_attr("baselines", {"blend (baseline)": 29.5})
    for r in trials().itertuples():
        attrs = {
            "arch_id": r.arch_id,
            "config_json": r.config_json,
            "params": r.params,
            "macs": r.macs,
            "latency_ms": r.latency_ms,
            "psnr": r.psnr,
            "ssim": r.ssim,
            "curve": {"100": r.psnr - 1},
        }
        t = study.ask()
        for k, v in attrs.items():
            t.set_user_attr(k, v)
        if r.state == "PRUNED":
            study.tell(t, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(t, [r.psnr, r.macs])
    out = tmp_path / "report"
    assert main(["--storage", url, "--study", "s1", "--out", str(out)]) == 0
    table = pd.read_csv(out / "trials.csv")
    assert sorted(table["trial"]) == list(range(6)) and table.loc[table["trial"] == 3, "state"].item() == "PRUNED"
    assert sorted(pd.read_csv(out / "front.csv")["trial"]) == [0, 1, 4]  # Optuna's own front of (psnr, macs)
    page = (out / "index.html").read_text()
    assert "blend (baseline)" in page and "Validation curves" in page


def test_a_missing_study_or_half_a_store_is_a_usage_error(tmp_path: Path, capsys) -> None:
    import optuna

    url = f"sqlite:///{tmp_path / 'studies.db'}"
    optuna.create_study(study_name="there", storage=url)
    with pytest.raises(SystemExit) as e:
        main(["--storage", url, "--study", "missing"])
    assert e.value.code == 2 and "studies there: there" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["--storage", url])
    assert e.value.code == 2 and "--storage needs --study" in capsys.readouterr().err


def test_a_field_some_configs_leave_out_reads_as_its_default() -> None:
    """Configs write a field only when it differs from its default: trials with and without it still draw."""
    from reports.figures import DEFAULT, dimension_effects, parallel_figure, space_columns

    rows = []
    for i, both in enumerate([True, None, True, None, None]):
        cfg = {"blocks": [{"scale": 4, "width": 16 + 8 * i, "depth": 2}], "upsample": "deconv2"}
        if both is not None:
            cfg["both_orders"] = both
        rows.append(
            {"trial": i, "state": "COMPLETE", "psnr": 30.0 + i + (2.0 if both else 0.0), "config_json": json.dumps(cfg)}
        )
    df = pd.DataFrame(rows)
    assert space_columns(df)["both_orders"].tolist() == [True, DEFAULT, True, DEFAULT, DEFAULT]
    axis = next(d for d in parallel_figure(df).data[0].dimensions if d.label == "both_orders")
    assert list(axis.ticktext) == ["True", DEFAULT]
    assert dimension_effects(df)["both_orders"] > 0


def test_the_fidelity_figure_draws_each_axis_blend_on_its_own_triplets() -> None:
    from reports.fidelity import fidelity_figure

    df = pd.DataFrame({"arch_id": ["a", "b"], "params": [1, 2], "proxy_psnr": [35.5, 36.0], "reference_psnr": [37, 38]})
    shapes = fidelity_figure(df, blend=35.06, reference_blend=36.33).layout.shapes
    vertical = [s for s in shapes if s.x0 == s.x1]
    horizontal = [s for s in shapes if s.y0 == s.y1]
    assert [s.x0 for s in vertical] == [35.06] and [s.y0 for s in horizontal] == [36.33]
    same = fidelity_figure(df, blend=30.29).layout.shapes  # one blend: both lines at it
    assert sorted((s.x0, s.y0) for s in same) == sorted([(30.29, 0), (0, 30.29)])
