r"""The needle lab: a TUNING problem whose best recipes are a small island on a flat response.

Built from the virtual lab (:class:`doe.simulate.VirtualLab`, itself a tuning problem) and
nothing else, for round 8 of ``benchmarks/README.md``: the virtual lab seen through a mirror
in every parameter (:func:`benchmarks.mirror_lab.mirrored`, where the mirror is written out),
so that its optimum lies far from the template's reference recipe, with the expected
first-cycle CE floored at :data:`FLOOR_CE_PCT`::

    CE_expected = max(CE_virtual(seen), 89.0 %)

Over 100,000 uniform random recipes 1.6 % lie above the floor (:func:`share_above_floor`); the reference recipe (0.83 wt%,
400 C, 2 h, O2, chloroform, ...) lies on it. Noise and failures are the virtual lab's (of the
mirrored recipe), and the other outcomes are the virtual lab's, unfloored. Written on
2026-12-04 after the second lab's results were seen (see the README's round 8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.mirror_lab import MirrorLab, mirrored

FLOOR_CE_PCT = 89.0
"""Expected first-cycle CE below which every recipe reads the same (%)."""
CE = "first_cycle_ce_pct"


class NeedleLab(MirrorLab):
    """:meth:`run` and :meth:`truth` as :class:`doe.simulate.VirtualLab`, on the mirrored and
    floored response of the module docstring (the mirror lab, :class:`benchmarks.mirror_lab.MirrorLab`,
    with its CE floored).

    Args:
        seed: seed of the underlying virtual lab (same seed and calls: same results).
    """

    def truth(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Expected outcomes, one row per recipe (CE floored)."""
        out = super().truth(recipes)
        out[CE] = np.maximum(out[CE].to_numpy(dtype=float), FLOOR_CE_PCT)
        return out

    def run(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Noisy measurements (or a failed run), one row per recipe: the floored expected CE plus
        the virtual lab's measurement noise of that run."""
        seen = mirrored(recipes)
        measured = self.lab.run(seen)
        expected = self.lab.truth(seen)[CE].to_numpy(dtype=float)
        noise = measured[CE].to_numpy(dtype=float) - expected
        measured[CE] = np.maximum(expected, FLOOR_CE_PCT) + noise
        return measured

    def optimum_ce(self, n_samples: int = 50_000) -> float:
        """The best expected CE: the virtual lab's polished optimum (the mirror is one to one)."""
        return float(self.lab.optimum(n_samples=n_samples)[1][CE].iloc[0])


def share_above_floor(n_samples: int = 100_000, seed: int = 1) -> float:
    """Share of uniform random recipes whose expected CE lies above the floor."""
    from doe.simulate import VirtualLab

    recipes = VirtualLab.random_recipes(n_samples, seed=seed)
    return float((NeedleLab(0).lab.truth(mirrored(recipes))[CE].to_numpy() > FLOOR_CE_PCT).mean())


if __name__ == "__main__":
    print(f"share of 100,000 random recipes above the floor: {share_above_floor():.4f}")
