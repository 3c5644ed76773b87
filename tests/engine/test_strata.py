"""Latin hypercube strata inside linear constraints: the swap search and when it cannot succeed."""

from __future__ import annotations

import numpy as np
import pytest

from doe.engine.strata import STALL_STEPS_PER_ROW, SWAP_STEPS_PER_ROW, Cells, feasible_strata


def _sum_cells(n: int, columns: int, total: float) -> Cells:
    """``x0 + ... + x{columns-1} <= total``, each column stratified over 0 .. total."""
    return Cells(lower=np.zeros(columns), width=np.full(columns, total / n), A=np.ones((1, columns)),
                 b=np.array([total]))


class _CountingGenerator(np.random.Generator):
    """A generator that counts the swaps the search tries (one column drawn per swap)."""

    swaps = 0

    def integers(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        self.swaps += 1
        return super().integers(*args, **kwargs)  # type: ignore[call-overload]


@pytest.mark.parametrize(("n", "impossible"), [(2, False), (3, False), (4, True), (12, True), (24, True)])
def test_a_sum_no_assignment_of_strata_can_meet_is_known_before_the_search(n: int, impossible: bool) -> None:
    # a + b + c <= 0.3 over strata of 0 to 0.3: the rows' strata sum to 3 n (n - 1) / 2 whatever
    # the assignment, so some row's cell lies outside once that passes n (n > 3)
    assert _sum_cells(n, 3, 0.3).impossible(n) is impossible
    assert not _sum_cells(n, 2, 1.0).impossible(n)  # a + b <= 1: the strata's anti-diagonal fits


def test_a_search_that_cannot_succeed_stops_once_stalled_with_the_fewest_rows_outside() -> None:
    """It ran its whole budget (200 swaps per row, in each of 10 starts: seconds for a design of
    a few dozen rows) looking for an assignment that cannot exist."""
    n = 24
    cells = _sum_cells(n, 3, 0.3)
    rng = np.random.default_rng(0)
    S = np.column_stack([rng.permutation(n) for _ in range(3)])
    drawn_outside = int((cells.violation(S) > 0).sum())
    counting = _CountingGenerator(np.random.PCG64(1))
    found, outside = feasible_strata(cells, S, counting)
    assert counting.swaps < SWAP_STEPS_PER_ROW * n / 2, counting.swaps
    assert counting.swaps > STALL_STEPS_PER_ROW * n
    assert all(sorted(found[:, k]) == list(range(n)) for k in range(3))  # still a Latin hypercube's strata
    assert np.array_equal(outside, np.flatnonzero(cells.violation(found) > 0))
    assert 0 < len(outside) < drawn_outside


def test_a_search_that_can_succeed_finds_every_row_a_cell_inside() -> None:
    n = 12
    cells = _sum_cells(n, 2, 1.0)
    S = np.column_stack([np.arange(n), np.arange(n)])  # the diagonal: half the rows outside
    found, outside = feasible_strata(cells, S, np.random.default_rng(0))
    assert not len(outside) and not (cells.violation(found) > 0).any()
    assert all(sorted(found[:, k]) == list(range(n)) for k in range(2))
