"""propose(): the space contract, batches and pending, seeds, candidates, fixed values, failures."""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engine_helpers import (
    assert_in_space,
    random_config,
    random_recipes,
    recipe_keys,
    smooth_outcomes,
)

from doe import load_config
from doe.domain import CampaignConfig
from doe.engine import EngineSettings, Proposal, Surrogates, propose
from doe.errors import ProposalError


def _experiments(config: CampaignConfig, n: int, seed: int = 0) -> pd.DataFrame:
    return smooth_outcomes(config, random_recipes(config, n, seed), seed)


def _columns_ok(config: CampaignConfig, proposal: Proposal, n: int) -> None:
    table = proposal.recipes
    assert len(table) == n
    expected = [*config.parameter_names]
    for o in config.outcome_names:
        expected += [f"{o}_mean", f"{o}_sd"]
    expected += ["probability_feasible", "acquisition_value", "strategy"]
    assert list(table.columns) == expected
    # every row follows the batch's strategy, except the model's best guess (a batch of one, one objective)
    suffix = "+candidates" if proposal.strategy.endswith("+candidates") else ""
    assert set(table["strategy"]) <= {proposal.strategy, "best_guess" + suffix}
    assert (table["strategy"].iloc[:-1] == proposal.strategy).all()


@pytest.mark.parametrize("seed", range(10))
def test_space_contract_random_spaces(seed: int, fast: EngineSettings) -> None:
    config = random_config(seed, n_objectives=1 + seed % 2)
    rng = np.random.default_rng(seed)
    # a random fixed value for one parameter in half of the cases
    fixed = None
    if seed % 2 == 0:
        p = config.parameters[int(rng.integers(len(config.parameters)))]
        fixed = {p.name: random_recipes(config, 1, seed + 99).iloc[0][p.name]}
    # initial design (no data), then model-based (data)
    first = propose(config, pd.DataFrame(columns=config.parameter_names), 3, seed=seed, settings=fast, fixed=fixed)
    assert first.strategy == "initial_design"
    assert_in_space(config, first.recipes)
    _columns_ok(config, first, 3)
    experiments = _experiments(config, 12, seed)
    pending = random_recipes(config, 2, seed + 7)
    second = propose(config, experiments, 3, pending=pending, seed=seed, settings=fast, fixed=fixed)
    assert second.strategy in ("qlognei", "qlognehvi")
    assert_in_space(config, second.recipes)
    _columns_ok(config, second, 3)
    keys = recipe_keys(config, second.recipes)
    assert len(set(keys)) == 3, "recipes of a batch must differ"
    assert not set(keys) & set(recipe_keys(config, pending)), "a pending recipe was proposed again"
    assert not set(keys) & set(recipe_keys(config, experiments)), "a measured recipe was proposed again"
    if fixed:
        for name, value in fixed.items():
            assert (second.recipes[name] == value).all() and (first.recipes[name] == value).all()
    assert second.recipes["acquisition_value"].notna().all()
    assert first.recipes["acquisition_value"].isna().all()


