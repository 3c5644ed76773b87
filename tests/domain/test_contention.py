"""The writes that overtook a computation, from the audit trail's rows."""

from __future__ import annotations

from doe.domain.contention import latest_writes, writers_text


def test_the_rows_of_one_write_count_once_and_only_the_latest_writes_are_named() -> None:
    rows = [("t3", "recB", "record", None), ("t3", "recB", "record", None), ("t2", "recA", "record", None),
            ("t1", "recA", "record", None), ("t0", "ann", "suggest", None)]  # newest first; t3: one write of two rows
    assert latest_writes(rows, 3) == ("recB (record)", "recA (record)", "recA (record)")
    assert writers_text(latest_writes(rows, 3)) == "recB (record), recA (record) 2 times"
    assert latest_writes(rows, 9) == ("recB (record)", "recA (record)", "recA (record)", "ann (suggest)")
    assert latest_writes(rows, 0) == () and latest_writes(rows, -2) == ()  # a restore brought the revision back


def test_one_write_of_several_actions_counts_once_named_by_its_own_row() -> None:
    """One record() wrote experiment_created, measurement_added and status_changed rows before its
    own: counted as three writes, they used up the count and made up "recB (measurement_added)"."""
    rows = [("t2", "recB", "record", None), ("t2", "recB", "status_changed", "E0004"),
            ("t2", "recB", "measurement_added", "E0004"), ("t2", "recB", "experiment_created", "E0004"),
            ("t1", "recA", "record", None), ("t1", "recA", "measurement_added", "E0003"),
            ("t1", "recA", "experiment_created", "E0003"),
            ("t0", "bot", "status_changed", "E0002"), ("t0", "bot", "status_changed", "E0001")]
    assert latest_writes(rows, 2) == ("recB (record)", "recA (record)")
    assert latest_writes(rows, 3) == ("recB (record)", "recA (record)", "bot (status_changed)")  # no row of its own
    # its own row, where stored before the others, still names the write
    assert latest_writes([("t5", "ann", "measurement_added", "E0001"), ("t5", "ann", "record", None)], 1) \
        == ("ann (record)",)
