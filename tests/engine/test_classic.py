"""Classical designs (pyDOE3): a Latin hypercube and a Plackett-Burman screening design with
centre points, and the control recipe repeated in every batch, through Campaign.suggest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe.campaign import Campaign
from doe.engine.encoding import Encoder
from doe.errors import ConfigError, ProposalError
from doe.templates import resolve_config


def _campaign(tmp_path: Path, **changes: object) -> Campaign:
    config = resolve_config("hfo2-ncm85")
    config = config.replace(name="designs", **changes) if changes else config.replace(name="designs")
    from doe.engine import EngineSettings

    return Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'd.sqlite3'}", actor="t",
                                settings=EngineSettings.fast())


def test_a_latin_hypercube_puts_one_recipe_in_each_stratum_of_every_continuous_range(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path)
    config = campaign.config
    batch = campaign.suggest(8, design="latin_hypercube")
    assert (batch["strategy"] == "latin_hypercube").all() and len(batch) == 8
    for p in config.parameters:
        if p.type == "continuous" and not getattr(p, "log_scale", False) and p.resolution is None:
            strata = np.floor((batch[p.name] - p.lower) / (p.upper - p.lower) * 8).clip(0, 7)
            assert sorted(strata.astype(int)) == list(range(8)), p.name
    # the same seed and data give the same design; recorded as the batch's provenance
    assert campaign.proposals()["model_settings"].iloc[0]["design"] == "latin_hypercube"


def test_a_screening_design_sets_each_parameter_at_two_levels_plus_centre_points(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path)
    config = campaign.config
    with pytest.raises(ProposalError, match="12 runs"):
        campaign.suggest(10, design="screening")
    assert campaign.history().empty  # nothing stored
    batch = campaign.suggest(14, design="screening")
    corners, centre = batch.iloc[:12], batch.iloc[12:]
    for p in config.parameters:
        column = corners[p.name]
        if p.type == "categorical":
            assert set(column) == set(p.values[:2]), p.name
        elif p.type == "discrete":
            assert set(column) == {min(p.values), max(p.values)}, p.name
        else:
            assert set(np.round(column, 6)) == {round(p.lower, 6), round(p.upper, 6)}, p.name
        # a balanced design: each level in half the runs
        assert column.value_counts().tolist() == [6, 6], p.name
    continuous = [p for p in config.parameters if p.type == "continuous"]
    for p in continuous:
        assert centre[p.name].nunique() == 1 and p.lower < centre[p.name].iloc[0] < p.upper


def test_the_control_recipe_closes_every_batch(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path, control_recipe="reference",
                         batch_shared=["anneal_temperature_c", "anneal_time_h", "anneal_atmosphere"])
    reference = campaign.config.reference_recipe()
    assert reference is not None and campaign.config.control_recipe == {
        k: (v if isinstance(v, str) else float(v)) for k, v in reference.items()}
    first = campaign.suggest(4)
    assert first["strategy"].tolist()[-1] == "control" and len(first) == 4
    control = first.iloc[-1]
    shared = ["anneal_temperature_c", "anneal_time_h", "anneal_atmosphere"]
    for name, value in reference.items():
        if name not in shared:
            assert control[name] == value, name
    # in the batch's furnace run: the shared settings are the batch's
    assert (first[shared].nunique() == 1).all()
    second = campaign.suggest(3)
    assert second["strategy"].tolist()[-1] == "control"
    assert campaign.suggest(1)["strategy"].tolist() != ["control"]  # a batch of one has no room for it
    stored = campaign.history()
    assert (stored["hfo2_loading_wt_pct"] == reference["hfo2_loading_wt_pct"]).sum() == 2  # exactly, twice


@pytest.mark.parametrize(("control", "message"), [
    ({"hfo2_loading_wt_pct": 0.5}, "control_recipe: give a value for every parameter"),
    ("published", "control_recipe: must be 'reference' or a mapping"),
])
def test_a_bad_control_recipe_is_refused_naming_the_field(control: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_config("hfo2-ncm85").replace(control_recipe=control)


def test_a_control_value_outside_the_space_is_named() -> None:
    config = resolve_config("hfo2-ncm85")
    bad = dict(config.reference_recipe() or {}) | {"anneal_temperature_c": 2000.0}
    with pytest.raises(ConfigError, match=r"control_recipe\.anneal_temperature_c: 2000"):
        config.replace(control_recipe=bad)
    assert pd.Series(config.replace(control_recipe=config.reference_recipe()).to_dict()["control_recipe"]).size == 9


def test_doe_suggest_design_from_the_shell(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DOE_HOME": str(tmp_path / "home"), "DOE_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    run = [sys.executable, "-m", "doe.cli"]
    assert subprocess.run([*run, "init", "--name", "s"], env=env, capture_output=True, timeout=300).returncode == 0
    done = subprocess.run([*run, "suggest", "--campaign", "s", "-n", "13", "--design", "screening"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "(screening)" in done.stdout
    too_few = subprocess.run([*run, "suggest", "--campaign", "s", "-n", "4", "--design", "screening"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert too_few.returncode != 0 and "12 runs" in too_few.stderr


_COUPLED = {"name": "coupled", "objectives": [{"name": "y", "goal": "maximize"}],
            "parameters": [{"name": "w_pct", "type": "continuous", "bounds": [0, 3], "resolution": 0.01},
                           {"name": "t_c", "type": "continuous", "bounds": [250, 750], "resolution": 5},
                           {"name": "atmosphere", "type": "categorical", "values": ["air", "O2"]}],
            "constraints": ["w_pct + 0.004 * t_c <= 4"], "batch_shared": ["t_c", "atmosphere"]}


@pytest.mark.parametrize("seed", range(8))
def test_a_furnace_shared_hypercube_keeps_every_row_inside_the_constraints(seed: int, tmp_path: Path) -> None:
    from doe import load_config
    from doe.engine import EngineSettings

    campaign = Campaign.from_config(load_config({**_COUPLED, "seed": seed}), storage=f"sqlite:///{tmp_path / 'c.db'}",
                                    actor="t", settings=EngineSettings.fast())
    batch = campaign.suggest(6, design="latin_hypercube")
    assert batch["t_c"].nunique() == 1 and batch["atmosphere"].nunique() == 1
    assert (batch["w_pct"] + 0.004 * batch["t_c"] <= 4 + 1e-9).all(), batch[["w_pct", "t_c"]]
    # still a hypercube in the per-row value: one recipe in each sixth of its range (0.5 wt% wide),
    # give or take the grid rounding at a boundary
    w = np.sort(batch["w_pct"].to_numpy())
    assert all(abs(x - (k + 0.5) * 0.5) <= 0.26 for k, x in enumerate(w)), w


def test_a_control_recipe_the_furnace_programme_makes_infeasible_is_refused(tmp_path: Path) -> None:
    from doe import load_config
    from doe.engine import EngineSettings

    control = {"w_pct": 2.9, "t_c": 250.0, "atmosphere": "air"}  # only a furnace at 250-275 C suits it
    campaign = Campaign.from_config(load_config({**_COUPLED, "control_recipe": control}), actor="t",
                                    storage=f"sqlite:///{tmp_path / 'c.db'}", settings=EngineSettings.fast())
    with pytest.raises(ProposalError, match="control_recipe: in this batch's furnace run"):
        campaign.suggest(4, fixed={"t_c": 600.0})
    assert campaign.history().empty  # nothing stored
    batch = campaign.suggest(4, fixed={"t_c": 255.0})
    assert batch["strategy"].iloc[-1] == "control" and batch["w_pct"].iloc[-1] == 2.9
    assert set(batch["t_c"]) == {255.0}  # the control runs in the batch's furnace run, held value included
    assert (batch["w_pct"] + 0.004 * batch["t_c"] <= 4 + 1e-9).all()


@pytest.mark.parametrize(("constraint", "t_c", "w_range"), [
    ("w_pct + 0.004 * t_c <= 4", 600.0, (0.0, 1.6)),  # a hot furnace run leaves loadings up to 1.6 wt%
    ("w_pct + 0.004 * t_c >= 4.5", 750.0, (1.5, 3.0)),  # a cut from below
])
def test_a_held_value_that_cuts_a_range_gives_a_hypercube_of_the_feasible_part(
        constraint: str, t_c: float, w_range: tuple[float, float], tmp_path: Path) -> None:
    from doe import load_config
    from doe.engine import EngineSettings

    for seed in range(6):
        config = load_config({**_COUPLED, "constraints": [constraint], "batch_shared": [], "seed": seed})
        campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / f'c{seed}.db'}", actor="t",
                                        settings=EngineSettings.fast())
        batch = campaign.suggest(8, design="latin_hypercube", fixed={"t_c": t_c})
        assert set(batch["t_c"]) == {t_c}
        _one_per_stratum(batch["w_pct"], *w_range)


def _one_per_stratum(w: pd.Series, lo: float, hi: float, grid: float = 0.01) -> None:
    """One value in each of ``len(w)`` equal strata of [lo, hi], give or take a grid step at a boundary."""
    width = (hi - lo) / len(w)
    values = np.sort(w.to_numpy())
    assert lo - 1e-9 <= values[0] and values[-1] <= hi + 1e-9, values
    assert all(lo + k * width - grid - 1e-9 <= x <= lo + (k + 1) * width + grid + 1e-9
               for k, x in enumerate(values)), values


def test_a_held_value_no_recipe_can_meet_is_refused_naming_it(tmp_path: Path) -> None:
    from doe import load_config
    from doe.engine import EngineSettings

    config = load_config({**_COUPLED, "constraints": ["w_pct + 0.004 * t_c >= 4.5"], "batch_shared": []})
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'c.db'}", actor="t",
                                    settings=EngineSettings.fast())
    with pytest.raises(ProposalError, match="no recipe satisfies the linear constraints with the fixed values"):
        campaign.suggest(4, design="latin_hypercube", fixed={"t_c": 250.0})
    assert campaign.history().empty


@pytest.mark.parametrize("seed", range(4))
def test_a_furnace_shared_hypercube_where_no_programme_admits_the_whole_range(seed: int, tmp_path: Path) -> None:
    from doe import load_config
    from doe.engine import EngineSettings

    config = load_config({**_COUPLED, "constraints": ["w_pct + 0.004 * t_c <= 2"], "seed": seed})  # w <= 1 at best
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'c.db'}", actor="t",
                                    settings=EngineSettings.fast())
    batch = campaign.suggest(6, design="latin_hypercube")
    assert batch["t_c"].nunique() == 1 and batch["atmosphere"].nunique() == 1
    _one_per_stratum(batch["w_pct"], 0.0, 2 - 0.004 * batch["t_c"].iloc[0])
    # of the space-filling programmes, the one leaving the widest loading range: the coolest sampled
    from doe.engine.design import sample_space
    from doe.engine.encoding import Encoder

    encoder = Encoder(campaign.config)
    sampled = encoder.decode(sample_space(encoder, 16, int(campaign.proposals()["seed"].iloc[0]), {}))["t_c"]
    assert batch["t_c"].iloc[0] == pytest.approx(sampled.min(), abs=5.0), sorted(sampled)


def test_feasible_ranges_end_where_the_constraints_cut_and_refuse_an_empty_part() -> None:
    from doe import load_config
    from doe.engine.classic import feasible_ranges
    from doe.engine.encoding import Encoder

    encoder = Encoder(load_config({**_COUPLED, "constraints": ["w_pct + 0.004 * t_c >= 4.5"]}))
    w, t = encoder.names.index("w_pct"), encoder.names.index("t_c")
    lo, hi = feasible_ranges(encoder, {t: encoder.to_model(t, 750.0)})[w]
    assert (encoder.to_engineer(w, lo), encoder.to_engineer(w, hi)) == (pytest.approx(1.5), pytest.approx(3.0))
    assert feasible_ranges(encoder, {})[t] == (pytest.approx(encoder.to_model(t, 375.0)), pytest.approx(1.0))
    with pytest.raises(ProposalError, match="no recipe meets the linear constraints with the values held"):
        feasible_ranges(encoder, {t: encoder.to_model(t, 250.0)})


def test_a_latin_hypercube_of_one_run_is_one_recipe_inside_the_space(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path)
    batch = campaign.suggest(1, design="latin_hypercube")  # pyDOE3's maximin criterion fails on one point
    assert len(batch) == 1 and batch["strategy"].tolist() == ["latin_hypercube"]
    for p in campaign.config.parameters:
        value = batch[p.name].iloc[0]
        if p.type == "continuous":
            assert p.lower <= value <= p.upper, p.name
        else:
            assert value in p.values, p.name
    # the furnace-shared, constrained case too
    from doe import load_config
    from doe.engine import EngineSettings

    coupled = Campaign.from_config(load_config(_COUPLED), storage=f"sqlite:///{tmp_path / 'c.db'}", actor="t",
                                   settings=EngineSettings.fast())
    one = coupled.suggest(1, design="latin_hypercube")
    assert len(one) == 1 and (one["w_pct"] + 0.004 * one["t_c"] <= 4 + 1e-9).all()


def test_a_screening_designs_batch_size_counts_the_control_recipe(tmp_path: Path) -> None:
    """With a control recipe the error asked for 12, and 12 was refused again (12 runs + the
    control row); an automation loop that follows the message stayed stuck."""
    campaign = _campaign(tmp_path, control_recipe="reference")
    with pytest.raises(ProposalError, match=r"has 12 runs; ask for at least 12 \+ the control recipe = 13") as err:
        campaign.suggest(12, design="screening")
    asked = int(str(err.value).split("= ")[1].split()[0])
    batch = campaign.suggest(asked, design="screening")
    assert len(batch) == 13 and batch["strategy"].iloc[-1] == "control"


def test_a_second_screening_design_is_the_fold_over_and_a_third_is_refused(tmp_path: Path) -> None:
    """Asked again while the first was pending, the same twelve corners came back: twelve powders
    made twice for nothing. The second is the fold-over (every level reversed), which with the
    first separates each main effect from the two-factor interactions."""
    campaign = _campaign(tmp_path)
    config = campaign.config
    first = campaign.suggest(12, design="screening")
    campaign.accept()
    second = campaign.suggest(12, design="screening")
    for p in config.parameters:
        a, b = first[p.name].tolist(), second[p.name].tolist()
        if p.type == "categorical":
            low, high = p.values[:2]
        elif p.type == "discrete":
            low, high = min(p.values), max(p.values)
        else:
            low, high = p.lower, p.upper
        flipped = [high if v == low else low for v in a]
        assert b == pytest.approx(flipped) if p.type != "categorical" else b == flipped, p.name
    both = pd.concat([first, second])[config.parameter_names]
    assert not both.round(9).duplicated().any()
    before = campaign.history()
    with pytest.raises(ProposalError, match="fold-over are both in the campaign already"):
        campaign.suggest(12, design="screening")
    pd.testing.assert_frame_equal(campaign.history(), before)  # nothing stored
    # a Latin hypercube or the model go on from there
    assert len(campaign.suggest(3, design="latin_hypercube")) == 3


def test_a_recipe_that_happens_to_lie_on_a_corner_does_not_turn_a_first_screening_over(tmp_path: Path) -> None:
    """One matching recipe (an imported corner, a coarse grid) made the first design a fold-over,
    and one more would have refused it as 'both in the campaign already' (review of f801b07)."""
    first = _campaign(tmp_path).suggest(12, design="screening")
    other = Campaign.from_config(resolve_config("hfo2-ncm85").replace(name="imported"),
                                 storage=f"sqlite:///{tmp_path / 'other.sqlite3'}", actor="t")
    names = other.config.parameter_names
    other.record(first.iloc[[0]][names].assign(first_cycle_ce_pct=88.0))
    again = other.suggest(12, design="screening")
    pd.testing.assert_frame_equal(again[names].reset_index(drop=True), first[names].reset_index(drop=True))


_COARSE = {"name": "coarse", "seed": 5,
           "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1], "resolution": 0.5},
                          {"name": "y", "type": "continuous", "bounds": [0, 1], "resolution": 0.5}],
           "objectives": [{"name": "ce", "goal": "maximize"}]}


def _coarse(**changes: object) -> Campaign:
    from doe.engine import EngineSettings

    return Campaign.from_config({**_COARSE, **changes}, storage=":memory:", actor="t", settings=EngineSettings.fast())


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_a_latin_hypercube_on_a_coarse_grid_proposes_each_recipe_once(seed: int) -> None:
    # 9 grid recipes: rounding 5 strata per range onto 3 grid points would repeat some
    campaign = _coarse(seed=seed)
    first = campaign.suggest(5, design="latin_hypercube")
    recipes = list(zip(first.x, first.y, strict=True))
    assert len(set(recipes)) == 5, recipes
    second = campaign.suggest(4, design="latin_hypercube")  # the 4 untested ones, none of the pending 5
    assert set(zip(second.x, second.y, strict=True)) | set(recipes) == {(a, b) for a in (0, 0.5, 1) for b in (0, 0.5, 1)}


def test_a_latin_hypercube_larger_than_the_untested_grid_is_refused_with_the_count() -> None:
    campaign = _coarse()
    with pytest.raises(ProposalError, match=r"only 9 untested recipe\(s\) remain .* but 12 were asked for"):
        campaign.suggest(12, design="latin_hypercube")
    campaign.suggest(5, design="latin_hypercube")
    with pytest.raises(ProposalError, match=r"only 4 untested recipe\(s\) remain .* but 5 were asked for"):
        campaign.suggest(5, design="latin_hypercube")


def test_a_furnace_shared_latin_hypercube_on_a_coarse_grid_counts_in_one_furnace_run() -> None:
    # x shared: one run has 3 recipes (y = 0, 0.5, 1), so 4 cannot be distinct
    campaign = _coarse(batch_shared=["x"])
    batch = campaign.suggest(3, design="latin_hypercube")
    assert batch.x.nunique() == 1 and sorted(batch.y) == [0.0, 0.5, 1.0]
    with pytest.raises(ProposalError, match=r"but 4 were asked for.*one furnace run"):
        campaign.suggest(4, design="latin_hypercube")


@pytest.mark.parametrize("changes, fixed", [({}, {"x": 0.5, "y": 1.0}), ({"batch_shared": ["x"]}, {"y": 1.0})])
def test_a_latin_hypercube_with_every_parameter_held_is_refused_with_the_count(
        tmp_path: Path, changes: dict[str, object], fixed: dict[str, float]) -> None:
    # every parameter fixed (or fixed and shared): one recipe per batch; pyDOE3's maximin over no
    # column raised UnboundLocalError
    from doe.engine import EngineSettings

    storage = f"sqlite:///{tmp_path / 'held.sqlite3'}"
    campaign = Campaign.from_config({**_COARSE, **changes}, storage=storage, actor="t", settings=EngineSettings.fast())
    with pytest.raises(ProposalError, match=r"only 1 untested recipe\(s\) remain .* but 3 were asked for"):
        campaign.suggest(3, design="latin_hypercube", fixed=fixed)
    assert Campaign.load(campaign.name, storage).history().empty
    batch = campaign.suggest(1, design="latin_hypercube", fixed=fixed)
    assert (batch.x.tolist(), batch.y.tolist()) == ([0.5], [1.0])


def test_a_screening_design_of_one_run_asks_for_the_runs_a_furnace_batch_takes(tmp_path: Path) -> None:
    # a batch of one shares nothing, so it counted x as a factor too ("2 parameters has 4 runs; ask
    # for at least 4"), while a batch of 4 holds x for the furnace run and screens y alone
    from doe.engine import EngineSettings

    storage = f"sqlite:///{tmp_path / 'screen.sqlite3'}"
    config = {**_COARSE, "batch_shared": ["x"],
              "parameters": [_COARSE["parameters"][0], {"name": "y", "type": "categorical", "values": ["a", "b"]}]}
    campaign = Campaign.from_config(config, storage=storage, actor="t", settings=EngineSettings.fast())
    with pytest.raises(ProposalError, match=r"a screening design of 1 parameter has 2 runs; ask for at least 2 "):
        campaign.suggest(1, design="screening")
    assert Campaign.load(campaign.name, storage).history().empty
    batch = campaign.suggest(2, design="screening")
    assert sorted(batch.y) == ["a", "b"] and batch.x.nunique() == 1


def _random_space(seed: int, constraints: int = 1) -> dict[str, object]:
    """2 to 4 continuous ranges (one on a grid) under ``constraints`` random linear constraints
    that cut off a good part of the box (each met at the box's centre, so some recipe meets all)."""
    rng = np.random.default_rng(seed)
    names = [f"x{k}" for k in range(int(rng.integers(2, 5)))]
    parameters: list[dict[str, object]] = [{"name": name, "type": "continuous", "bounds": [0.0, float(rng.integers(1, 10))]}
                                           for name in names]
    parameters[0]["resolution"] = 0.01 * float(parameters[0]["bounds"][1])  # type: ignore[index]
    texts = []
    for _ in range(constraints):
        coefficients = rng.choice([-2.0, -1.0, 0.5, 1.0, 3.0], size=len(names))
        centre = sum(a * p["bounds"][1] / 2 for a, p in zip(coefficients, parameters, strict=True))  # type: ignore[index]
        spread = sum(abs(a) * p["bounds"][1] / 2 for a, p in zip(coefficients, parameters, strict=True))  # type: ignore[index]
        rhs = centre + float(rng.uniform(0.0, 0.5)) * spread
        texts.append(" + ".join(f"{a:g} * {name}" for a, name in zip(coefficients, names, strict=True))
                           .replace("+ -", "- ") + f" <= {rhs:.6g}")
    return {"name": "random", "parameters": parameters, "objectives": [{"name": "y", "goal": "maximize"}],
            "constraints": texts, "seed": seed}


@pytest.mark.parametrize("seed", range(8))
def test_a_latin_hypercube_inside_a_random_linear_constraint_keeps_one_recipe_per_stratum(seed: int) -> None:
    # 50 unconstrained draws, kept only when every row happened to be feasible, once refused most of these
    from doe import load_config
    from doe.engine.classic import feasible_ranges, latin_hypercube
    from doe.engine.encoding import Encoder

    encoder = Encoder(load_config(_random_space(seed)))
    ranges = feasible_ranges(encoder, {})
    for n in (3, 7, 12):
        cube = latin_hypercube(encoder, n, seed, {})
        assert cube.note is None and encoder.feasible(cube.X).all(), encoder.constraint_slack(cube.X)
        for i, (lo, hi) in ranges.items():
            values = np.sort(cube.X[:, i])
            if i != 0:  # x0's grid (1 % of its range) may move a value across a stratum's end
                strata = np.floor((values - lo) / (hi - lo) * n + 1e-9).clip(0, n - 1)
                assert strata.tolist() == list(range(n)), (i, values, lo, hi)
            centres = lo + (np.arange(n) + 0.5) * (hi - lo) / n
            assert np.abs(values - centres).max() <= (hi - lo) / n / 2 + (0.01 if i == 0 else 1e-9), (i, values)
        assert np.array_equal(latin_hypercube(encoder, n, seed, {}).X, cube.X)  # the same seed, the same design


def test_a_latin_hypercube_inside_two_random_linear_constraints_is_feasible_and_mostly_latin() -> None:
    from doe import load_config
    from doe.engine.classic import latin_hypercube
    from doe.engine.encoding import Encoder

    notes = []
    for seed in range(6):
        encoder = Encoder(load_config(_random_space(seed, constraints=2)))
        for n in (4, 7):
            cube = latin_hypercube(encoder, n, seed, {})
            assert len(cube.X) == n and encoder.feasible(cube.X).all(), (seed, n, encoder.constraint_slack(cube.X))
            notes.append(cube.note)
    # where the search finds none (or none exists), the rows moved inside are said, not refused
    assert sum(note is None for note in notes) >= 10, notes
    assert all(note.startswith("design: no Latin hypercube of ") and "moved inside them" in note
               for note in notes if note is not None), notes


def test_a_row_outside_the_constraints_only_by_the_lp_solvers_tolerance_keeps_the_latin_hypercube() -> None:
    """Review: with four constraints, a stratum cell the LP (HiGHS, tolerance about 1e-7) said
    meets them held a row 2.5e-9 outside, and the 40-row design was refused as not fitting 'the
    resolution grid' of a configuration without one."""
    from doe import load_config
    from doe.domain import CampaignConfig
    from doe.engine.classic import latin_hypercube
    from doe.engine.encoding import Encoder

    raw = load_config("hfo2-ncm85").to_dict()
    raw["constraints"] = ["hfo2_loading_wt_pct + 0.004 * anneal_temperature_c <= 3.0",
                          "0.02 * solid_content_mg_per_ml + ligand_to_np_mass_ratio <= 0.9",
                          "hfo2_loading_wt_pct - 0.02 * sonication_time_min >= 0.2",
                          "ligand_to_np_mass_ratio + 0.1 * hfo2_loading_wt_pct <= 0.8"]
    encoder = Encoder(CampaignConfig.from_dict(raw))
    cube = latin_hypercube(encoder, 40, 1, {})
    assert len(cube.X) == 40 and encoder.feasible(cube.X).all() and cube.note is None


@pytest.mark.parametrize("n", [3, 6, 10])
def test_a_latin_hypercube_of_a_mixture_fits_its_sum_constraint(n: int) -> None:
    from doe.engine import EngineSettings

    campaign = Campaign.from_config(
        {"name": "mix", "parameters": [{"name": "a_frac", "type": "continuous", "bounds": [0, 1]},
                                       {"name": "b_frac", "type": "continuous", "bounds": [0, 1]}],
         "objectives": [{"name": "ce", "goal": "maximize"}], "constraints": ["a_frac + b_frac <= 1"], "seed": 1},
        storage=":memory:", actor="t", settings=EngineSettings.fast())
    batch = campaign.suggest(n, design="latin_hypercube")  # refused for n >= 3 before ("50 tries")
    assert (batch["a_frac"] + batch["b_frac"] <= 1 + 1e-9).all()
    for name in ("a_frac", "b_frac"):
        assert sorted(np.floor(batch[name] * n).clip(0, n - 1).astype(int)) == list(range(n)), batch[name]
    assert "design_note" not in campaign.proposals()["model_settings"].iloc[0]


@pytest.mark.parametrize("n", [3, 5, 8])
def test_a_furnace_shared_latin_hypercube_fits_a_loading_and_time_constraint(n: int) -> None:
    from doe.engine import EngineSettings

    campaign = Campaign.from_config(
        {"name": "lt", "parameters": [{"name": "load", "type": "continuous", "bounds": [0.02, 3], "resolution": 0.05},
                                      {"name": "temp", "type": "continuous", "bounds": [252, 748], "resolution": 5},
                                      {"name": "t", "type": "continuous", "bounds": [0.3, 6], "resolution": 0.25}],
         "objectives": [{"name": "ce", "goal": "maximize"}], "constraints": ["load + 0.5 * t <= 3.2"],
         "batch_shared": ["temp"], "seed": 4}, storage=":memory:", actor="t", settings=EngineSettings.fast())
    batch = campaign.suggest(n, design="latin_hypercube")
    assert batch["temp"].nunique() == 1 and (batch["load"] + 0.5 * batch["t"] <= 3.2 + 1e-9).all()
    _one_per_stratum(batch["load"], 0.02, 3.0, grid=0.05)
    _one_per_stratum(batch["t"], 0.3, 6.0, grid=0.25)


_GRID_CONTROL = {"name": "grid-control", "seed": 1, "control_recipe": "reference",
                 "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1], "resolution": 0.1, "reference": 0.5},
                                {"name": "atm", "type": "categorical", "values": ["O2", "air"], "reference": "air"}],
                 "objectives": [{"name": "y", "goal": "maximize"}]}


