"""Variants of the virtual lab: other coatings and cathodes on the same recipe space.

A :class:`LabVariant` changes what a recipe does, not what can be made: the same nine
parameters and bounds as the ``hfo2-ncm85`` template, so a campaign on a variant can learn
from a campaign on the default lab (issue 16, item 5). The default lab (``variant=None``) is
unchanged.

Each variant maps a recipe to the default lab's physics at an *effective* recipe, then shifts
the outcomes:

* ``loading_factor``: the coating acts like ``factor`` times its loading (a ZrO2 shell is
  denser per wt% than HfO2 is not: a factor below 1 moves the best loading up);
* ``temperature_shift_c``: the anneal acts like one ``shift`` degrees hotter (a cathode that
  degrades earlier, e.g. Ni-richer NCM90: positive) or colder;
* ``ce_offset_pct`` / ``retention_offset_pct``: added to the first-cycle CE and retention;
* ``mirrored``: every continuous parameter is read mirrored within its bounds
  (``lo + hi - x``): an unrelated lab whose best recipes lie where the default lab's worst are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from doe.domain.config import CampaignConfig
from doe.domain.parameters import ContinuousParameter


@dataclass(frozen=True)
class LabVariant:
    """How a variant lab differs from the default (see the module docstring)."""

    name: str
    loading_factor: float = 1.0
    temperature_shift_c: float = 0.0
    ce_offset_pct: float = 0.0
    retention_offset_pct: float = 0.0
    mirrored: bool = False

    PRESETS: ClassVar[tuple[str, ...]] = ("zro2", "ncm90", "mirrored")

    @classmethod
    def preset(cls, name: str) -> LabVariant:
        """``"zro2"`` (a ZrO2-like coating: best loading and anneal shifted), ``"ncm90"`` (an
        NCM90-like cathode: lower CE, degrades at lower anneal temperatures) or ``"mirrored"``
        (an unrelated response)."""
        if name == "zro2":
            return cls("zro2", loading_factor=0.6, temperature_shift_c=-40.0, ce_offset_pct=-0.5)
        if name == "ncm90":
            return cls("ncm90", temperature_shift_c=45.0, ce_offset_pct=-2.5, retention_offset_pct=-6.0)
        if name == "mirrored":
            return cls("mirrored", mirrored=True)
        raise ValueError(f"lab variant {name!r}: choose one of {list(cls.PRESETS)}")

    def effective(self, arrays: dict[str, np.ndarray], config: CampaignConfig) -> dict[str, np.ndarray]:
        """The recipe arrays as the default lab's physics sees them."""
        out: dict[str, Any] = dict(arrays)
        if self.mirrored:
            for p in config.parameters:
                if isinstance(p, ContinuousParameter):
                    out[p.name] = p.lower + p.upper - np.asarray(out[p.name], dtype=float)
        out["hfo2_loading_wt_pct"] = np.asarray(out["hfo2_loading_wt_pct"], dtype=float) * self.loading_factor
        out["anneal_temperature_c"] = np.asarray(out["anneal_temperature_c"], dtype=float) + self.temperature_shift_c
        return out

    def adjust(self, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Outcome offsets (CE and retention kept within 0-100 %)."""
        out = dict(values)
        out["first_cycle_ce_pct"] = np.clip(values["first_cycle_ce_pct"] + self.ce_offset_pct, 0.0, 100.0)
        out["capacity_retention_pct"] = np.clip(values["capacity_retention_pct"] + self.retention_offset_pct,
                                                0.0, 100.0)
        return out
