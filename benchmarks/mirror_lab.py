"""The mirror lab: a TUNING problem for furnace batches whose best anneal lies far from the reference.

The virtual lab (:class:`doe.simulate.VirtualLab`, a tuning problem) seen through the needle
lab's mirror (:func:`benchmarks.needle_lab.mirrored`) and nothing else: unlike the needle
lab, its CE is not floored, so the response is as smooth as the virtual lab's. Its best
recipe is the mirror image of the virtual lab's: the anneal near 1000 - 419 = 581 C,
3 / 6 = 0.5 h and Ar (the virtual lab's O2), where the template's reference programme is
400 C, 2 h, O2 (seen as 600 C, 1.5 h and air). Written on 2026-12-04 for round 12 of
``benchmarks/README.md``, after the test labs' furnace results were seen.
"""

from __future__ import annotations

import pandas as pd

from benchmarks.needle_lab import mirrored


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
