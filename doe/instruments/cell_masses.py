"""The active cathode mass of each cell of a call (mg): one number for every cell, or each
cell's own by its label, as :func:`doe.instruments.results.results_from_files` takes it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from doe.domain.table import replicate_label
from doe.domain.values import label_key
from doe.instruments.cycling import is_positive_number
from doe.instruments.tables import InstrumentFileError

ActiveMasses = float | Mapping[str, float] | None
"""Active cathode mass (mg): one number for every cell, or each cell's by its label."""


def masses_of_files(active_mass_mg: ActiveMasses, files: list[Path], labels: list[str],
                 kinds: Sequence[str]) -> list[float | None]:
    """Each file's active mass (mg): ``active_mass_mg`` itself, or its cell's by label (``a`` and
    ``A`` one label, as the labels are compared); every cell of a cycling file needs one, and every
    label of the mapping must be a cell of these files."""
    if not isinstance(active_mass_mg, Mapping):
        return [active_mass_mg] * len(files)
    given: dict[str, tuple[str, object]] = {}
    problems = []
    for raw, mass in active_mass_mg.items():
        label = replicate_label(raw) if isinstance(raw, str) else ""
        if not is_positive_number(mass):
            problems.append(f"cell {raw!r}: {mass!r} is not a positive number of milligrams")
        elif label_key(label) in given:
            problems.append(f"cell {raw!r} is given twice (also as {given[label_key(label)][0]!r})")
        given[label_key(label)] = (str(raw), mass)
    cells = {label_key(label) for label in labels}
    problems += [f"cell {raw!r} is not a cell of these files (their cells: {', '.join(dict.fromkeys(labels))})"
                 for key, (raw, _) in given.items() if key not in cells]
    masses: list[float | None] = []
    for path, label, file_kind in zip(files, labels, kinds, strict=True):
        cell_mass = given.get(label_key(label), (None, None))[1]
        if cell_mass is None and file_kind == "cycling":
            problems.append(f"cell {label!r}: no mass given ({path.name} is a cycling file)")
        masses.append(None if cell_mass is None else float(cell_mass))  # type: ignore[arg-type]
    if problems:
        raise InstrumentFileError("active_mass_mg (active cathode mass per cell, mg): " + "; ".join(problems)
                                  + ": give each cell's mass once, by its label; nothing was recorded")
    return masses


def masses_by_cell(cells: Sequence[tuple[str, str]], common_mg: float | None,
                   per_cell_mg: Mapping[str, float | None]) -> ActiveMasses:
    """The masses to record ``cells`` (label and kind, :func:`doe.instruments.results.file_cells`)
    with: each cycling cell's own from ``per_cell_mg`` (by label, as labels are compared), else
    ``common_mg``; ``common_mg`` itself where no cell has a mass of its own. A cell with neither
    is left out, so the call names it."""
    own = {label_key(replicate_label(label)): mass for label, mass in per_cell_mg.items()
           if mass is not None and not (isinstance(mass, float) and math.isnan(mass))}
    cycling = dict.fromkeys(label for label, kind in cells if kind == "cycling")
    if not any(label_key(label) in own for label in cycling):
        return common_mg
    masses = {label: own.get(label_key(label), common_mg) for label in cycling}
    return {label: mass for label, mass in masses.items() if mass is not None}


def cells_without_mass(cells: Sequence[tuple[str, str]], common_mg: float | None,
                       per_cell_mg: Mapping[str, float | None]) -> list[str]:
    """The cycling cells of ``cells`` (label and kind, :func:`doe.instruments.results.file_cells`)
    that neither ``per_cell_mg`` (by label, as labels are compared) nor ``common_mg`` gives a
    mass, in file order, each once: :func:`masses_by_cell` leaves them out and recording them is
    refused, so a page names them and lists them to be given their masses."""
    if common_mg is not None:
        return []
    own = {label_key(replicate_label(label)) for label, mass in per_cell_mg.items()
           if mass is not None and not (isinstance(mass, float) and math.isnan(mass))}
    return list(dict.fromkeys(label for label, kind in cells if kind == "cycling" and label_key(label) not in own))


__all__ = ["ActiveMasses", "cells_without_mass", "masses_by_cell", "masses_of_files"]
