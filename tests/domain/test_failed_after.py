"""Which rows of a table are an experiment measured, then failed (pure functions, no database)."""

from __future__ import annotations

import pandas as pd

from doe.domain.failed_after import measured_then_failed
from doe.templates import resolve_config

CE = "first_cycle_ce_pct"
CONFIG = resolve_config("hfo2-ncm85")
NO_HISTORY = pd.DataFrame(columns=["experiment_id", "status", "failure_reason"])


def _rows(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame([{"experiment_id": "P1", "replicate": None, CE: None, "failed": False,
                          "failure_reason": None} | row for row in rows])


def test_every_measured_row_failed_for_one_reason_is_an_experiment_measured_then_failed() -> None:
    table = _rows({"replicate": "A", CE: 80.0, "failed": "True", "failure_reason": "overshot "},
                  {"replicate": "B", CE: 81.0, "failed": True, "failure_reason": "overshot"},
                  {"replicate": "C", "failed": True, "failure_reason": "cracked"})  # a failed cell stays failed
    out, failed = measured_then_failed(table, NO_HISTORY, CONFIG)
    assert failed == {"P1": "overshot"}
    assert out["failed"].tolist() == [None, None, True] and out["failure_reason"].tolist() == [None, None, "cracked"]
    assert table["failed"].tolist() == ["True", True, True]  # the caller's table is left as it was


def test_a_measured_row_not_failed_two_reasons_or_another_stored_state_are_left_to_validation() -> None:
    cases = [_rows({"replicate": "A", CE: 80.0, "failed": True, "failure_reason": "x"}, {"replicate": "B", CE: 81.0}),
             _rows({"replicate": "A", CE: 80.0, "failure_reason": "x"}, {"replicate": "B", CE: 81.0,
                                                                         "failure_reason": "y"})]
    for table in cases:
        assert measured_then_failed(table, NO_HISTORY, CONFIG)[1] == {}
    one = _rows({CE: 80.0, "failed": True, "failure_reason": "x"})
    for status, reason, value, found in (("completed", None, 80.0, {}), ("failed", "y", 80.0, {}),
                                         ("failed", "x", None, {}),  # a value typed beside a failure: no record
                                         ("failed", " x", 80.0, {"P1": "x"})):
        history = pd.DataFrame([{"experiment_id": "P1", "status": status, "failure_reason": reason, CE: value}])
        assert measured_then_failed(one, history, CONFIG)[1] == found, (status, reason, value)
