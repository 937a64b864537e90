"""The reference table at tiny sizes: rows appended and resumed, recipes rebuilt from what the table records,
fidelity ranked against it with the seed-vs-seed ceiling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fidelity import reference
from fidelity import run as fidelity
from fidelity.rank_stats import seed_agreement

TINY = (
    "--budget 0.5M --n 3 --seeds 0,1 --start seeded --ref-steps 4 --ref-crop 48 --ref-batch 2 --score-items 2".split()
)


@pytest.fixture(scope="module")
def kinds_space(tmp_path_factory) -> Path:
    """The default space with the parent's layer kinds only: children whose starts are copies, not fits (the
    fits cost tens of seconds per child; the slow test below rebuilds a fitted row)."""
    import yaml

    from rife_core.model.layer_starts import KIND_CHOICES
    from space.space import PARENT_SPACE

    data = yaml.safe_load(PARENT_SPACE.read_text())
    for name in KIND_CHOICES:
        data.pop(name)
    path = tmp_path_factory.mktemp("space") / "parent_kinds.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_seed_agreement_is_the_mean_pairwise_kendall_tau() -> None:
    rng = np.random.default_rng(3)
    two = rng.normal(size=(8, 2))
    got = seed_agreement(two)
    assert got.value == pytest.approx(stats.kendalltau(two[:, 0], two[:, 1]).statistic)
    assert got.low <= got.value <= got.high and got.n == 8
    three = rng.normal(size=(6, 3))
    pairs = [stats.kendalltau(three[:, i], three[:, j]).statistic for i, j in ((0, 1), (0, 2), (1, 2))]
    assert seed_agreement(three).value == pytest.approx(np.mean(pairs))
    same = np.repeat(np.arange(5.0)[:, None], 2, axis=1)
    assert seed_agreement(same).value == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 seeds"):
        seed_agreement(two[:, :1])


@pytest.fixture(scope="module")
def tiny_table(tmp_path_factory, kinds_space: Path) -> Path:
    table = tmp_path_factory.mktemp("ref") / "reference.csv"
    assert reference.main([*TINY, "--space", str(kinds_space), "--table", str(table)]) == 0
    return table


def test_the_table_holds_every_arch_and_seed_and_a_rerun_trains_nothing(
    tiny_table: Path, kinds_space: Path, capsys
) -> None:
    rows = pd.read_csv(tiny_table)
    assert len(rows) == 6 and sorted(rows["seed"].value_counts().tolist()) == [3, 3]
    assert rows[list(reference.SCORES)].notna().all().all() and rows["recipe"].nunique() == 1
    before = tiny_table.read_text()
    assert reference.main([*TINY, "--space", str(kinds_space), "--table", str(tiny_table)]) == 0
    assert tiny_table.read_text() == before
    recipes = json.loads(reference.recipes_path(tiny_table).read_text())
    (key,) = recipes
    assert key == rows["recipe"][0] and recipes[key]["start"] == "seeded" and recipes[key]["steps"] == 4
    assert "--seeds" not in recipes[key]["argv"] and "--table" not in recipes[key]["argv"]


def test_a_row_retrained_from_its_recorded_recipe_gives_the_stored_scores(tiny_table: Path) -> None:
    from rife_core.model.config import ArchConfig

    rows = pd.read_csv(tiny_table)
    row = rows.iloc[0]
    recipe = reference.recipe_of(tiny_table, row["recipe"])
    assert recipe.key() == row["recipe"]
    start = reference.recipe_start(recipe, None)
    again = reference.train_reference_row(ArchConfig.from_json(row["config_json"]), recipe, int(row["seed"]), start)
    for col in reference.SCORES:
        assert again[col] == pytest.approx(row[col], abs=0.01)


def test_fidelity_ranks_against_the_table_and_states_its_ceiling(
    tiny_table: Path, kinds_space: Path, tmp_path: Path, capsys
) -> None:
    key = pd.read_csv(tiny_table)["recipe"][0]
    argv = f"--budget 0.5M --table {tiny_table} --reference-recipe {key} --out {tmp_path / 'fid'} --val-items 2"
    argv += f" --space {kinds_space}"
    tiny_proxy = "--proxy-steps 4 --proxy-crop 48 --proxy-batch 2 --proxy-seeds 0,1 --proxy-statistic tail"
    assert fidelity.main([*argv.split(), *tiny_proxy.split()]) == 0
    out = capsys.readouterr().out
    assert "ceiling: the reference's own seed-vs-seed seed_kendall_tau" in out
    summary = json.loads((tmp_path / "fid" / "summary.json").read_text())
    assert summary["n"] == 3 and summary["ceiling"]["name"] == "seed_kendall_tau"
    assert summary["proxy_seeds"] == [0, 1]
    results = [json.loads(line) for line in (tmp_path / "fid" / "results.jsonl").read_text().splitlines()]
    assert len(results) == 6  # 3 architectures x 2 proxy seeds; the reference is not trained
    with pytest.raises(SystemExit):
        fidelity.main([*argv.replace(key, "000000000000").split(), *tiny_proxy.split()])

    # --reference-split test: ranked by the table's test-split scores, the ceiling by their seed-vs-seed tau
    assert fidelity.main([*argv.split(), *tiny_proxy.split(), "--reference-split", "test"]) == 0
    table = pd.read_csv(tiny_table)
    ranked = pd.read_csv(next((tmp_path / "fid").glob("fidelity_*_test.csv"))).set_index("arch_id")
    want = table.groupby("arch_id")["psnr_test"].mean()
    assert np.allclose(ranked.loc[want.index, "reference_psnr"], want)
    seeds = table.pivot(index="arch_id", columns="seed", values="psnr_test")
    tau = stats.kendalltau(seeds[0], seeds[1]).statistic
    summary = json.loads((tmp_path / "fid" / "summary.json").read_text())
    assert summary["reference_split"] == "test" and summary["ceiling"]["value"] == pytest.approx(tau)
    assert len((tmp_path / "fid" / "results.jsonl").read_text().splitlines()) == 6  # the proxies, not retrained
    # the plateau check's blend is on the triplets the table's test scores were measured on (its recipe's 2
    # test triplets, whole frames), not on the proxy's validation crops
    from rife_core.data.spec import load
    from rife_core.evaluation.baselines import blend
    from rife_core.evaluation.evaluate import evaluate

    on_test = evaluate(blend, load("default", "test"), max_items=2)["psnr"]
    assert summary["reference_blend_psnr"] == pytest.approx(on_test)
    assert summary["reference_blend_psnr"] != pytest.approx(summary["blend_psnr"], abs=0.1)


def _rebuilt_row(tmp_path: Path, space: Path, pick) -> None:
    """Build a one-seed sliced table on ``space``, then retrain the row ``pick`` chooses from its recorded recipe."""
    from rife_core.model.config import ArchConfig
    from rife_core.model.parents import resolve_parent

    table = tmp_path / "reference.csv"
    tiny = "--budget 0.5M --n 3 --seeds 0 --ref-steps 4 --ref-crop 48 --ref-batch 2 --score-items 2".split()
    assert reference.main([*tiny, "--ref-importance", "l1", "--space", str(space), "--table", str(table)]) == 0
    rows = pd.read_csv(table)
    (key,) = set(rows["recipe"])
    described = json.loads(reference.recipes_path(table).read_text())[key]
    assert described["start"] == "sliced" and described["parent"] == "rife_v3_hd" and described["importance"] == "l1"
    recipe = reference.recipe_of(table, key)
    assert recipe.start == "sliced" and recipe.key() == key
    row = next(r for _, r in rows.iterrows() if pick(json.loads(r["config_json"])))
    start = reference.recipe_start(recipe, resolve_parent("rife_v3_hd"))  # a fresh load of the parent
    again = reference.train_reference_row(ArchConfig.from_json(row["config_json"]), recipe, int(row["seed"]), start)
    for col in reference.SCORES:
        assert again[col] == pytest.approx(row[col], abs=0.01)


def test_a_sliced_row_is_rebuilt_from_its_recorded_recipe(tmp_path: Path, kinds_space: Path) -> None:
    """The default recipe of the parent's space starts sliced; its rows repeat from what the table records."""
    _rebuilt_row(tmp_path, kinds_space, lambda cfg: True)


