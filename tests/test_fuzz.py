"""Property-based fuzzing of the input boundaries (issue 14, item 5).

Random and hostile configurations, tables and files are thrown at config loading,
``Campaign.record`` and ``doe.io.read_table``. Each property checks that only a
:class:`doe.errors.DoeError` escapes, that every input finishes within the hypothesis
``deadline``, that error messages stay short, and (for ``record``, on a real SQLite file)
that a refused input changes nothing stored.
"""

from __future__ import annotations

import io
import math
import string
import tempfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

from doe import Campaign
from doe.domain import CampaignConfig
from doe.errors import DoeError
from doe.io import read_table
from doe.templates import resolve_config

FUZZ = settings(max_examples=150, derandomize=True, deadline=timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MAX_MESSAGE = 20_000
CONFIG = resolve_config("hfo2-ncm85")
RECIPE = CONFIG.reference_recipe()
assert RECIPE is not None
COLUMNS = ["experiment_id", *CONFIG.parameter_names, *CONFIG.outcome_names, "failed", "failure_reason", "note"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["3_50", "1e400", "nan", "-inf", "0x10", " 400 ", "yes", "=1+1", "'=1+1", "O2", "\x00", "\u202e"]),
)
json_like = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)


def _short(err: DoeError) -> None:
    assert len(str(err)) < MAX_MESSAGE, f"error message of {len(str(err))} characters"


# ------------------------------------------------------------------------------ config loading
@FUZZ
@given(st.text(max_size=400))
def test_config_from_any_text(text: str) -> None:
    try:
        CampaignConfig.from_yaml(text)
    except DoeError as err:
        _short(err)


HOSTILE_YAML = [
    "a: &a [1,2]\nb: *a", "!!python/object/apply:os.system ['true']", "a: !!binary AAAA", "? [1, 2]\n: x",
    "name: x\nname: y", "{" * 500, "- " * 500, "a: !!float 1e400", "%YAML 9.9\n---\na: 1", "\t\x00",
    "name: !!timestamp 2001-12-14", "parameters: {}", "parameters: [[]]", "objectives: [null]",
]


@FUZZ
@given(st.lists(st.sampled_from(HOSTILE_YAML), min_size=1, max_size=3), st.text(max_size=40))
def test_config_from_hostile_yaml(pieces: list[str], tail: str) -> None:
    try:
        CampaignConfig.from_yaml("\n".join(pieces) + tail)
    except DoeError as err:
        _short(err)


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict:
    data = CONFIG.to_dict()
    targets = draw(st.lists(st.sampled_from(["top", "parameter", "objective", "constraint"]), min_size=1, max_size=4))
    for target in sorted(targets, key=lambda t: t == "top"):  # the top level last: it may replace the lists
        value = draw(json_like)
        if target == "top":
            data[draw(st.sampled_from([*data, "extra"]))] = value
        elif target == "parameter":
            param = data["parameters"][draw(st.integers(0, len(data["parameters"]) - 1))]
            param[draw(st.sampled_from([*param, "extra"]))] = value
        elif target == "objective":
            objective = data["objectives"][0]
            objective[draw(st.sampled_from([*objective, "extra"]))] = value
        else:
            data["constraints"] = [value if isinstance(value, str) else draw(st.text(max_size=60))]
    return data


@FUZZ
@given(mutated_configs())
def test_config_from_mutated_mappings_and_their_yaml(data: dict) -> None:
    try:
        config = CampaignConfig.from_dict(data)
    except DoeError as err:
        _short(err)
    else:
        assert CampaignConfig.from_dict(config.to_dict()) == config
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    try:
        CampaignConfig.from_yaml(text)
    except DoeError as err:
        _short(err)


# ------------------------------------------------------------------------------ Campaign.record
_CAMPAIGN: list[Campaign] = []


def _campaign() -> Campaign:
    """One campaign on a real SQLite file for the whole property (hypothesis reruns the body)."""
    if not _CAMPAIGN:
        folder = Path(tempfile.mkdtemp(prefix="doe-fuzz-"))
        campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{folder / 'fuzz.sqlite3'}", actor="fuzz")
        campaign.record(pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": 88.0}]))
        _CAMPAIGN.append(campaign)
    return _CAMPAIGN[0]


cells = st.one_of(scalars, st.text(alphabet=string.printable, min_size=2000, max_size=2100),
                  st.sampled_from([*RECIPE.values(), "E0001", "E9999", 88.0, math.nan]))


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    columns = draw(st.lists(st.sampled_from([*COLUMNS, "unknown", "", "experiment_id"]), max_size=8))
    if draw(st.booleans()):
        columns = [*RECIPE, *columns]  # mostly-valid rows, so the deeper checks are reached
    n_rows = draw(st.integers(0, 4))
    rows = []
    for _ in range(n_rows):
        base = list(RECIPE.values()) if columns[: len(RECIPE)] == list(RECIPE) else []
        rest = [draw(cells) for _ in columns[len(base):]]
        rows.append(base + rest)
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


@settings(FUZZ, max_examples=150)
@given(st.one_of(tables(), json_like))
@example(pd.DataFrame(columns=["experiment_id", "experiment_id"]))  # once crashed the history-means check
def test_record_refuses_cleanly_and_changes_nothing(table: object) -> None:
    campaign = _campaign()
    history, measurements, audit = campaign.history(), campaign.measurements(), campaign.audit()
    try:
        campaign.record(table)  # type: ignore[arg-type]
    except DoeError as err:
        _short(err)
        pd.testing.assert_frame_equal(campaign.history(), history)
        pd.testing.assert_frame_equal(campaign.measurements(), measurements)
        assert len(campaign.audit()) == len(audit)


# ------------------------------------------------------------------------------ file import
@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([None, "csv", "xlsx"]))
def test_read_table_of_random_bytes(data: bytes, file_format: str | None) -> None:
    try:
        read_table(data, CONFIG, file_format=file_format)  # type: ignore[arg-type]
    except DoeError as err:
        _short(err)


@FUZZ
@given(st.lists(st.lists(st.one_of(st.text(max_size=12), st.sampled_from([*COLUMNS, "3_50", "'=1+1", ";", '"'])),
                         max_size=6), max_size=6),
       st.sampled_from([",", ";", "\t"]), st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_read_table_of_random_csv(rows: list[list[str]], delimiter: str, encoding: str) -> None:
    text = "\n".join(delimiter.join(row) for row in rows)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    try:
        read_table(data, CONFIG, file_format="csv")
    except DoeError as err:
        _short(err)


@FUZZ
@given(st.lists(st.lists(st.one_of(scalars.filter(lambda v: not isinstance(v, str) or "\x00" not in v),
                                   st.sampled_from(["=1/0", "=A1", "=SUM(B2:B3)"]), st.sampled_from(COLUMNS)),
                         max_size=5), max_size=5))
def test_read_table_of_random_xlsx(rows: list[list[object]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        try:
            sheet.append([v if not isinstance(v, float) or math.isfinite(v) else None for v in row])
        except (ValueError, TypeError, IllegalCharacterError):  # openpyxl refuses control characters
            return
    buffer = io.BytesIO()
    workbook.save(buffer)
    try:
        read_table(buffer.getvalue(), CONFIG, file_format="xlsx")
    except DoeError as err:
        _short(err)
