"""What the Record page shows of each instrument file: the figures and the resistances table."""

from __future__ import annotations

from pathlib import Path

import pytest

from doe.instruments.synthetic import impedance_spectrum, write_impedance_file
from doe.ui.file_plots import file_plots

SAMPLES = Path(__file__).resolve().parents[2] / "datasets" / "instruments"


def test_a_cycling_file_gets_its_voltage_curves_and_capacity_per_cycle() -> None:
    plots = file_plots(SAMPLES / "biologic_gcpl.mpt", active_mass_mg=12.0, title="cell A")
    curves, per_cycle = plots.figures
    assert [t.name for t in curves.data] == ["cycle 1", "cycle 2", "cycle 10"]
    assert [t.name for t in per_cycle.data] == ["discharge capacity", "CE"]
    assert plots.resistances is None and plots.notes == ()


def test_neware_cycle_sheet_gets_capacity_per_cycle_and_says_why_there_is_no_curve() -> None:
    plots = file_plots(SAMPLES / "neware_cycles.csv", active_mass_mg=12.0)
    assert [t.name for t in plots.figures[0].data] == ["discharge capacity", "CE"]
    assert len(plots.figures) == 1
    assert "export the record sheet" in plots.notes[0]


def test_a_spectrum_gets_its_nyquist_plot_and_resistances_with_intervals() -> None:
    plots = file_plots(SAMPLES / "biologic_peis.mpt")
    (nyquist,) = plots.figures
    assert [t.name for t in nyquist.data] == ["measured", "fit: R0-p(R1,CPE1)-p(R2,CPE2)-Wo1"]
    assert plots.resistances is not None
    table = plots.resistances.set_index("outcome")
    assert list(table.index) == ["bulk_resistance_ohm", "grain_boundary_resistance_ohm", "interfacial_resistance_ohm"]
    assert table.loc["interfacial_resistance_ohm", "value [ohm]"] == pytest.approx(150.0, rel=0.05)
    assert (table["95 % low [ohm]"] < table["value [ohm]"]).all()


def test_the_campaign_circuit_is_the_one_fitted_and_a_bad_one_is_said(tmp_path: Path) -> None:
    circuit = "R0-p(R1,CPE1)-Wo1"
    frequency, z = impedance_spectrum({"R0": 12.0, "R1": 240.0, "CPE1_0": 2e-6, "CPE1_1": 0.88, "Wo1_0": 90.0,
                                       "Wo1_1": 5.0}, circuit=circuit)
    path = write_impedance_file(tmp_path / "one_arc.csv", "impedance_csv", frequency, z)
    plots = file_plots(path, circuit=circuit, resistances={"interfacial_resistance_ohm": "R1"})
    assert plots.figures[0].data[1].name == f"fit: {circuit}"
    assert plots.resistances is not None
    assert plots.resistances["circuit parameter"].tolist() == ["R1"]
    bad = file_plots(path, circuit="R0-p(R1")
    assert len(bad.figures[0].data) == 1 and bad.resistances is None
    assert bad.notes[0].startswith("circuit: ")


def test_a_spectrum_with_an_inductive_tail_says_how_many_points_the_fit_left_out(tmp_path: Path) -> None:
    from doe.instruments.synthetic import SPECTRUM_PARAMETERS

    frequency, z = impedance_spectrum({**SPECTRUM_PARAMETERS, "L0": 1e-5}, circuit="L0-R0-p(R1,CPE1)-p(R2,CPE2)-Wo1")
    plots = file_plots(write_impedance_file(tmp_path / "tail.csv", "impedance_csv", frequency, z))
    assert plots.notes == ("4 high-frequency points with Z'' > 0 (cable inductance) left out of the fit",)
    assert plots.resistances is not None
