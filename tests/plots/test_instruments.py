"""Figures of instrument files: the traces carry the file's numbers, user text stays plain text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from doe.instruments import (
    ImpedanceSpectrum,
    fit_impedance,
    read_cycling,
    read_cycling_points,
    read_impedance,
)
from doe.plots.instruments import capacity_cycle_figure, capacity_voltage_figure, nyquist_figure

SAMPLES = Path(__file__).resolve().parents[2] / "datasets" / "instruments"
MASS_MG = 12.0


def test_capacity_voltage_shows_the_first_second_and_last_cycle() -> None:
    path = SAMPLES / "maccor_export.txt"
    points = read_cycling_points(path, active_mass_mg=MASS_MG)
    table = read_cycling(path, active_mass_mg=MASS_MG).set_index("cycle")
    fig = capacity_voltage_figure(points, title="cell <b>A</b>")
    assert [t.name for t in fig.data] == ["cycle 1", "cycle 2", "cycle 10"]
    for trace, cycle in zip(fig.data, [1, 2, 10], strict=True):
        x, y = list(trace.x), list(trace.y)
        gap = x.index(None)  # charge, a gap, then discharge: no line from the top of charge back down
        assert y[gap] is None and len(x) == 9
        assert x[gap - 1] == pytest.approx(table.loc[cycle, "charge_capacity_mah_per_g"])
        assert x[-1] == pytest.approx(table.loc[cycle, "discharge_capacity_mah_per_g"])
        assert y[:gap] == pytest.approx([3.7, 3.9, 4.1, 4.3]) and y[-1] == pytest.approx(2.8)
    assert fig.layout.xaxis.title.text == "specific capacity [mAh/g]"
    assert fig.layout.title.text == "cell &lt;b&gt;A&lt;/b&gt;"


def test_capacity_voltage_shows_the_cycles_asked_for_and_refuses_others() -> None:
    points = read_cycling_points(SAMPLES / "arbin_channel.csv")
    fig = capacity_voltage_figure(points, cycles=[5])
    assert [t.name for t in fig.data] == ["cycle 5"]
    assert fig.layout.xaxis.title.text == "capacity [mAh]"
    with pytest.raises(ValueError, match=r"cycles: \[11\] not in the file; it has cycles 1 to 10"):
        capacity_voltage_figure(points, cycles=[1, 11])


def test_capacity_cycle_shows_discharge_capacity_and_ce() -> None:
    table = read_cycling(SAMPLES / "biologic_gcpl.mpt", active_mass_mg=MASS_MG)
    fig = capacity_cycle_figure(table)
    capacity, ce = fig.data
    assert (capacity.name, ce.name) == ("discharge capacity", "CE")
    assert list(capacity.x) == list(range(1, 11))
    np.testing.assert_allclose(capacity.y, table["discharge_capacity_mah_per_g"])
    assert ce.y[0] == pytest.approx(90.0) and ce.y[1] == pytest.approx(99.7)
    assert ce.yaxis == "y2"
    running = table.copy()
    running.loc[running.index[-1], ["discharge_capacity_mah", "discharge_capacity_mah_per_g"]] = 0.0
    capacity, ce = capacity_cycle_figure(running).data  # exported mid-cycle: the last one not discharged yet
    assert np.isnan(capacity.y[-1]) and np.isnan(ce.y[-1]) and capacity.y[-2] > 0  # a gap, not a fall to 0
    partial = table.copy()
    partial.loc[partial.index[-1], "discharge_finished"] = False  # copied mid-discharge
    capacity, ce = capacity_cycle_figure(partial).data
    assert np.isnan(capacity.y[-1]) and np.isnan(ce.y[-1]) and capacity.y[-2] > 0  # not a partial capacity


def test_nyquist_draws_the_measured_points_and_the_fitted_curve_on_one_scale() -> None:
    spectrum = read_impedance(SAMPLES / "spectrum.csv")
    fit = fit_impedance(spectrum)
    fig = nyquist_figure(spectrum, fit)
    measured, curve = fig.data
    np.testing.assert_allclose(measured.x, spectrum.z_real_ohm)
    np.testing.assert_allclose(measured.y, -spectrum.z_imag_ohm)  # -Z'' up: the arcs above the axis
    assert np.median(measured.y) > 0
    np.testing.assert_allclose(curve.x, fit.fitted_impedance.real)
    np.testing.assert_allclose(curve.y, -fit.fitted_impedance.imag)
    assert curve.name == "fit: R0-p(R1,CPE1)-p(R2,CPE2)-Wo1"
    assert (fig.layout.yaxis.scaleanchor, fig.layout.yaxis.scaleratio) == ("x", 1)
    assert len(nyquist_figure(spectrum).data) == 1


def test_nyquist_shows_a_file_name_as_plain_text() -> None:
    spectrum = read_impedance(SAMPLES / "spectrum.csv")
    named = ImpedanceSpectrum(spectrum.frequency_hz, spectrum.z_real_ohm, spectrum.z_imag_ohm,
                              '<a href="x">cell</a>&.csv')
    assert nyquist_figure(named).layout.title.text == '&lt;a href="x"&gt;cell&lt;/a&gt;&amp;.csv'
