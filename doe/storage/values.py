"""Checks and conversions of values on their way into and out of the database.

Every value a caller hands the store passes one of these checks first (text lengths,
printable labels, finite numbers, JSON-ready data, ISO times); each raises a
:class:`~doe.errors.StorageError` or :class:`~doe.errors.DataError` naming the field.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np

from doe.domain.config import CampaignConfig
from doe.domain.objectives import MAX_CYCLE
from doe.domain.records import ExperimentRef, NewExperimentRef
from doe.domain.values import (
    NOT_UNICODE,
    is_integer,
    is_printable,
    is_real_number,
    is_stored_printable,
    is_unicode_text,
)
from doe.domain.yaml_text import load_yaml
from doe.errors import (
    CellProblem,
    ConfigError,
    ConflictError,
    DataError,
    StorageError,
    shorten_text,
)

MAX_ITEMS_PER_WRITE = 200_000
"""New experiments + measurements + status changes in one write (or one import)."""
MAX_TEXT = 2_000
"""Characters of a note, failure reason or audit detail."""
MAX_JSON_CHARS = 1_000_000
"""Characters of one JSON document (parameters, predictions, model settings)."""
MAX_LABEL = 64
"""Characters of an experiment id, batch id, outcome name, unit or package version."""
MAX_ACTOR = 200
MAX_CAMPAIGN_NAME = 120

_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
OUTCOME_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # use fullmatch

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_label(value: Any, what: str, *, max_len: int = MAX_LABEL, optional: bool = False,
                stored: bool = False) -> str | None:
    """``value``, text of 1 to ``max_len`` printable characters (:func:`is_printable`); with
    ``stored``, a label the store may already hold (an experiment id or replicate label referred
    to, or carried by an import) under the rule it was stored by (:func:`is_stored_printable`)."""
    if value is None and optional:
        return None
    if (not isinstance(value, str) or not value.strip() or len(value) > max_len
            or not (is_stored_printable(value) if stored else is_printable(value))):
        raise StorageError(
            f"{what} must be text of 1 to {max_len} printable characters, got {shorten(value)}"
        )
    return value


def check_text(value: Any, what: str, *, max_len: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise StorageError(f"{what} must be text, got {type(value).__name__}")
    if len(value) > max_len:
        raise StorageError(f"{what} is {len(value)} characters long; at most {max_len} are stored")
    if not is_unicode_text(value):
        raise StorageError(f"{what} {NOT_UNICODE}, got {shorten(value)}")
    return value


def conflict_error(name: str, conflicts: Sequence[str], what: str, advice: str) -> ConflictError:
    """The error of a write that would replace what campaign ``name`` recorded: ``what`` (e.g.
    'measurement(s) differ from the values recorded') after their count, the first 50
    ``conflicts`` listed, then ``advice``."""
    shown = "\n".join(f"  - {c}" for c in conflicts[:50])
    more = f"\n  ... and {len(conflicts) - 50} more" if len(conflicts) > 50 else ""
    return ConflictError(f"campaign {name!r}: {len(conflicts)} {what}; nothing was written:\n{shown}{more}\n{advice}",
                         advice)


def recorded_by(actor: str, at: datetime) -> str:
    """``recorded by ann on 2026-12-06 10:03 UTC``: who stored a value a conflict names, and when."""
    return f"recorded by {shorten_text(actor, 60)} on {at:%Y-%m-%d %H:%M} UTC"


def shorten(value: Any, n: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def json_ready(value: Any, where: str) -> Any:
    """``value`` as JSON-ready Python data (numpy scalars and arrays unwrapped).

    Raises DataError for NaN or infinity and for objects that have no JSON form.
    """
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise DataError(
                f"{where} is {number!r}: NaN and infinity cannot be stored; leave the value out instead",
                [CellProblem(None, where, number, "not a finite number")],
            )
        return number
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DataError(f"{where}: keys must be text, got {shorten(key)}")
            out[key] = json_ready(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple | np.ndarray):
        return [json_ready(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, datetime):
        return value.isoformat()
    raise DataError(f"{where}: a {type(value).__name__} cannot be stored; use numbers, text, lists or mappings")


def dumps_json(value: Any, where: str) -> str:
    text = json.dumps(json_ready(value, where), ensure_ascii=False, allow_nan=False)
    if not is_unicode_text(text):
        raise StorageError(f"{where} {NOT_UNICODE}")
    if len(text) > MAX_JSON_CHARS:
        raise StorageError(f"{where} is {len(text)} characters as JSON; at most {MAX_JSON_CHARS} are stored")
    return text


def check_finite(value: Any, where: str, row: int | None = None, column: str = "value") -> float:
    if not is_real_number(value):
        raise DataError(
            f"{where}: expected a number, got {shorten(value)}",
            [CellProblem(row, column, value, "not a number")],
        )
    number = float(value)
    if not math.isfinite(number):
        raise DataError(
            f"{where}: {number!r} is not a finite number; NaN and infinity cannot be stored "
            "(leave an unmeasured outcome out)",
            [CellProblem(row, column, value, "not a finite number")],
        )
    return number


def _corrupt(campaign: str, experiment_id: Any, field: str, value: Any, expected: str) -> StorageError:
    return StorageError(
        f"campaign {campaign!r}: the stored experiment {shorten(experiment_id)} has {field} = {shorten(value)}, "
        f"expected {expected}; the row was written outside doe (an older or foreign tool): correct or delete it "
        "in the database, or restore a backup")


def stored_number(value: Any, campaign: str, experiment_id: Any, field: str) -> float:
    """A number read back from the database, or a StorageError naming the campaign,
    experiment and field when the row holds something else (text, a mapping, a bool).

    SQLite keeps whatever a foreign tool wrote in a REAL column, so a read must not trust it;
    decimal text (``"350"``, an older tool's habit) is accepted, ``"3_50"`` or ``"abc"`` is not.
    """
    if value is None:
        return math.nan
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = float(value.strip())
    elif is_real_number(value) or isinstance(value, Decimal):
        number = float(value)
    else:
        raise _corrupt(campaign, experiment_id, field, value, "a number")
    if math.isinf(number):
        raise _corrupt(campaign, experiment_id, field, value, "a finite number")
    return number


def stored_json(text: Any, campaign: str, experiment_id: Any, field: str, kind: type = dict) -> Any:
    """A JSON document read back from the database (a mapping unless ``kind`` says otherwise)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError) as err:
        raise _corrupt(campaign, experiment_id, field, text, "JSON text") from err
    if not isinstance(value, kind):
        raise _corrupt(campaign, experiment_id, field, text, f"a JSON {'mapping' if kind is dict else kind.__name__}")
    return value