@pytest.mark.slow
def test_a_row_with_fitted_layers_is_rebuilt_from_its_recorded_recipe(tmp_path: Path) -> None:
    """A child of the grown space with layer kinds the parent lacks (its start fitted): the fit repeats too."""
    from space.space import PARENT_SPACE

    _rebuilt_row(tmp_path, PARENT_SPACE, lambda cfg: cfg.get("conv_type") == "dsconv")


def test_the_default_recipe_is_the_one_the_shipped_table_was_built_by() -> None:
    """The recipe key is the table's second key: the default recipe must hash as the shipped rows do."""
    from space.space import SearchSpace

    recipe = reference.default_recipe(SearchSpace.load())
    table = reference.read_table()
    rows = table[table["recipe"] == recipe.key()]
    assert len(rows) >= 24 and rows.groupby("arch_id").size().max() <= 2  # 12 children and more, 2 seeds each
    described = json.loads(reference.recipes_path(reference.TABLE).read_text())[recipe.key()]
    assert {k: v for k, v in described.items() if k != "argv"} == json.loads(json.dumps(recipe.describe()))
    assert recipe.start == "sliced" and recipe.parent == "rife_v3_hd"


def test_the_tables_ceiling_is_scipys_tau_between_its_seeds_over_children_with_both(tiny_table: Path) -> None:
    rows = pd.read_csv(tiny_table)
    one_seed = rows.iloc[:1].assign(arch_id="only-one-seed")  # a child with one seed is left out
    ceilings = reference.seed_ceilings(pd.concat([rows, one_seed]))
    for col, tau in ceilings.items():
        wide = rows.pivot_table(index="arch_id", columns="seed", values=col)
        assert tau.n == 3 and tau.value == pytest.approx(stats.kendalltau(wide[0], wide[1]).statistic)
    assert set(ceilings) == {"psnr_lm", "psnr_val", "psnr_test"}
