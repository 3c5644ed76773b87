"""The shell of the simulated test labs written as formulas (:mod:`benchmarks.second_lab`,
:mod:`benchmarks.third_lab`): validation, noise and failures as in :class:`doe.simulate.VirtualLab`.

A lab gives its noise-free outcomes as a function of the validated recipes
(:meth:`FormulaLab.outcomes`), the reason a failed run failed, and optionally how measured
values are kept in range (:meth:`FormulaLab.bounded`); this class does the rest.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd

from doe.domain import validate_experiments
from doe.domain.table import ID_COLUMN
from doe.simulate.virtual_lab import NOISE_SD, OUTCOMES, TEMPLATE
from doe.templates import resolve_config


class FormulaLab(ABC):
    """:meth:`run` and :meth:`truth` as :class:`doe.simulate.VirtualLab`, from :meth:`outcomes`.

    Args:
        seed: seed of the numpy random generator (same seed and calls: same results).
    """

    failure_reason: str = "the run failed"
    """``failure_reason`` of a failed run."""

    def __init__(self, seed: int) -> None:
        self.config = resolve_config(TEMPLATE)
        self._rng = np.random.default_rng(seed)

    @staticmethod
    @abstractmethod
    def outcomes(recipes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Noise-free outcomes (every name of ``OUTCOMES``) and ``failure_probability`` of validated recipes."""

    @staticmethod
    def bounded(measured: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Measured values kept in their physical range (here: unchanged)."""
        return measured

    def _arrays(self, recipes: pd.DataFrame) -> tuple[dict[str, np.ndarray], Any]:
        names = self.config.parameter_names
        extra = tuple(str(c) for c in recipes.columns if str(c) not in names and str(c) != ID_COLUMN)
        clean = validate_experiments(recipes, self.config, outcomes_allowed=False, ignore_columns=extra)
        return {n: clean[n].to_numpy() for n in names}, recipes.index

    def truth(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Expected outcomes and failure probability, one row per recipe (same index)."""
        arrays, index = self._arrays(recipes)
        values = self.outcomes(arrays)
        return pd.DataFrame({k: values[k] for k in [*OUTCOMES, "failure_probability"]}, index=index)

    def run(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Noisy measurements (or a failed run: every outcome NaN), one row per recipe: the
        virtual lab's noise (:data:`NOISE_SD`; log-normal for the interfacial resistance)."""
        arrays, index = self._arrays(recipes)
        values = self.outcomes(arrays)
        n = len(index)
        z = self._rng.standard_normal((n, len(OUTCOMES)))
        failed = self._rng.random(n) < values["failure_probability"]
        out: dict[str, np.ndarray] = {}
        for j, name in enumerate(OUTCOMES):
            if name == "interfacial_resistance_ohm":
                out[name] = values[name] * np.exp(NOISE_SD[name] * z[:, j])
            else:
                out[name] = values[name] + NOISE_SD[name] * z[:, j]
        out = self.bounded(out, values)
        frame = pd.DataFrame({name: np.where(failed, np.nan, out[name]) for name in OUTCOMES}, index=index)
        frame["failed"] = failed
        frame["failure_reason"] = pd.Series([self.failure_reason if f else None for f in failed],
                                            index=index, dtype=object)
        return frame

    def optimum_ce(self, n_samples: int = 200_000, seed: int = 0) -> float:
        """Best expected CE of ``n_samples`` uniform random recipes (a lower estimate)."""
        from doe.simulate import VirtualLab

        recipes = VirtualLab.random_recipes(n_samples, seed=seed)
        values = self.outcomes({c: recipes[c].to_numpy() for c in recipes.columns})
        return float(np.max(values["first_cycle_ce_pct"]))
