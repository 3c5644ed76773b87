r"""A simulated coating lab whose best anneal depends on the powder: for the furnace benchmark only.

In :class:`doe.simulate.VirtualLab` and :class:`benchmarks.second_lab.SecondLab` the best anneal
programme is the same for every powder (measured in ``results/furnace.md``: over 200 random
powders, each powder's best anneal on a 25 C x 5 times x 3 atmospheres grid is one and the
same programme in both labs). A furnace shared by four powders then costs nothing, and
choosing the furnace programme together with the powders (``batch_shared``) has nothing to
gain over copying the first powder's programme. This lab couples them: a powder with more
HfO2 or more ligand needs a hotter anneal to burn the ligand off and densify the shell. It
is the virtual lab (same outcomes, noise and failures) seen through a shifted temperature::

    T_seen = T - 110 (L - 0.83) - 90 (r - 0.3)       [C], clipped to 250-750 C

with ``L`` the HfO2 loading (wt%) and ``r`` the ligand-to-nanoparticle mass ratio, so a
powder's best temperature moves by 110 C per wt% and 90 C per unit of ligand ratio.

Written on 2026-12-04 after the virtual lab's furnace results; no engine setting is chosen
on it (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LOADING = "hfo2_loading_wt_pct"
LIGAND = "ligand_to_np_mass_ratio"
TEMPERATURE = "anneal_temperature_c"


def seen_temperature(recipes: pd.DataFrame) -> np.ndarray:
    """The anneal temperature each powder responds to (C)."""
    shift = 110.0 * (recipes[LOADING].to_numpy(dtype=float) - 0.83) + 90.0 * (recipes[LIGAND].to_numpy(dtype=float) - 0.3)
    return np.clip(recipes[TEMPERATURE].to_numpy(dtype=float) - shift, 250.0, 750.0)


class CoupledLab:
    """:meth:`run` and :meth:`truth` as :class:`doe.simulate.VirtualLab`, with the powder-dependent
    anneal temperature of the module docstring.

    Args:
        seed: seed of the underlying virtual lab (same seed and calls: same results).
    """

    def __init__(self, seed: int) -> None:
        from doe.simulate import VirtualLab

        self.lab = VirtualLab(seed)

    @staticmethod
    def _seen(recipes: pd.DataFrame) -> pd.DataFrame:
        out = recipes.copy()
        out[TEMPERATURE] = seen_temperature(recipes)
        return out

    def truth(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Expected outcomes, one row per recipe."""
        return self.lab.truth(self._seen(recipes))

    def run(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Noisy measurements (or a failed run), one row per recipe."""
        return self.lab.run(self._seen(recipes))
