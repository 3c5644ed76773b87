"""The control recipe closes a batch once: no other row of a furnace-shared batch repeats it as
the batch's furnace run makes it, from the model (real GP fits) or a shared Latin hypercube."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from doe.domain import CampaignConfig
from doe.engine import EngineSettings, propose
from doe.errors import ProposalError

DESIGNS = ["model", "latin_hypercube"]


def _config(values: list[int], seed: int = 0) -> CampaignConfig:
    return CampaignConfig.from_dict({
        "name": "furnace", "seed": seed, "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": "w", "type": "discrete", "values": values},
                       {"name": "gas", "type": "categorical", "values": ["air", "O2"]}],
        "batch_shared": ["gas"], "control_recipe": {"w": 1, "gas": "air"}})


def _made(values: list[int], air: list[int]) -> pd.DataFrame:
    """Every recipe under O2 made (poor), and ``air``'s (good): the next run is an air run."""
    rows = [{"w": w, "gas": "O2", "y": 0.1 * w} for w in values]
    rows += [{"w": w, "gas": "air", "y": 10.0 + 0.1 * w} for w in air]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("design", DESIGNS)
def test_a_shared_batch_never_repeats_the_control_recipe(design: str) -> None:
    """Found by review: under air only w = 1, 2, 3 were untested, w = 1 under air is the control,
    and a batch of 3 + the control proposed w = 1 twice (the furnace-shared model batch and the
    shared Latin hypercube left the control out of the recipes a row must not repeat)."""
    values = [0, 1, 2, 3]
    with pytest.raises(ProposalError, match="untested recipe"):
        propose(_config(values), _made(values, [0]), 4, seed=1, settings=EngineSettings.fast(), design=design)


@pytest.mark.parametrize("design", DESIGNS)
def test_one_recipe_and_the_control_share_the_furnace_run_and_differ(design: str) -> None:
    """Found by review: with w = 1 the only untested value (under either gas), a batch of one
    recipe and the control proposed (1, O2) and the control made in that O2 run: (1, O2) twice."""
    made = pd.DataFrame([{"w": w, "gas": gas, "y": 0.1 * w + (gas == "air")} for w in (0, 2, 3) for gas in ("air", "O2")])
    with pytest.raises(ProposalError, match="untested recipe"):
        propose(_config([0, 1, 2, 3]), made, 2, seed=1, settings=EngineSettings.fast(), design=design)


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize(("seed", "n"), [(0, 4), (1, 4), (2, 4), (0, 2), (1, 2)])
def test_a_shared_batch_with_room_keeps_the_control_recipe_apart(design: str, seed: int, n: int) -> None:
    values = [0, 1, 2, 3, 4]
    batch = propose(_config(values, seed), _made(values, [0]), n, seed=seed, settings=EngineSettings.fast(),
                    design=design).recipes
    assert batch["strategy"].tolist()[-1] == "control" and batch["gas"].nunique() == 1
    rows: list[dict[str, Any]] = batch[["w", "gas"]].to_dict("records")
    assert rows[-1] == {"w": 1, "gas": batch["gas"].iloc[0]}
    assert rows[-1] not in rows[:-1], rows
    assert len({(r["w"], r["gas"]) for r in rows}) == n


def _screened(values: list[int], control: dict[str, Any], continuous: bool = True) -> CampaignConfig:
    return CampaignConfig.from_dict({
        "name": "furnace", "seed": 0, "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": "w", "type": "discrete", "values": values},
                       *([{"name": "v", "type": "continuous", "bounds": [0, 1]}] if continuous else []),
                       {"name": "gas", "type": "categorical", "values": ["air", "O2"]}],
        "batch_shared": ["gas"], "control_recipe": control})


@pytest.mark.parametrize("n", [5, 6])
def test_a_screening_design_measures_a_corner_that_is_the_control_recipe_once(n: int) -> None:
    """Found by review: the control recipe (w = 0, v = 0 under air) is a corner of the screening
    design run under air, and the batch made it twice, as a corner and as its control. The
    control now measures that corner; its row is a centre point, and the note says so."""
    empty = pd.DataFrame(columns=["w", "v", "gas", "y"])
    result = propose(_screened([0, 1, 2, 3, 4], {"w": 0, "v": 0.0, "gas": "air"}), empty, n, seed=0,
                     settings=EngineSettings.fast(), design="screening")
    batch = result.recipes
    rows: list[dict[str, Any]] = batch[["w", "v", "gas"]].to_dict("records")
    assert batch["strategy"].tolist() == ["screening"] * (n - 1) + ["control"]
    assert rows[-1] == {"w": 0, "v": 0.0, "gas": "air"} and rows[-1] not in rows[:-1], rows
    corners = {(r["w"], r["v"]) for r in rows}
    assert corners == {(0, 0.0), (4, 0.0), (0, 1.0), (4, 1.0), (2, 0.5)}  # every corner once, and the centre
    assert "is the control recipe" in result.model_settings["design_note"]


def test_a_screening_design_without_a_centre_for_the_controls_corner_is_refused() -> None:
    empty = pd.DataFrame(columns=["w", "gas", "y"])
    with pytest.raises(ProposalError, match=r"corner .* is the control recipe.*no centre point"):
        propose(_screened([0, 1], {"w": 0, "gas": "air"}, continuous=False), empty, 3, seed=0,
                settings=EngineSettings.fast(), design="screening")
