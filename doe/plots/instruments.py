"""Plotly figures of instrument files: voltage curves, capacity per cycle, Nyquist plots.

They take the tables and objects :mod:`doe.instruments` returns (read there; nothing is read or
fitted here): :func:`doe.instruments.read_cycling_points`, :func:`doe.instruments.read_cycling`,
an impedance spectrum and its circuit fit, seen through the small protocols below. File names
and circuit strings are user text: they reach titles and legends through :func:`text` only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from doe.plots.figures import FRONT_COLOR, MEASURED_COLOR, text

CHARGE_DASH = "dot"


class Spectrum(Protocol):
    """An impedance spectrum (:class:`doe.instruments.ImpedanceSpectrum`)."""

    @property
    def z_real_ohm(self) -> np.ndarray: ...
    @property
    def z_imag_ohm(self) -> np.ndarray: ...
    @property
    def frequency_hz(self) -> np.ndarray: ...
    @property
    def source(self) -> str: ...


class CircuitFit(Protocol):
    """A circuit fit (:class:`doe.instruments.ImpedanceFit`): the fitted impedance at the measured frequencies."""

    @property
    def fitted_impedance(self) -> np.ndarray: ...
    @property
    def circuit(self) -> str: ...


def default_cycles(cycles: Iterable[int]) -> list[int]:
    """The first, second and last of ``cycles`` (fewer when there are fewer), in order."""
    present = sorted({int(c) for c in cycles})
    return sorted({c for c in (present[:2] + present[-1:])})


def capacity_voltage_figure(points: pd.DataFrame, cycles: Iterable[int] | None = None, *,
                            title: str | None = None) -> go.Figure:
    """Voltage against capacity, one trace per shown cycle (its charge then its discharge).

    Args:
        points: :func:`doe.instruments.read_cycling_points` rows (``cycle``, ``half``,
            ``voltage_v``, ``capacity_mah`` and, with a mass, ``capacity_mah_per_g``, used
            when present).
        cycles: the cycles to show (default: the first, second and last).
        title: e.g. the file name (plain text).

    Returns:
        One ``go.Scatter`` per cycle named ``cycle <n>``: x the capacity, y the voltage, the
        charge's points then a gap (None) then the discharge's.

    Raises:
        ValueError: a requested cycle is not in ``points`` (naming ``cycles``).
    """
    shown = default_cycles(points["cycle"]) if cycles is None else [int(c) for c in cycles]
    missing = sorted(set(shown) - set(points["cycle"].astype(int)))
    if missing:
        raise ValueError(f"cycles: {missing} not in the file; it has cycles {int(points['cycle'].min())} "
                         f"to {int(points['cycle'].max())}")
    per_gram = "capacity_mah_per_g" in points.columns
    column = "capacity_mah_per_g" if per_gram else "capacity_mah"
    fig = go.Figure()
    for k, cycle in enumerate(shown):
        rows = points[points["cycle"] == cycle]
        charge, discharge = rows[rows["half"] == "charge"], rows[rows["half"] == "discharge"]
        x = [*charge[column].astype(float), None, *discharge[column].astype(float)]
        y = [*charge["voltage_v"].astype(float), None, *discharge["voltage_v"].astype(float)]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"cycle {cycle}", connectgaps=False,
                                 line={"width": 2}, opacity=1.0 if k == 0 else 0.85,
                                 hovertemplate=f"cycle {cycle}: %{{x:.4g}}, %{{y:.4g}} V<extra></extra>"))
    fig.update_layout(title=text(title) if title else None, height=380, margin={"l": 50, "r": 20, "t": 40, "b": 40},
                      legend={"title": {"text": "cycle"}})
    fig.update_xaxes(title_text="specific capacity [mAh/g]" if per_gram else "capacity [mAh]")
    fig.update_yaxes(title_text="voltage [V]")
    return fig


def capacity_cycle_figure(per_cycle: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Discharge capacity and Coulombic efficiency per cycle.

    Args:
        per_cycle: :func:`doe.instruments.read_cycling` rows (``cycle``,
            ``charge_capacity_mah``, ``discharge_capacity_mah`` and, with a mass,
            ``discharge_capacity_mah_per_g``, used when present).
        title: e.g. the file name (plain text).

    Returns:
        Two traces over ``cycle``: ``discharge capacity`` (left axis) and ``CE`` = discharge /
        charge x 100 % (right axis; NaN for a cycle without a charge). A cycle without a
        discharge, or whose discharge is unfinished (``discharge_finished`` False: the last
        one of a test exported while it runs), has neither, not 0 or a partial capacity.
    """
    per_gram = "discharge_capacity_mah_per_g" in per_cycle.columns
    discharged = per_cycle["discharge_capacity_mah"].astype(float) > 0
    if "discharge_finished" in per_cycle.columns:
        discharged &= per_cycle["discharge_finished"].astype(bool)
    capacity = per_cycle["discharge_capacity_mah_per_g" if per_gram else "discharge_capacity_mah"].astype(float)
    capacity = capacity.where(discharged)
    charge = per_cycle["charge_capacity_mah"].astype(float)
    ce = (100.0 * per_cycle["discharge_capacity_mah"].astype(float).where(discharged)
          / charge.where(charge > 0)).to_numpy()
    cycle = per_cycle["cycle"].astype(int).to_numpy()
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=cycle, y=capacity.to_numpy(), mode="lines+markers", name="discharge capacity",
                             marker={"color": MEASURED_COLOR},
                             hovertemplate="cycle %{x}: %{y:.4g}<extra></extra>"), secondary_y=False)
    fig.add_trace(go.Scatter(x=cycle, y=ce, mode="lines+markers", name="CE", line={"dash": CHARGE_DASH},
                             marker={"color": FRONT_COLOR}, hovertemplate="cycle %{x}: %{y:.4g} %<extra></extra>"),
                  secondary_y=True)
    fig.update_layout(title=text(title) if title else None, height=380, margin={"l": 50, "r": 50, "t": 40, "b": 40})
    fig.update_xaxes(title_text="cycle")
    fig.update_yaxes(title_text="discharge capacity [mAh/g]" if per_gram else "discharge capacity [mAh]",
                     secondary_y=False)
    fig.update_yaxes(title_text="Coulombic efficiency [%]", secondary_y=True)
    return fig