@pytest.mark.parametrize("design", ["model", "latin_hypercube"])
def test_no_other_row_of_a_batch_repeats_its_control_recipe(design: str) -> None:
    """On a grid, a space-filling row of the first batch was the control recipe itself (E0004 =
    E0006): one of six slots spent making the control twice."""
    from doe.engine import EngineSettings

    for n in (4, 6, 8):
        campaign = Campaign.from_config(_GRID_CONTROL, storage=":memory:", actor="t", settings=EngineSettings.fast())
        batch = campaign.suggest(n, design=design)  # type: ignore[arg-type]
        assert batch["strategy"].iloc[-1] == "control" and len(batch) == n
        recipes = list(zip(batch.x.round(9), batch.atm, strict=True))
        assert len(set(recipes)) == n, (n, recipes)


_ONE_FREE = {"name": "one-free", "seed": 1,
             "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                            {"name": "atm", "type": "categorical", "values": ["O2", "air"]}],
             "objectives": [{"name": "y", "goal": "maximize"}]}


def test_a_screening_design_of_one_free_parameter_makes_each_corner_once() -> None:
    """pyDOE3's design of one factor has four runs: the batch stored x = 0, 1, 0, 1 (two recipes,
    each made twice), n < 4 was refused, and a second screening was refused as its own fold-over."""
    from doe.engine import EngineSettings

    campaign = Campaign.from_config(_ONE_FREE, storage=":memory:", actor="t", settings=EngineSettings.fast())
    with pytest.raises(ProposalError, match=r"a screening design of 1 parameter has 2 runs; ask for at least 2"):
        campaign.suggest(1, design="screening", fixed={"atm": "air"})
    batch = campaign.suggest(2, design="screening", fixed={"atm": "air"})
    assert batch.x.tolist() == [0.0, 1.0] and set(batch.atm) == {"air"}
    # a larger n adds centre points (documented), never a corner again
    other = Campaign.from_config(_ONE_FREE, storage=":memory:", actor="t", settings=EngineSettings.fast())
    assert other.suggest(4, design="screening", fixed={"atm": "O2"}).x.tolist() == [0.0, 1.0, 0.5, 0.5]
    # the fold-over of one parameter is the same two corners: refused, saying why
    with pytest.raises(ProposalError, match=r"fold-over \(the same corners"):
        campaign.suggest(2, design="screening", fixed={"atm": "air"})
    # a categorical parameter has no middle value: its centre would be a corner again
    held_x = campaign.suggest(2, design="screening", fixed={"x": 0.25})
    assert sorted(held_x.atm) == ["O2", "air"]
    with pytest.raises(ProposalError, match=r"has 2 runs and no centre point .* so 3 would repeat a corner; ask for 2"):
        campaign.suggest(3, design="screening", fixed={"x": 0.75})


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_latin_hypercube_of_a_grid_mixture_proposes_no_recipe_twice(seed: int) -> None:
    """A hypercube of a grid mixture (a + b + c = 1) beside a temperature it constrains proposed
    a = 0, b = 0, c = 1 at 300 C two to four times in a batch of five: the rows moved inside the
    constraints differed only by the LP solver's 1e-7 C (300.0000002 and 300.0000005), so they
    counted as different recipes, while the run sheet (and the lab) read the same one."""
    from doe import load_config
    from doe.engine import EngineSettings

    config = load_config({
        "name": "grid-mixture", "seed": seed, "objectives": [{"name": "ce", "goal": "maximize"}],
        "parameters": [{"name": "a_frac", "type": "continuous", "bounds": [0, 1], "resolution": 0.1},
                       {"name": "b_frac", "type": "continuous", "bounds": [0, 1], "resolution": 0.1},
                       {"name": "c_frac", "type": "continuous", "bounds": [0, 1], "resolution": 0.05},
                       {"name": "temp_c", "type": "continuous", "bounds": [300, 500]}],
        "constraints": ["a_frac + b_frac + c_frac <= 1", "a_frac + b_frac + c_frac >= 1", "temp_c + 100 * a_frac <= 520"]})
    campaign = Campaign.from_config(config, storage=":memory:", settings=EngineSettings.fast())
    batch = campaign.suggest(5, design="latin_hypercube")
    recipes = batch[config.parameter_names].assign(temp_c=batch["temp_c"].round(3))
    assert not recipes.duplicated().any(), batch[config.parameter_names].to_dict("records")
    assert np.allclose(batch[["a_frac", "b_frac", "c_frac"]].sum(axis=1), 1.0)
    assert (batch["temp_c"] + 100 * batch["a_frac"] <= 520 + 1e-6).all()  # the LP solver's tolerance


