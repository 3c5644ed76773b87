r"""A simulated coating lab whose best anneal depends on the powder: for the furnace benchmark only.

In :class:`doe.simulate.VirtualLab` and :class:`benchmarks.second_lab.SecondLab` the best anneal
programme is the same for every powder, or nearly (``python -m benchmarks.coupled_lab``,
:func:`best_anneal_spread`: over 200 random powders, each powder's best anneal on a 25 C x 5
times x 3 atmospheres grid is one programme in the virtual lab and one of two neighbouring
ones in the second, and one common programme loses no CE). A furnace shared by four powders
then costs nothing, and
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

from typing import Any

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


def best_anneal_spread(lab: Any, powders: int = 200, seed: int = 5) -> dict[str, float]:
    """How much each powder's best anneal differs between powders, in ``lab`` (``truth`` only).

    ``powders`` random powders (``VirtualLab.random_recipes``), each tried on a grid of anneal
    programmes (250-750 C in 25 C steps x 0.5/1/2/4/6 h x O2/air/Ar): the spread (sd) of each
    powder's best temperature, the number of distinct best programmes, and the CE lost by giving
    every powder the one programme best on average instead of its own best (median, 90th
    percentile, points).
    """
    import itertools

    from doe.simulate import VirtualLab

    grid = pd.DataFrame(list(itertools.product(np.arange(250.0, 751.0, 25.0), [0.5, 1.0, 2.0, 4.0, 6.0],
                                               ["O2", "air", "Ar"])),
                        columns=[TEMPERATURE, "anneal_time_h", "anneal_atmosphere"])
    recipes = VirtualLab.random_recipes(powders, seed=seed)
    ce = []
    for i in range(powders):
        rows = pd.DataFrame([recipes.iloc[i]] * len(grid)).reset_index(drop=True)
        rows[list(grid.columns)] = grid.to_numpy()
        rows[TEMPERATURE] = rows[TEMPERATURE].astype(float)
        rows["anneal_time_h"] = rows["anneal_time_h"].astype(float)
        ce.append(lab.truth(rows)["first_cycle_ce_pct"].to_numpy(dtype=float))
    table = np.asarray(ce)
    best = table.argmax(axis=1)
    loss = table.max(axis=1) - table[:, table.mean(axis=0).argmax()]
    return {"best_temperature_sd_c": float(grid[TEMPERATURE].to_numpy()[best].std()),
            "distinct_best_programmes": float(len(set(best.tolist()))),
            "loss_median": float(np.median(loss)), "loss_p90": float(np.percentile(loss, 90))}


if __name__ == "__main__":
    from benchmarks.second_lab import SecondLab
    from benchmarks.third_lab import ThirdLab
    from doe.simulate import VirtualLab

    print("| lab | sd of the powders' best temperature (C) | distinct best programmes | CE lost with one "
          "common programme: median / 90th percentile (points) |\n|---|---|---|---|")
    for name, lab in (("virtual", VirtualLab(0)), ("second", SecondLab(0)), ("third", ThirdLab(0)),
                      ("coupled", CoupledLab(0))):
        s = best_anneal_spread(lab)
        print(f"| {name} | {s['best_temperature_sd_c']:.1f} | {s['distinct_best_programmes']:.0f} | "
              f"{s['loss_median']:.2f} / {s['loss_p90']:.2f} |")
