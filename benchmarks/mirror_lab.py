"""The mirror lab: a TUNING problem for furnace batches whose best anneal lies far from the reference.

The virtual lab (:class:`doe.simulate.VirtualLab`, a tuning problem) seen through a mirror in
every parameter (:func:`mirrored`, first written for the needle lab, which floors this lab's
CE: :mod:`benchmarks.needle_lab`) and nothing else::

    x_seen = lower + upper - x        (every continuous parameter, e.g. 3 - L wt%, 1000 - T C)
    t_seen = 3 h^2 / t                (the anneal time, on its log scale: 0.5 h <-> 6 h)
    B_seen = 120 C - B                (the evaporation bath, 40 C <-> 80 C)
    solvent: chloroform -> toluene -> hexane -> chloroform; atmosphere: O2 -> air -> Ar -> O2

Its CE is not floored, so the response is as smooth as the virtual lab's. Its best
recipe is the mirror image of the virtual lab's: the anneal near 1000 - 419 = 581 C,
3 / 6 = 0.5 h and Ar (the virtual lab's O2), where the template's reference programme is
400 C, 2 h, O2 (seen as 600 C, 1.5 h and air). Written on 2026-12-04 for round 12 of
``benchmarks/README.md``, after the test labs' furnace results were seen.
"""

from __future__ import annotations

import pandas as pd

from doe.domain.parameters import ContinuousParameter
from doe.simulate.virtual_lab import TEMPLATE
from doe.templates import resolve_config

_ROTATE = {"dispersion_solvent": {"chloroform": "toluene", "toluene": "hexane", "hexane": "chloroform"},
           "anneal_atmosphere": {"O2": "air", "air": "Ar", "Ar": "O2"}}


def mirrored(recipes: pd.DataFrame) -> pd.DataFrame:
    """The recipes the virtual lab sees (module docstring)."""
    config = resolve_config(TEMPLATE)
    out = recipes.copy()
    for p in config.parameters:
        name = p.name
        if name in _ROTATE:
            out[name] = recipes[name].astype(str).map(_ROTATE[name])
        elif name == "anneal_time_h":
            out[name] = 3.0 / recipes[name].to_numpy(dtype=float)
        elif name == "evaporation_bath_temperature_c":
            out[name] = 120.0 - recipes[name].to_numpy(dtype=float)
        elif isinstance(p, ContinuousParameter):
            low, high = p.bounds
            out[name] = low + high - recipes[name].to_numpy(dtype=float)
        else:
            raise ValueError(f"the needle lab has no mirror for {name!r}")
    return out




class MirrorLab:
    """:meth:`run` and :meth:`truth` of :class:`doe.simulate.VirtualLab` on mirrored recipes.

    Args:
        seed: seed of the underlying virtual lab (same seed and calls: same results).
    """

    def __init__(self, seed: int) -> None:
        from doe.simulate import VirtualLab

        self.lab = VirtualLab(seed)
        self.config = self.lab.config

    def truth(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Expected outcomes and failure probability, one row per recipe."""
        return self.lab.truth(mirrored(recipes))

    def run(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Noisy measurements (or a failed run), one row per recipe, of the mirrored recipes."""
        return self.lab.run(mirrored(recipes))