def _tight_space(seed: int) -> dict[str, object]:
    """2 to 6 continuous ranges, some far from 0 (a furnace at 250-750 C) and some on a grid, under
    one or two linear constraints that leave 2 to 30 % of each one's span (a sum like
    ``a + b <= 1`` that cuts most of the box, or its ``>=`` form)."""
    rng = np.random.default_rng(seed)
    names = [f"x{k}" for k in range(int(rng.integers(2, 7)))]
    parameters: list[dict[str, object]] = []
    for name in names:
        lower = float(rng.choice([0.0, 0.1, 1.0, 250.0]))
        upper = lower + float(rng.choice([0.3, 1.0, 3.0, 500.0]))
        parameter: dict[str, object] = {"name": name, "type": "continuous", "bounds": [lower, upper]}
        if rng.random() < 0.3:
            parameter["resolution"] = (upper - lower) / float(rng.choice([10, 20, 50]))
        parameters.append(parameter)
    constraints = []
    for _ in range(int(rng.integers(1, 3))):
        chosen = rng.choice(len(names), size=int(rng.integers(2, len(names) + 1)), replace=False)
        coefficients = {names[i]: float(rng.choice([1.0, 0.5, 0.3, 2.0, -1.0, 0.004])) for i in chosen}
        ends = [[a * b for b in parameters[names.index(name)]["bounds"]]  # type: ignore[attr-defined]
                for name, a in coefficients.items()]
        low, high = sum(min(e) for e in ends), sum(max(e) for e in ends)
        rhs = low + float(rng.choice([0.02, 0.05, 0.1, 0.3])) * (high - low)
        if rng.random() < 0.3:
            constraints.append({"type": "linear", "coefficients": {k: -a for k, a in coefficients.items()},
                                "operator": ">=", "rhs": -rhs})
        else:
            constraints.append({"type": "linear", "coefficients": coefficients, "operator": "<=", "rhs": rhs})
    return {"name": "tight", "parameters": parameters, "objectives": [{"name": "y", "goal": "maximize"}],
            "constraints": constraints, "seed": seed}


