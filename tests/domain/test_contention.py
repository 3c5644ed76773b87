"""The writes that overtook a computation, from the audit trail's rows."""

from __future__ import annotations

from doe.domain.contention import latest_writes, writers_text


def test_the_rows_of_one_write_count_once_and_only_the_latest_writes_are_named() -> None:
    rows = [("t3", "recB", "record"), ("t3", "recB", "record"), ("t2", "recA", "record"),
            ("t1", "recA", "record"), ("t0", "ann", "suggest")]  # newest first; t3: one write of two rows
    assert latest_writes(rows, 3) == ("recB (record)", "recA (record)", "recA (record)")
    assert writers_text(latest_writes(rows, 3)) == "recB (record), recA (record) 2 times"
    assert latest_writes(rows, 9) == ("recB (record)", "recA (record)", "recA (record)", "ann (suggest)")
    assert latest_writes(rows, 0) == () and latest_writes(rows, -2) == ()  # a restore brought the revision back