def iso_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def parse_time(value: Any, where: str, *, optional: bool = False) -> datetime | None:
    if value is None and optional:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise StorageError(f"{where} must be an ISO 8601 time such as '2026-11-25T10:00:00+00:00', got {shorten(value)}")


def chunks(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_CONFIG_CACHE: dict[str, CampaignConfig] = {}
_CONFIG_CACHE_LOCK = threading.Lock()


def parse_config(text: str) -> CampaignConfig:
    """A stored configuration (YAML text), parsed once per process."""
    with _CONFIG_CACHE_LOCK:
        cached = _CONFIG_CACHE.get(text)
    if cached is not None:
        return cached
    try:
        config = CampaignConfig.from_dict(load_yaml(text, "stored configuration"), stored=True)
    except ConfigError as err:
        raise StorageError(f"a stored campaign configuration cannot be read: {err}") from err
    with _CONFIG_CACHE_LOCK:
        if len(_CONFIG_CACHE) > 256:
            _CONFIG_CACHE.clear()
        _CONFIG_CACHE[text] = config
    return config


def check_cycle(cycle: Any, where: str) -> int:
    """A curve point's cycle (a whole number from 1 to MAX_CYCLE) or 0 for None."""
    if cycle is None:
        return 0
    if isinstance(cycle, bool) or not is_integer(cycle) or not 1 <= int(cycle) <= MAX_CYCLE:
        raise StorageError(f"{where}: a cycle is a whole number from 1 to {MAX_CYCLE}, got {shorten(cycle)}")
    return int(cycle)


def check_reference(ref: Any, where: str, n_new: int) -> ExperimentRef:
    """``ref`` if it is an experiment id (text) or names one of the ``n_new`` new experiments
    of the same write."""
    if isinstance(ref, NewExperimentRef):
        if ref.index >= n_new:
            raise StorageError(
                f"{where}: {ref!r} refers to new experiment {ref.index} (0-based), but this write "
                f"creates {n_new} new experiment(s)")
        return ref
    if not isinstance(ref, str) or not is_stored_printable(ref):  # a stored experiment's id, as it was stored
        raise StorageError(f"{where} must be an experiment id (printable text) or a NewExperimentRef, got {shorten(ref)}")
    return ref