def _meets_the_space_exactly(encoder: Encoder, X: np.ndarray) -> None:
    """Every row as the validation checks it: inside the linear constraints alone and in its batch
    (the model space's tolerance), and as the run sheet writes it (engineer units, grid values
    exact) inside its bounds, on its grid and inside each constraint to rounding (1e-12), not to a
    solver's tolerance."""
    from doe.domain.table import check_in_space
    from doe.engine.lattice import Lattice

    config = encoder.config
    assert encoder.feasible(X).all(), encoder.constraint_slack(X)
    assert all(encoder.feasible(X[r : r + 1])[0] for r in range(len(X))), encoder.constraint_slack(X)
    recipes = Lattice(encoder).exact(encoder.decode(X))
    assert Lattice(encoder).on_grid(recipes).all(), recipes
    assert not check_in_space(recipes, config)
    for p in config.parameters:
        assert recipes[p.name].between(p.lower, p.upper).all(), (p.name, recipes[p.name].tolist())
    for con in config.linear_constraints:
        coefficients, rhs = con.as_less_equal()
        lhs = sum(a * recipes[name].to_numpy(dtype=float) for name, a in coefficients.items())
        scale = max(1.0, abs(rhs), *(abs(a * recipes[name]).max() for name, a in coefficients.items()))
        assert (lhs - rhs <= 1e-12 * scale).all(), (con.text(), (lhs - rhs).tolist())


