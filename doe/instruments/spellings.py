"""The spellings of a column that cycler exports write, by software version, with the factor to
doe's unit (mAh for a capacity, mA for a current, V for a voltage).

Only spellings that real exports carry, as the reference readers take them: Arbin's MITS Pro 8
(and the Battery Archive and Sandia sets exported from it) writes a space before the unit
(``Charge_Capacity (Ah)``, ``Current (A)``, ``Voltage (V)``; celljar reads these), older
MITS Pro none (``Charge_Capacity(Ah)``); Neware's BTSDA writes capacities and currents in the
unit the user chose for the sheet, mAh and mA or Ah and A (``Chg. Cap.(Ah)``, ``Current(A)``, as
in cellpy's Neware reader).
"""

from __future__ import annotations

from collections.abc import Collection

Spelling = tuple[str, float]
"""A column's name in the file and the factor from the file's unit to doe's."""

NEWARE_CHARGE: tuple[Spelling, ...] = (("Chg. Cap.(mAh)", 1.0), ("Chg. Cap.(Ah)", 1000.0))
NEWARE_DISCHARGE: tuple[Spelling, ...] = (("DChg. Cap.(mAh)", 1.0), ("DChg. Cap.(Ah)", 1000.0))
NEWARE_CURRENT: tuple[Spelling, ...] = (("Current(mA)", 1.0), ("Current(A)", 1000.0))
ARBIN_CHARGE: tuple[Spelling, ...] = (("Charge_Capacity(Ah)", 1000.0), ("Charge_Capacity (Ah)", 1000.0))
ARBIN_DISCHARGE: tuple[Spelling, ...] = (("Discharge_Capacity(Ah)", 1000.0), ("Discharge_Capacity (Ah)", 1000.0))
ARBIN_CURRENT: tuple[Spelling, ...] = (("Current(A)", 1000.0), ("Current (A)", 1000.0))
ARBIN_VOLTAGE: tuple[Spelling, ...] = (("Voltage(V)", 1.0), ("Voltage (V)", 1.0))
CAPACITY_SPELLINGS = frozenset(name for spellings in (NEWARE_CHARGE, NEWARE_DISCHARGE, ARBIN_CHARGE, ARBIN_DISCHARGE)
                               for name, _ in spellings)
"""Every capacity column of Neware's and Arbin's spellings: counters from 0 up."""


def spelled(columns: Collection[str], spellings: tuple[Spelling, ...]) -> Spelling:
    """The first of ``spellings`` among ``columns`` (a file's column names); the first spelling
    where the file has none, so that a missing column is named as the current firmware writes it."""
    return next((s for s in spellings if s[0] in columns), spellings[0])


def has_any(header: str, spellings: tuple[Spelling, ...]) -> bool:
    """Whether a column header line holds one of ``spellings``."""
    return any(name in header for name, _ in spellings)


__all__ = ["ARBIN_CHARGE", "ARBIN_CURRENT", "ARBIN_DISCHARGE", "ARBIN_VOLTAGE", "CAPACITY_SPELLINGS", "NEWARE_CHARGE",
           "NEWARE_CURRENT", "NEWARE_DISCHARGE", "Spelling", "has_any", "spelled"]
