"""Property-based fuzzing of ``Campaign.import_json`` (issue 14, item 5) on a real SQLite file.

Hostile export documents (a real export with one to three leaves replaced, deleted or
repeated, and random JSON-like data) are imported. Only a :class:`doe.errors.DoeError`
escapes; a refused document changes nothing stored; an accepted one reads back cleanly
(history, measurements, audit, export) so that no import can break a campaign later.
"""

from __future__ import annotations

import copy
import itertools
import json
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doe import Campaign, list_campaigns
from doe.errors import DoeError
from doe.templates import resolve_config

FUZZ = settings(max_examples=150, derandomize=True, deadline=timedelta(seconds=10),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MAX_MESSAGE = 20_000
CE = "first_cycle_ce_pct"

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["3_50", "1e400", "nan", "-inf", " 400 ", "abc", "O2", "plasma", "E0001", "0002", "",
                     "2026-01-01T00:00:00+00:00", "not a time", "\x00", "\u202e", "x" * 70, 10**30, -1, 0, 1.5]),
)
json_like = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)

_STATE: dict[str, Any] = {}
_NAMES = itertools.count()


def _setup() -> tuple[str, dict[str, Any]]:
    """One database for the whole property (hypothesis reruns the body): a campaign with two
    configuration versions, a failed and a running experiment, a corrected measurement."""
    if not _STATE:
        folder = Path(tempfile.mkdtemp(prefix="doe-import-fuzz-"))
        url = f"sqlite:///{folder / 'fuzz.sqlite3'}"
        campaign = Campaign.from_config(resolve_config("hfo2-ncm85"), storage=url, name="source", actor="fuzz")
        recipe = campaign.config.reference_recipe()
        campaign.record(pd.DataFrame([{**recipe, CE: 88.0},
                                      {**recipe, "anneal_atmosphere": "air", "failed": True},
                                      {**recipe, "anneal_temperature_c": 500.0}]))
        campaign.update_config(campaign.config.replace(seed=7))
        first = campaign.history()["experiment_id"].tolist()[0]
        campaign.record(pd.DataFrame([{"experiment_id": first, CE: 89.0}]), correct=True)
        _STATE["url"] = url
        _STATE["export"] = json.loads(json.dumps(campaign.export_json()))
    return _STATE["url"], _STATE["export"]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


@st.composite
def hostile_exports(draw: st.DrawFn) -> Any:
    _, export = _setup()
    if draw(st.integers(0, 9)) == 0:
        return draw(json_like)  # not an export at all
    data = copy.deepcopy(export)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if draw(st.booleans()):  # half the time a recipe or a measurement, where the domain checks bite
            paths = [p for p in paths if len(p) >= 3 and p[0] in ("experiments", "measurements")
                     and p[2] in ("parameters", "outcome", "value", "config_version", "status")] or paths
        path = draw(st.sampled_from(paths))
        *parent_path, key = path
        parent = data
        for step in parent_path:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "delete", "repeat"]))
        if action == "delete":
            del parent[key]
        elif action == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = draw(json_like)
    return data


def _stored(url: str) -> tuple[list[str], pd.DataFrame, pd.DataFrame, int]:
    source = Campaign.load("source", storage=url)
    return (sorted(list_campaigns(url, include_archived=True)["name"]), source.history(),
            source.measurements(include_superseded=True), len(source.audit()))


@FUZZ
@given(hostile_exports())
def test_import_json_refuses_cleanly_and_what_it_accepts_reads_back(data: Any) -> None:
    url, _ = _setup()
    before = _stored(url)
    name = f"copy-{next(_NAMES)}"
    try:
        imported = Campaign.import_json(data, storage=url, name=name, actor="fuzz")
    except DoeError as err:
        assert len(str(err)) < MAX_MESSAGE, f"error message of {len(str(err))} characters"
        after = _stored(url)
        assert after[0] == before[0]
        pd.testing.assert_frame_equal(after[1], before[1])
        pd.testing.assert_frame_equal(after[2], before[2])
        assert after[3] == before[3]
        return
    # accepted: the copy must be readable in every way a user reads a campaign
    history = imported.history()
    imported.measurements(include_superseded=True)
    imported.audit()
    imported.pending()
    again = imported.export_json()
    assert len(again["experiments"]) == len(history)
    for column in imported.config.parameter_names:
        assert column in history.columns
