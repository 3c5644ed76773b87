"""Impedance spectra in each format, fitted to the default circuit, recover the resistances they
were written from; a poor fit is refused, never recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from doe.campaign import Campaign
from doe.instruments import InstrumentFileError, fit_impedance, impedance_outcomes, read_impedance
from doe.instruments.synthetic import SPECTRUM_PARAMETERS, impedance_spectrum, write_impedance_file

FORMATS = ["biologic_peis_mpt", "gamry_dta", "impedance_csv"]
TOLERANCE = 0.05  # relative, at 0.5 % noise on each component


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("interface_ohm", [50.0, 150.0, 450.0])
def test_the_fit_recovers_the_resistances(tmp_path: Path, file_format: str, interface_ohm: float) -> None:
    frequency, z = impedance_spectrum({"R2": interface_ohm}, seed=int(interface_ohm))
    path = write_impedance_file(tmp_path / f"cell.{file_format}", file_format, frequency, z)
    spectrum = read_impedance(path)
    np.testing.assert_allclose(spectrum.frequency_hz, frequency, rtol=1e-9)
    np.testing.assert_allclose(spectrum.impedance, z, rtol=1e-9)
    fit = fit_impedance(spectrum)
    assert not fit.poor_fit, fit.reason
    values = fit.resistances.set_index("name")
    expected = {"bulk": SPECTRUM_PARAMETERS["R0"], "grain_boundary": SPECTRUM_PARAMETERS["R1"],
                "interface": interface_ohm}
    for name, true in expected.items():
        assert values.loc[name, "value_ohm"] == pytest.approx(true, rel=TOLERANCE), name
        assert values.loc[name, "low_ohm"] < values.loc[name, "value_ohm"] < values.loc[name, "high_ohm"]


def test_a_spectrum_the_circuit_cannot_describe_is_refused(tmp_path: Path) -> None:
    frequency, z = impedance_spectrum(noise=0.3, seed=3)  # 30 % noise: no trustworthy arc
    path = write_impedance_file(tmp_path / "noisy.csv", "impedance_csv", frequency, z)
    assert fit_impedance(read_impedance(path)).poor_fit
    with pytest.raises(InstrumentFileError, match=r"noisy\.csv: poor equivalent-circuit fit"):
        impedance_outcomes(path)


@pytest.mark.parametrize(("content", "message"), [
    (b"frequency_hz,z_real_ohm,z_imag_ohm\n1000,30,-5\n", "1 frequencies; a fit needs at least 10"),
    (b"frequency_hz,z_real_ohm,z_imag_ohm\n" + b"1000,30,x\n" * 12, "not a number"),
    (b"a,b\n1,2\n", "not an impedance export"),
])
def test_bad_spectra_are_refused_with_the_file_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad_eis.csv"
    path.write_bytes(content)
    with pytest.raises(InstrumentFileError, match=rf"bad_eis\.csv: .*{message}"):
        read_impedance(path)


def test_record_files_takes_a_spectrum_as_the_interfacial_resistance(tmp_path: Path) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'eis.sqlite3'}", name="eis",
                                    actor="test")
    campaign.suggest(1)
    first = campaign.history()["experiment_id"].iloc[0]
    frequency, z = impedance_spectrum({"R2": 60.0}, seed=1)
    path = write_impedance_file(tmp_path / "cell_A_peis.mpt", "biologic_peis_mpt", frequency, z)
    preview = campaign.record_files([path], experiment_id=first, active_mass_mg=10.0, confirm=True)
    assert "bulk_resistance_ohm" in preview.skipped  # not an outcome of the template
    stored = campaign.history().set_index("experiment_id").loc[first, "interfacial_resistance_ohm"]
    assert stored == pytest.approx(60.0, rel=TOLERANCE)
