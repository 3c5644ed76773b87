"""Cycler files to campaign results: the rows :meth:`doe.campaign.Campaign.record` takes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from doe.instruments.cycling import cycling_outcomes, detect_format, read_text
from doe.instruments.impedance import detect_impedance_format, impedance_outcomes


@dataclass(frozen=True)
class FilePreview:
    """What a set of cycler files says about one experiment, before anything is recorded.

    Attributes:
        table: the rows to record: ``experiment_id``, ``replicate`` (the file name, one cell
            per file, when there are several files) and every outcome the campaign has.
        read: one row per file: ``file``, ``format`` and every value computed from it.
        skipped: computed values the campaign has no outcome for, or that no file reaches
            (a retention at a cycle the cells have not reached yet): not recorded.
    """

    table: pd.DataFrame
    read: pd.DataFrame
    skipped: tuple[str, ...]


def results_from_files(paths: Iterable[str | Path], *, experiment_id: str, active_mass_mg: float,
                       outcome_names: Iterable[str], reference_cycle: int = 1) -> FilePreview:
    """Compute the outcomes of each file (a cycling export: :func:`doe.instruments.cycling_outcomes`;
    an impedance spectrum: :func:`doe.instruments.impedance_outcomes`) and lay them out as
    results of ``experiment_id``, one replicate cell per file."""
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("paths: give at least one cycler file")
    names = list(outcome_names)
    read = []
    for path in files:
        eis = detect_impedance_format(path, read_text(path))
        if eis is not None:
            read.append({"file": path.name, "format": eis, **impedance_outcomes(path).to_dict()})
            continue
        values = cycling_outcomes(path, active_mass_mg=active_mass_mg, reference_cycle=reference_cycle)
        read.append({"file": path.name, "format": detect_format(path), **values.to_dict()})
    read_table = pd.DataFrame(read)
    computed = [c for c in read_table.columns
                if c not in ("file", "format", "last_cycle", "retention_at_last_cycle_pct", "fit_relative_residual")]
    kept = [c for c in computed if c in names and read_table[c].notna().any()]
    table = read_table[kept].copy()
    table.insert(0, "experiment_id", str(experiment_id))
    if len(files) > 1:
        table.insert(1, "replicate", [p.stem for p in files])
    return FilePreview(table=table, read=read_table, skipped=tuple(c for c in computed if c not in kept))


__all__ = ["FilePreview", "results_from_files"]
