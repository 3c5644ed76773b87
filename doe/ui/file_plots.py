"""What the Record page shows of one instrument file: its figures and, for a spectrum, the
fitted resistances (no Streamlit here; the page renders what this returns)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from doe.instruments import (
    InstrumentFileError,
    fit_impedance,
    read_cycling,
    read_cycling_points,
    read_impedance,
)
from doe.instruments.cycling import read_text
from doe.instruments.impedance import DEFAULT_CIRCUIT, detect_impedance_format
from doe.plots.instruments import capacity_cycle_figure, capacity_voltage_figure, nyquist_figure

RESISTANCE_COLUMNS = {"name": "outcome", "parameter": "circuit parameter", "value_ohm": "value [ohm]",
                      "low_ohm": "95 % low [ohm]", "high_ohm": "95 % high [ohm]"}


@dataclass(frozen=True)
class FilePlots:
    """The plots of one file.

    Attributes:
        figures: a cycling file: voltage against capacity (when the file has a voltage curve)
            and capacity and CE per cycle; a spectrum: its Nyquist plot with the fitted curve.
        resistances: a spectrum's reported resistances with 95 % intervals (None for cycling).
        notes: what could not be drawn or trusted, and why (e.g. a poor fit), as plain text.
    """

    figures: tuple[go.Figure, ...]
    resistances: pd.DataFrame | None
    notes: tuple[str, ...]


def file_plots(path: str | Path, *, active_mass_mg: float | None = None, title: str | None = None,
               circuit: str | None = None, resistances: Mapping[str, str] | None = None) -> FilePlots:
    """The figures of a cycling file or an impedance spectrum (the formats of :mod:`doe.instruments`).

    Args:
        path: the file.
        active_mass_mg: the cell's active mass (capacities per gram).
        title: the name to show on the figures (e.g. the uploaded file's name; plain text).
        circuit, resistances: the campaign's equivalent circuit and the resistances it reports
            (default: :data:`doe.instruments.impedance.DEFAULT_CIRCUIT` and its resistances).

    Raises:
        InstrumentFileError: the file cannot be read at all.
    """
    path = Path(path)
    if detect_impedance_format(path, read_text(path)) is not None:
        spectrum = read_impedance(path)
        try:
            fit = fit_impedance(spectrum, circuit or DEFAULT_CIRCUIT, resistances)
        except InstrumentFileError as err:
            return FilePlots((nyquist_figure(spectrum),), None, (str(err),))
        table = fit.resistances.rename(columns=RESISTANCE_COLUMNS)[list(RESISTANCE_COLUMNS.values())]
        fit_notes: tuple[str, ...] = (f"poor fit: {fit.reason}; not recorded",) if fit.poor_fit else ()
        if fit.inductive_points_dropped:
            fit_notes += (f"{fit.inductive_points_dropped} high-frequency points with Z'' > 0 (cable inductance) left out "
                      "of the fit",)
        return FilePlots((nyquist_figure(spectrum, fit),), table, fit_notes)
    per_cycle = read_cycling(path, active_mass_mg=active_mass_mg)
    figures = [capacity_cycle_figure(per_cycle, title=title)]
    notes: tuple[str, ...] = ()
    try:
        points = read_cycling_points(path, active_mass_mg=active_mass_mg)
    except InstrumentFileError as err:
        notes = (f"no voltage curve: {err}",)
    else:
        figures.insert(0, capacity_voltage_figure(points, title=title))
    return FilePlots(tuple(figures), None, notes)


__all__ = ["FilePlots", "file_plots"]
