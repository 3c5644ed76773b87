"""The active cathode mass (mg) each cell's values were computed with, in the cells file.

A value computed from a stored cycling file (:meth:`doe.Campaign.record_files`) used the mass in
that file's rule; the cells file (``doe export --cells``, the History page) carries it in an
``active_mass_mg`` column beside the cell's values, empty for a cell without a cycling file, so
a file kept for audit says which mass each capacity per gram was computed with. Read back
(:meth:`doe.Campaign.record`), the column records nothing: a mass is that of the cell's stored
file, changed only by recording the file again with the new mass as a correction, so a mass other
than the stored one, or one for a cell without a stored cycling file, is refused, naming the cell,
rather than left out without a word (pure functions).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from doe.domain.table import ID_COLUMN, clean_label, parse_number
from doe.domain.values import is_blank, is_missing, is_real_number, label_key, same_measurement
from doe.errors import CellProblem

MASS_COLUMN = "active_mass_mg"
"""The cells file's column of each cell's active cathode mass (mg), as ``doe files`` names it."""


def mass_column_free(names: Iterable[str]) -> bool:
    """Whether ``MASS_COLUMN`` is none of ``names`` (the campaign's parameters and outcomes,
    dropped ones included): else the column is that parameter's or outcome's, and the cells
    file goes without the masses."""
    return MASS_COLUMN not in set(map(str, names))


def rule_mass(rule: object) -> float | None:
    """The active mass (mg) in a stored file's ``rule`` (:meth:`doe.Campaign.files`), or None
    where the rule gives none (a spectrum's, a value typed in)."""
    mass = rule.get(MASS_COLUMN) if isinstance(rule, dict) else None
    if isinstance(mass, bool) or not isinstance(mass, int | float) or is_missing(mass):
        return None
    return float(mass)


def with_masses(measurements: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """``measurements`` (:meth:`doe.Campaign.measurements`) with ``MASS_COLUMN``: the active mass
    (mg) in the rule of the stored cycling file (:meth:`doe.Campaign.files`) each value came from
    (its ``file_sha256``), NaN for a value typed in or computed from a spectrum."""
    masses: dict[str, float] = {}
    for sha, kind, rule in zip(files.get("sha256", []), files.get("kind", []), files.get("rule", []), strict=True):
        if kind == "cycling" and (mass := rule_mass(rule)) is not None:
            masses[str(sha)] = mass
    shas = measurements["file_sha256"] if "file_sha256" in measurements.columns else pd.Series(
        None, index=measurements.index, dtype=object)
    return measurements.assign(**{MASS_COLUMN: pd.Series(
        [masses.get(str(sha), float("nan")) if isinstance(sha, str) else float("nan") for sha in shas],
        index=measurements.index, dtype=float)})


def _cell(exp_id: object, label: object) -> tuple[str, str]:
    """A cell as ids and labels are compared (``a`` and ``A`` one label; no label: "")."""
    text = "" if is_blank(label) else clean_label(label)
    return label_key(clean_label(exp_id)), label_key(text)


def mass_problems(table: pd.DataFrame, measurements: pd.DataFrame) -> list[CellProblem]:
    """The problems of ``MASS_COLUMN`` in ``table`` read back into a campaign whose current values
    are ``measurements`` (:func:`with_masses`): a cell that is not a number, or that is not the
    mass of its cell's stored cycling file (the cell has none in this campaign, or another)."""
    stored: dict[tuple[str, str], set[float]] = {}
    if MASS_COLUMN in measurements.columns and len(measurements):
        for exp_id, label, mass in zip(measurements[ID_COLUMN], measurements["replicate"],
                                       measurements[MASS_COLUMN], strict=True):
            if not is_missing(mass):
                stored.setdefault(_cell(exp_id, label), set()).add(float(mass))
    ids = table[ID_COLUMN].tolist() if ID_COLUMN in table.columns else [None] * len(table)
    labels = table["replicate"].tolist() if "replicate" in table.columns else [None] * len(table)
    problems = []
    for row, (exp_id, label, typed) in enumerate(zip(ids, labels, table[MASS_COLUMN].tolist(), strict=True)):
        if is_blank(typed):
            continue
        mass = parse_number(typed) if isinstance(typed, str) else typed if is_real_number(typed) else None
        cell = "cell" if is_blank(label) else f"cell {clean_label(label)!r}"
        owner = f"{cell} of {clean_label(exp_id)}" if not is_blank(exp_id) else f"{cell} (no experiment_id)"
        known = sorted(stored.get(_cell(exp_id, label), ())) if not is_blank(exp_id) else []
        if mass is None or is_missing(mass):
            problems.append(CellProblem(row, MASS_COLUMN, typed, f"the active mass (mg) of {owner} is not a number; "
                                        "it is the mass its stored cycling file was recorded with: put that back "
                                        "or clear the cell"))
        elif not known:
            problems.append(CellProblem(row, MASS_COLUMN, typed, f"{owner} has no stored cycling file in this "
                                        "campaign, so no active mass is kept for it (this column records nothing): "
                                        "record the cell's cycling file with its mass (doe record-files, or the "
                                        "Record page's cycler files), or clear the cell"))
        elif not any(same_measurement(float(mass), m) for m in known):
            was = " or ".join(f"{m:g}" for m in known)
            problems.append(CellProblem(row, MASS_COLUMN, typed, f"{owner}: its cycling file was recorded with "
                                        f"{was} mg and its capacities computed with that mass; this column records "
                                        "nothing, so a new mass is given by recording the file again with it as a "
                                        "correction (doe record-files --correct --active-mass-mg LABEL=MG, or the "
                                        f"Record page's cycler files with 'Correct the stored values'): put back "
                                        f"{was} or clear the cell"))
    return problems


__all__ = ["MASS_COLUMN", "mass_column_free", "mass_problems", "rule_mass", "with_masses"]