def test_strategies_and_provenance(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    experiments = _experiments(hfo2, 10)
    multi = propose(hfo2, experiments, 2, seed=1, settings=fast)
    assert multi.strategy == "qlognehvi"
    settings = multi.model_settings
    assert settings["acquisition"] == "qlognehvi"
    assert settings["reference_point"] == {"first_cycle_ce_pct": 80.0, "capacity_retention_pct": 55.0}
    assert settings["n_train"]["first_cycle_ce_pct"] == 10
    assert settings["settings"] == fast.to_dict()
    assert "noise LogNormal(-4, 1)" in settings["kernel"]
    assert "coating_thickness_nm <= 15" in settings["constraints_used"]
    import json

    json.dumps(settings)  # JSON-able provenance
    single_cfg = hfo2.replace(objectives=[hfo2.objectives[0].to_dict()],
                              outcomes=[{"name": "capacity_retention_pct"}, *[o.to_dict() for o in hfo2.outcomes]])
    single = propose(single_cfg, experiments, 2, seed=1, settings=fast)
    assert single.strategy == "qlognei"
    assert "first_cycle_ce_pct threshold" in single.model_settings["constraints_used"]
    wide = propose(single_cfg, experiments, 1, seed=1, settings=dataclasses.replace(fast, noise_prior=(-4.0, 2.0)))
    assert "noise LogNormal(-4, 2)" in wide.model_settings["kernel"]


def test_reproducible_with_seed(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    import torch

    experiments = _experiments(hfo2, 9)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = propose(hfo2, experiments, 3, seed=5, settings=fast)
    assert torch.equal(state, torch.random.get_rng_state()), "global torch RNG state must be restored"
    b = propose(hfo2, experiments, 3, seed=5, settings=fast)
    pd.testing.assert_frame_equal(a.recipes, b.recipes)
    c = propose(hfo2, experiments, 3, seed=6, settings=fast)
    assert not a.recipes[hfo2.parameter_names].equals(c.recipes[hfo2.parameter_names])
    empty = pd.DataFrame(columns=hfo2.parameter_names)
    d1 = propose(hfo2, empty, 4, seed=3, settings=fast)
    d2 = propose(hfo2, empty, 4, seed=3, settings=fast)
    pd.testing.assert_frame_equal(d1.recipes, d2.recipes)


def test_batch_is_spread_and_avoids_pending(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    experiments = _experiments(hfo2, 12)
    batch = propose(hfo2, experiments, 4, seed=2, settings=fast)
    pending = batch.recipes[hfo2.parameter_names]
    nxt = propose(hfo2, experiments, 4, pending=pending, seed=2, settings=fast)
    assert not set(recipe_keys(hfo2, nxt.recipes)) & set(recipe_keys(hfo2, pending))
    # spread: no two recipes of a batch are (nearly) the same point
    from engine_helpers import unit_values

    U = unit_values(hfo2, nxt.recipes)
    dist = np.sqrt(((U[:, None, :] - U[None, :, :]) ** 2).sum(-1))
    assert dist[np.triu_indices(4, 1)].min() > 1e-3


def test_initial_design_spreads_and_continues(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    from engine_helpers import unit_values

    empty = pd.DataFrame(columns=hfo2.parameter_names)
    first = propose(hfo2, empty, 6, seed=0, settings=fast)
    U = unit_values(hfo2, first.recipes)
    dist = np.sqrt(((U[:, None, :] - U[None, :, :]) ** 2).sum(-1))
    assert dist[np.triu_indices(6, 1)].min() > 0.3, "an initial design should fill the space"
    done = smooth_outcomes(hfo2, first.recipes[hfo2.parameter_names].iloc[:3])
    again = propose(hfo2, done, 3, pending=first.recipes[hfo2.parameter_names].iloc[3:], seed=0, settings=fast)
    assert again.strategy == "initial_design"  # 3 < design size 6
    taken = set(recipe_keys(hfo2, first.recipes))
    assert not set(recipe_keys(hfo2, again.recipes)) & taken


def test_fixed_values(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    experiments = _experiments(hfo2, 10)
    fixed = {"anneal_atmosphere": "Ar", "anneal_temperature_c": 400.0, "evaporation_bath_temperature_c": 70.0}
    result = propose(hfo2, experiments, 3, fixed=fixed, seed=0, settings=fast)
    for name, value in fixed.items():
        assert (result.recipes[name] == value).all()
    assert_in_space(hfo2, result.recipes)
    with pytest.raises(ProposalError, match="anneal_atmosphere"):
        propose(hfo2, experiments, 1, fixed={"anneal_atmosphere": "N2"}, settings=fast)
    with pytest.raises(ProposalError, match="not a parameter"):
        propose(hfo2, experiments, 1, fixed={"colour": 1}, settings=fast)


def test_candidates(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    experiments = _experiments(hfo2, 10)
    candidates = pd.concat([random_recipes(hfo2, 8, 11), experiments[hfo2.parameter_names].iloc[:3]],
                           ignore_index=True)
    pending = candidates.iloc[:2]
    result = propose(hfo2, experiments, 4, pending=pending, candidates=candidates, seed=0, settings=fast)
    assert result.strategy == "qlognehvi+candidates"
    chosen = set(recipe_keys(hfo2, result.recipes))
    allowed = set(recipe_keys(hfo2, candidates.iloc[2:8]))
    assert len(chosen) == 4 and chosen <= allowed
    # initial design from candidates
    empty = pd.DataFrame(columns=hfo2.parameter_names)
    init = propose(hfo2, empty, 3, candidates=candidates, seed=0, settings=fast)
    assert init.strategy == "initial_design+candidates"
    assert set(recipe_keys(hfo2, init.recipes)) <= set(recipe_keys(hfo2, candidates))
    with pytest.raises(ProposalError, match="only 6 of 11 candidate"):
        propose(hfo2, experiments, 7, pending=pending, candidates=candidates, settings=fast)
    # fixed values restrict the candidates
    fixed_label = candidates.iloc[5]["anneal_atmosphere"]
    sub = propose(hfo2, experiments, 1, candidates=candidates, fixed={"anneal_atmosphere": fixed_label}, settings=fast)
    assert (sub.recipes["anneal_atmosphere"] == fixed_label).all()


def test_robust_to_few_points_duplicates_and_constant(hfo2: CampaignConfig, fast: EngineSettings,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    one = _experiments(hfo2, 1)
    result = propose(hfo2, one, 2, settings=fast)
    assert result.strategy == "initial_design"
    assert result.recipes["first_cycle_ce_pct_mean"].isna().all()
    # duplicates and replicates with different values, and a constant outcome
    base = _experiments(hfo2, 5)
    dup = pd.concat([base, base, base], ignore_index=True)
    dup["first_cycle_ce_pct"] = dup["first_cycle_ce_pct"] + np.linspace(0, 0.1, len(dup))
    dup["rate_capability_pct"] = 80.0
    with caplog.at_level(logging.INFO, logger="doe.engine"):
        settings = EngineSettings.fast().__class__(**{**fast.to_dict(), "initial_design_size": 3})
        result = propose(hfo2, dup, 3, settings=settings)
    assert result.strategy == "qlognehvi"
    assert_in_space(hfo2, result.recipes)
    assert (result.recipes["rate_capability_pct_mean"] == 80.0).all()
    assert (result.recipes["rate_capability_pct_sd"] == 0.0).all()
    assert "rate_capability_pct" in caplog.text and "equal" in caplog.text
    # an objective that never varies leaves the acquisition; all objectives constant: initial design
    flat = dup.copy()
    flat["first_cycle_ce_pct"] = 90.0
    flat["capacity_retention_pct"] = 60.0
    assert propose(hfo2, flat, 2, settings=settings).strategy == "initial_design"


def test_rows_from_an_older_config(hfo2: CampaignConfig, fast: EngineSettings, caplog: pytest.LogCaptureFixture) -> None:
    experiments = _experiments(hfo2, 10)
    experiments.loc[0, "anneal_temperature_c"] = 900.0  # outside today's bounds: left out
    experiments.loc[1, "anneal_atmosphere"] = "N2"  # no longer allowed: left out
    with caplog.at_level(logging.DEBUG, logger="doe.engine"):  # a warning once per process, then debug
        surrogates = Surrogates(hfo2, fast).fit(experiments)
    assert surrogates.n_train_["first_cycle_ce_pct"] == 8
    assert "N2" in caplog.text
    result = propose(hfo2, experiments, 2, settings=fast, surrogates=surrogates)
    assert_in_space(hfo2, result.recipes)


def test_experiments_outside_a_narrowed_space_are_left_out_not_moved(fast: EngineSettings,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A probe: after x was narrowed to [0, 0.2] (or q = 3 dropped), measurements made at x up to 1
    (at q = 3) were fitted at x = 0.2 (at q = 2): the prediction at x = 0.2 went from 1.6 to 9.1
    (true 2.0), and the trust region could centre on a recipe never made."""
    config = CampaignConfig.from_dict({
        "name": "narrowed", "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 0.2]},
                       {"name": "q", "type": "discrete", "values": [1, 2]}]})
    table = pd.DataFrame({"x": [*np.linspace(0, 0.2, 8), 0.2 + 1e-11, 0.5, 0.9, 0.1],  # 0.2 + 1e-11: a bound's float noise
                          "q": [1, 2] * 4 + [1, 1, 1, 3]})
    table["y"] = np.where(table["q"] == 3, 100.0, 10 * table["x"] + 0.01 * table["q"])
    with caplog.at_level(logging.WARNING, logger="doe.engine.encoding"):
        surrogates = Surrogates(config, fast).fit(table)
    assert surrogates.n_train_["y"] == 9
    assert "3 finished experiment(s) left out of the model: x 0.5, 0.9 no longer allowed (allowed: 0 to 0.2); " \
           "q 3 no longer allowed (allowed: 1, 2)" in caplog.text
    predicted = surrogates.predict(pd.DataFrame({"x": [0.2, 0.1], "q": [2, 2]}))["y_mean"].to_numpy()
    assert np.abs(predicted - [2.02, 1.02]).max() < 0.3
    result = propose(config, table, 2, settings=fast, surrogates=surrogates)
    assert result.model_settings["trust_region"]["centre"] == {"x": 0.2, "q": 2.0}  # the best measured in the space
    assert_in_space(config, result.recipes)


def test_bad_batch_size(hfo2: CampaignConfig) -> None:
    with pytest.raises(ProposalError, match=">= 1"):
        propose(hfo2, pd.DataFrame(columns=hfo2.parameter_names), 0)


def test_exhausted_discrete_space(fast: EngineSettings) -> None:
    config = CampaignConfig.from_dict({
        "name": "tiny", "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": "a", "type": "categorical", "values": ["p", "q"]},
                       {"name": "b", "type": "discrete", "values": [1, 2]}],
    })
    done = pd.DataFrame({"a": ["p", "p", "q"], "b": [1.0, 2.0, 1.0], "y": [1.0, 2.0, 3.0]})
    last = propose(config, done, 1, settings=fast)
    assert (last.recipes["a"].iloc[0], last.recipes["b"].iloc[0]) == ("q", 2.0)
    with pytest.raises(ProposalError, match="untested"):
        propose(config, done, 2, settings=fast)
    # nothing was held: the message spoke of "these fixed values" all the same
    done = pd.concat([done, last.recipes[["a", "b"]].assign(y=4.0)], ignore_index=True)
    with pytest.raises(ProposalError, match=r"every recipe the space allows was measured") as err:
        propose(config, done, 1, settings=fast)
    assert "fixed" not in str(err.value)
    with pytest.raises(ProposalError, match=r"remain in the search space \(with the constraints\)"):
        propose(config, done.iloc[:2], 3)  # the space-filling start
    with pytest.raises(ProposalError, match=r"\(with the values held for this batch and the constraints\)"):
        propose(config, done.iloc[:2], 2, fixed={"a": "p"})


def _fail_rate(config: CampaignConfig, seeds: range, with_failures: bool, fast: EngineSettings) -> float:
    """Share of proposals deep inside the region x > 0.6 where every run fails (x > 0.75)."""
    hits = total = 0
    for seed in seeds:
        recipes = random_recipes(config, 24, seed)
        x = recipes["x"].to_numpy()
        table = recipes.copy()
        table["y"] = x + 0.3 * np.sin(6 * recipes["z"].to_numpy())  # best at high x: inside the failing region
        table["failed"] = x > 0.6
        table.loc[table["failed"], "y"] = np.nan
        if not with_failures:
            table = table[~table["failed"]]
        result = propose(config, table, 3, seed=seed, settings=fast)
        hits += int((result.recipes["x"] > 0.75).sum())
        total += 3
    return hits / total


def test_failed_runs_steer_away(fast: EngineSettings) -> None:
    config = CampaignConfig.from_dict({
        "name": "fails", "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                       {"name": "z", "type": "continuous", "bounds": [0, 1]}],
    })
    # the whole space: the trust region (around the best measured x <= 0.6) would keep most
    # proposals out of x > 0.75 with or without failure data
    whole_space = dataclasses.replace(fast, trust_region_width=None, best_guess=False)
    with_info = _fail_rate(config, range(4), True, whole_space)
    without = _fail_rate(config, range(4), False, whole_space)
    assert without >= 0.5, f"without failure data the optimum region should attract proposals ({without:.2f})"
    assert with_info <= without - 0.4, f"failure data should steer away: {with_info:.2f} vs {without:.2f}"


def _one_objective_campaign(seed: int) -> tuple[CampaignConfig, pd.DataFrame]:
    """Four numbers in [0, 10] and a label; the best recipe is near x = 3 with label b."""
    config = CampaignConfig.from_dict({
        "name": "local", "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [*({"name": f"x{i}", "type": "continuous", "bounds": [0, 10]} for i in range(4)),
                       {"name": "k", "type": "categorical", "values": ["a", "b", "c"]}],
    })
    recipes = random_recipes(config, 16, seed)
    x = recipes[[f"x{i}" for i in range(4)]].to_numpy() / 10
    table = recipes.copy()
    table["y"] = -((x - 0.3) ** 2).sum(axis=1) + 0.2 * (recipes["k"] == "b").to_numpy()
    return config, table


def test_trust_region_and_best_guess(fast: EngineSettings) -> None:
    numbers = [f"x{i}" for i in range(4)]
    for seed in range(3):
        config, table = _one_objective_campaign(seed)
        result = propose(config, table, 3, seed=seed, settings=fast)
        best = table.loc[table["y"].idxmax()]
        # every recipe stays within half the trust region's width (0.4 of the range of 10) of the best measured one
        assert (np.abs(result.recipes[numbers].to_numpy() - best[numbers].to_numpy(dtype=float)) <= 2.0 + 1e-6).all()
        region = result.model_settings["trust_region"]
        assert region["width"] == 0.4 and region["centre"]["k"] == best["k"]
        assert np.allclose([region["centre"][c] for c in numbers], best[numbers].to_numpy(dtype=float))
        # a batch of three is all expected improvement
        assert list(result.recipes["strategy"]) == ["qlognei"] * 3
        # a batch of one after an odd number of experiments is the model's best guess, in a box half as wide
        known = table.iloc[:15]
        best = known.loc[known["y"].idxmax()]
        single = propose(config, known, 1, seed=seed, settings=fast)
        assert list(single.recipes["strategy"]) == ["best_guess"]
        guess = single.recipes.iloc[-1]
        assert (np.abs(guess[numbers].to_numpy(dtype=float) - best[numbers].to_numpy(dtype=float)) <= 1.0 + 1e-6).all()
        # ... and the model expects it to beat the best measured recipe
        predicted = Surrogates(config, fast).fit(known, seed=seed).predict(best[[*numbers, "k"]].to_frame().T)
        assert guess["y_mean"] >= float(predicted["y_mean"].iloc[0]) - 1e-6


def test_best_guess_is_not_repeated_while_pending(fast: EngineSettings) -> None:
    config, table = _one_objective_campaign(0)
    first = propose(config, table, 3, seed=0, settings=fast)
    pending = first.recipes[config.parameter_names]
    second = propose(config, table, 3, pending=pending, seed=0, settings=fast)
    for _, row in second.recipes.iterrows():
        same_label = pending["k"] == row["k"]
        close = (np.abs(pending[[f"x{i}" for i in range(4)]].to_numpy(dtype=float)
                        - row[[f"x{i}" for i in range(4)]].to_numpy(dtype=float)) <= 0.1).all(axis=1)
        assert not (same_label.to_numpy() & close).any(), "a proposal sits on a pending recipe"


def test_batches_of_one_alternate_with_the_best_guess(fast: EngineSettings) -> None:
    """One at a time, every second proposal is the best guess: when the known experiments are odd in number."""
    config, table = _one_objective_campaign(2)  # 16 finished experiments
    even = propose(config, table, 1, seed=0, settings=fast)
    assert list(even.recipes["strategy"]) == ["qlognei"]
    odd = propose(config, table.iloc[:15], 1, seed=0, settings=fast)
    assert list(odd.recipes["strategy"]) == ["best_guess"]
    # pending experiments count as known: 16 finished + 1 pending is odd
    pending = even.recipes[config.parameter_names]
    after_pending = propose(config, table, 1, pending=pending, seed=0, settings=fast)
    assert list(after_pending.recipes["strategy"]) == ["best_guess"]
    # the same holds on a finite candidate set, where the guess is the candidate with the best predicted y
    candidates = random_recipes(config, 40, 7)
    picked = propose(config, table.iloc[:15], 1, candidates=candidates, seed=0, settings=fast).recipes
    assert list(picked["strategy"]) == ["best_guess+candidates"]
    predicted = Surrogates(config, fast).fit(table.iloc[:15], seed=0).predict(candidates)
    assert picked["y_mean"].iloc[0] == pytest.approx(predicted["y_mean"].max(), abs=1e-6)
    assert list(propose(config, table.iloc[:15], 1, seed=0,
                        settings=dataclasses.replace(fast, best_guess=False)).recipes["strategy"]) == ["qlognei"]


def test_whole_space_and_no_best_guess_when_settings_say_so(fast: EngineSettings, hfo2: CampaignConfig) -> None:
    config, table = _one_objective_campaign(1)
    plain = dataclasses.replace(fast, trust_region_width=None, best_guess=False)
    result = propose(config, table, 3, seed=1, settings=plain)
    assert "trust_region" not in result.model_settings
    assert set(result.recipes["strategy"]) == {"qlognei"}
    # several objectives: no single best recipe, so neither a trust region nor a best guess
    two = propose(hfo2, _experiments(hfo2, 12), 3, seed=0, settings=fast)
    assert "trust_region" not in two.model_settings and set(two.recipes["strategy"]) == {"qlognehvi"}


def test_multi_objective_batches_never_compile_a_cpp_kernel(tmp_path: Path) -> None:
    """BoTorch would JIT-compile a fused qLogNEHVI kernel on first use (~40 s); doe uses the pure path."""
    script = (
        "import numpy as np, pandas as pd\n"
        "from doe import load_config\n"
        "from doe.engine import EngineSettings, propose\n"
        "from doe.simulate import VirtualLab\n"
        "config = load_config('hfo2-ncm85')\n"
        "recipes = VirtualLab.random_recipes(12, seed=0)\n"
        "measured = VirtualLab(0).run(recipes)\n"
        "table = recipes.copy()\n"
        "for name in [*config.outcome_names, 'failed']:\n"
        "    table[name] = measured[name].to_numpy()\n"
        "print(propose(config, table, 2, settings=EngineSettings.fast()).strategy)\n"
        "from botorch.acquisition.multi_objective import logei\n"
        "print('fused kernel loaded:', logei._C is not None)\n"
    )
    env = {**os.environ, "TORCH_EXTENSIONS_DIR": str(tmp_path / "extensions")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    strategy, loaded = result.stdout.strip().splitlines()[-2:]
    assert strategy.endswith("qlognehvi")
    assert loaded == "fused kernel loaded: False"
    # torch makes the build folder before any compile, so even a failed attempt would leave it
    assert not (tmp_path / "extensions").exists()
    assert "Failed to compile fused qLogEHVI" not in result.stderr


def _reference_rows(config: CampaignConfig, recipes: pd.DataFrame) -> pd.Series:
    reference = config.reference_recipe()
    assert reference is not None
    return recipes[list(reference)].apply(
        lambda row: all(row[k] == v if isinstance(v, str) else abs(float(row[k]) - v) < 1e-9
                        for k, v in reference.items()), axis=1)


def test_the_first_batch_starts_at_the_reference_recipe(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    """Default: the first row of the initial design is the template's reference (the study's
    recipe) exactly, the others fill the space around it; off, no row is the reference."""
    empty = pd.DataFrame(columns=hfo2.parameter_names)
    first = propose(hfo2, empty, 3, seed=4, settings=fast)
    assert first.strategy == "initial_design" and first.model_settings["start_at_reference"] is True
    assert list(first.recipes["strategy"]) == ["reference", "initial_design", "initial_design"]
    assert list(_reference_rows(hfo2, first.recipes)) == [True, False, False]
    assert_in_space(hfo2, first.recipes)
    off = propose(hfo2, empty, 3, seed=4, settings=dataclasses.replace(fast, start_at_reference=False))
    assert not _reference_rows(hfo2, off.recipes).any() and set(off.recipes["strategy"]) == {"initial_design"}


def test_the_reference_is_proposed_once_and_only_where_it_is_allowed(hfo2: CampaignConfig,
                                                                     fast: EngineSettings) -> None:
    empty = pd.DataFrame(columns=hfo2.parameter_names)
    first = propose(hfo2, empty, 2, seed=1, settings=fast)
    # pending (or finished): the next batch does not propose it again
    again = propose(hfo2, empty, 2, seed=2, settings=fast, pending=first.recipes[hfo2.parameter_names])
    assert not _reference_rows(hfo2, again.recipes).any() and "start_at_reference" not in again.model_settings
    done = _experiments(hfo2, 1, 3)
    done.loc[0, hfo2.parameter_names] = pd.Series(hfo2.reference_recipe())
    assert not _reference_rows(hfo2, propose(hfo2, done, 2, seed=2, settings=fast).recipes).any()
    # a fixed value that the reference does not have: no reference row; one it has: the reference
    other = propose(hfo2, empty, 2, seed=1, settings=fast, fixed={"anneal_atmosphere": "Ar"})
    assert not _reference_rows(hfo2, other.recipes).any()
    same = propose(hfo2, empty, 2, seed=1, settings=fast, fixed={"anneal_atmosphere": "O2"})
    assert list(_reference_rows(hfo2, same.recipes)) == [True, False]
    # once the model is in use, nothing is forced
    model = propose(hfo2, _experiments(hfo2, 12, 5), 3, seed=5, settings=fast)
    assert "reference" not in set(model.recipes["strategy"])


def test_a_shared_furnace_run_starts_with_the_reference_programme(hfo2: CampaignConfig,
                                                                   fast: EngineSettings) -> None:
    shared = ["anneal_temperature_c", "anneal_time_h", "anneal_atmosphere"]
    config = hfo2.replace(batch_shared=shared)
    first = propose(config, pd.DataFrame(columns=config.parameter_names), 4, seed=6, settings=fast)
    assert list(_reference_rows(config, first.recipes)) == [True, False, False, False]
    reference = config.reference_recipe()
    assert reference is not None
    for name in shared:
        assert first.recipes[name].nunique() == 1 and first.recipes[name].iloc[0] == reference[name]
    assert first.recipes["ligand_to_np_mass_ratio"].nunique() == 4


def test_the_reference_start_rounds_an_off_grid_reference_and_skips_a_control_of_the_same_recipe(
        hfo2: CampaignConfig, fast: EngineSettings) -> None:
    empty = pd.DataFrame(columns=hfo2.parameter_names)
    # a reference off its parameter's grid (430 C on a 50 C grid) starts at its nearest grid recipe
    data = hfo2.to_dict()
    for p in data["parameters"]:
        if p["name"] == "anneal_temperature_c":
            p.update(resolution=50.0, reference=430.0)
    off_grid = load_config(data)
    first = propose(off_grid, empty, 3, seed=4, settings=fast)
    assert list(first.recipes["strategy"]) == ["reference", "initial_design", "initial_design"]
    assert (first.recipes["anneal_temperature_c"] % 50 == 0).all()
    lab_reference = {**off_grid.reference_recipe(), "anneal_temperature_c": 450.0}  # type: ignore[dict-item]
    assert first.recipes.iloc[0][list(lab_reference)].to_dict() == lab_reference
    # when the nearest grid point breaks a constraint, the nearest one that meets it
    data["constraints"] = ["anneal_temperature_c <= 440"]
    constrained = propose(load_config(data), empty, 3, seed=4, settings=fast)
    assert constrained.recipes.iloc[0][["strategy", "anneal_temperature_c"]].tolist() == ["reference", 400.0]
    # the published recipe itself made already, or as the control: no second, rounded copy
    made = _experiments(off_grid, 1, 3)
    made.loc[0, off_grid.parameter_names] = pd.Series(off_grid.reference_recipe())
    assert "reference" not in set(propose(off_grid, made, 2, seed=4, settings=fast).recipes["strategy"])
    as_control = off_grid.replace(control_recipe=off_grid.reference_recipe())
    assert list(propose(as_control, empty, 3, seed=4, settings=fast).recipes["strategy"]) == [
        "initial_design", "initial_design", "control"]
    # control_recipe: reference closes every batch; the start does not propose the same recipe twice
    with_control = hfo2.replace(control_recipe=hfo2.reference_recipe())
    batch = propose(with_control, empty, 3, seed=4, settings=fast)
    assert list(batch.recipes["strategy"]) == ["initial_design", "initial_design", "control"]
    assert int(_reference_rows(with_control, batch.recipes).sum()) == 1


def test_a_control_that_is_the_reference_still_lets_the_reference_be_made(hfo2: CampaignConfig,
                                                                          fast: EngineSettings) -> None:
    """Found by a probe: with ``control_recipe: reference`` the reference start was skipped in
    batches of one (they have no control, so the reference was never made), and with the
    anneal shared the control took a space-filling furnace run (never the reference's)."""
    empty = pd.DataFrame(columns=hfo2.parameter_names)
    with_control = hfo2.replace(control_recipe=hfo2.reference_recipe())
    one = propose(with_control, empty, 1, seed=4, settings=fast)
    assert list(one.recipes["strategy"]) == ["reference"] and bool(_reference_rows(with_control, one.recipes).all())
    shared = ["anneal_temperature_c", "anneal_time_h", "anneal_atmosphere"]
    furnace = with_control.replace(batch_shared=shared)
    batch = propose(furnace, empty, 3, seed=4, settings=fast)
    assert list(batch.recipes["strategy"]) == ["initial_design", "initial_design", "control"]
    assert list(_reference_rows(furnace, batch.recipes)) == [False, False, True]  # the control as made is it
    # once made (here as the control), the next furnace run is the space-filling design's
    made = batch.recipes[furnace.parameter_names].assign(experiment_id=["E1", "E2", "E3"], status="completed",
                                                         first_cycle_ce_pct=[80.0, 85.0, 88.0])
    again = propose(furnace, made, 3, seed=5, settings=fast)
    assert not bool(_reference_rows(furnace, again.recipes).any())