@pytest.mark.parametrize("seed", [3, 10, 15, 32, 38])
def test_every_recipe_of_a_latin_hypercube_in_a_tight_space_meets_the_constraints_exactly(seed: int) -> None:
    """Rows moved inside the constraints stopped on the edge of the model space's tolerance (1.5e-7
    for a furnace range starting at 250 C), outside the constraint the engineer declared; and a row
    judged inside alone was judged outside in its batch (another rounding), so the design was
    refused ('no Latin hypercube of this size meets the linear constraints')."""
    from doe import load_config
    from doe.engine.classic import latin_hypercube
    from doe.engine.encoding import Encoder

    encoder = Encoder(load_config(_tight_space(seed)))
    for n in (3, 8):
        _meets_the_space_exactly(encoder, latin_hypercube(encoder, n, seed, {}).X)


def test_a_latin_hypercube_of_six_parameters_under_two_tight_constraints_is_proposed_inside_them() -> None:
    """Refused for every seed at 6 rows; at 12 rows half the rows stood 1e-9 outside the constraints."""
    from doe.engine import EngineSettings

    campaign = Campaign.from_config(
        {"name": "six", "seed": 2, "objectives": [{"name": "ce", "goal": "maximize"}],
         "parameters": [{"name": "a_frac", "type": "continuous", "bounds": [0, 1]},
                        {"name": "b_frac", "type": "continuous", "bounds": [0, 1]},
                        {"name": "c_frac", "type": "continuous", "bounds": [0, 1]},
                        {"name": "hfo2_loading_wt_pct", "type": "continuous", "bounds": [0.02, 3]},
                        {"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 750]},
                        {"name": "time_h", "type": "continuous", "bounds": [0.5, 6]}],
         "constraints": ["a_frac + b_frac + c_frac <= 0.3",
                         "hfo2_loading_wt_pct + 0.004 * anneal_temperature_c + 0.2 * time_h <= 2.0"]},
        storage=":memory:", actor="t", settings=EngineSettings.fast())
    for n in (6, 12):
        batch = campaign.suggest(n, design="latin_hypercube")
        assert len(batch) == n
        sums = [batch.a_frac + batch.b_frac + batch.c_frac - 0.3,
                batch.hfo2_loading_wt_pct + 0.004 * batch.anneal_temperature_c + 0.2 * batch.time_h - 2.0]
        assert all((s <= 1e-12).all() for s in sums), sums  # the float sums' rounding, nothing more