def nyquist_figure(spectrum: Spectrum, fit: CircuitFit | None = None) -> go.Figure:
    """The Nyquist plot: -Z'' up against Z', on one scale, the measured points and the fit.

    Args:
        spectrum: the measured spectrum.
        fit: its circuit fit (the fitted impedance at the measured frequencies); None: points only.

    Returns:
        ``measured`` (markers) and, with a fit, ``fit: <circuit>`` (a line); the y axis is
        anchored to x at ratio 1, so a semicircle looks like one.
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=np.asarray(spectrum.z_real_ohm, dtype=float), y=-np.asarray(spectrum.z_imag_ohm, dtype=float),
        mode="markers", name="measured", marker={"color": MEASURED_COLOR, "size": 7},
        customdata=np.asarray(spectrum.frequency_hz, dtype=float),
        hovertemplate="%{customdata:.4g} Hz: Z' %{x:.4g}, -Z'' %{y:.4g} ohm<extra></extra>"))
    if fit is not None:
        fitted = np.asarray(fit.fitted_impedance, dtype=complex)
        fig.add_trace(go.Scatter(x=fitted.real, y=-fitted.imag, mode="lines", name=text(f"fit: {fit.circuit}"),
                                 line={"color": FRONT_COLOR, "width": 2},
                                 hovertemplate="fit: Z' %{x:.4g}, -Z'' %{y:.4g} ohm<extra></extra>"))
    fig.update_layout(title=text(spectrum.source), height=420, margin={"l": 50, "r": 20, "t": 40, "b": 40})
    fig.update_xaxes(title_text="Z' [ohm]")
    fig.update_yaxes(title_text="-Z'' [ohm]", scaleanchor="x", scaleratio=1)
    return fig


__all__ = ["CircuitFit", "Spectrum", "capacity_cycle_figure", "capacity_voltage_figure", "default_cycles",
           "nyquist_figure"]
