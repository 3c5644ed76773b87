"""Fitted GP hyperparameters kept with a campaign, so that a fresh process warm-starts its fits.

A :class:`ModelState` is derived data: the ``theta`` vector (log lengthscales, log noise,
constant, ...) that one outcome's GP reached on the campaign's data at some revision, with a
``signature`` of everything that makes two such vectors comparable (encoding, kernel, prior).
The engine writes states after a fit and reads them when it has no fit of its own in memory
(:mod:`doe.engine.warm`); the store keeps the latest state per outcome
(:meth:`doe.storage.sql.SqlStore.model_memory`). Losing one costs a slower fit, never a result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ModelState:
    """One outcome's fitted GP hyperparameters.

    Attributes:
        outcome: the outcome's name.
        signature: hex digest of what makes hyperparameters comparable (see
            :func:`doe.engine.warm.state_signature`); a state with another one is ignored.
        theta: the GP's ``theta_`` (model units), finite numbers.
        n_rows: measurements the fit used.
        data_revision: the campaign's revision whose data were fitted (-1: not known).
        fitted_at: when the fit was stored (None before it is stored).
    """

    outcome: str
    signature: str
    theta: tuple[float, ...]
    n_rows: int
    data_revision: int = -1
    fitted_at: datetime | None = None

    @property
    def finite(self) -> bool:
        """Every entry of ``theta`` is a finite number (and there is at least one)."""
        return bool(self.theta) and all(isinstance(v, float) and math.isfinite(v) for v in self.theta)


class ModelStateMemory(Protocol):
    """Where a campaign's model states live between processes (a store, bound to one campaign).

    Neither method raises: a state that cannot be read or written is skipped (logged), since
    it only saves time.
    """

    def load(self) -> Sequence[ModelState]:
        """The stored states (at most one per outcome); empty when none or unreadable."""
        ...

    def save(self, states: Sequence[ModelState]) -> None:
        """Replace the stored states of these outcomes, outside the campaign's revision and audit."""
        ...


__all__ = ["ModelState", "ModelStateMemory"]
