"""Impedance spectra in each format, fitted to the default circuit, recover the resistances they
were written from; a poor fit is refused, never recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from doe.campaign import Campaign
from doe.instruments import (
    ImpedanceSpectrum,
    InstrumentFileError,
    fit_impedance,
    impedance_outcomes,
    read_impedance,
    results_from_files,
)
from doe.instruments.impedance import DEFAULT_CIRCUIT
from doe.instruments.synthetic import SPECTRUM_PARAMETERS, impedance_spectrum, write_impedance_file

FORMATS = ["biologic_peis_mpt", "gamry_dta", "impedance_csv"]
TOLERANCE = 0.05  # relative, at 0.5 % noise on each component


def _reads_back(path: Path, frequency: np.ndarray, z: np.ndarray) -> None:
    """The file at ``path`` reads back as the spectrum written into it."""
    spectrum = read_impedance(path)
    np.testing.assert_allclose(spectrum.frequency_hz, frequency, rtol=1e-9)
    np.testing.assert_allclose(spectrum.impedance, z, rtol=1e-9)


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
    expected = {"bulk_resistance_ohm": SPECTRUM_PARAMETERS["R0"],
                "grain_boundary_resistance_ohm": SPECTRUM_PARAMETERS["R1"], "interfacial_resistance_ohm": interface_ohm}
    for name, true in expected.items():
        assert values.loc[name, "value_ohm"] == pytest.approx(true, rel=TOLERANCE), name
        assert values.loc[name, "low_ohm"] < values.loc[name, "value_ohm"] < values.loc[name, "high_ohm"]
    # the curve the Nyquist plot draws: the fitted circuit at the measured frequencies, close to them
    np.testing.assert_allclose(fit.frequency_hz, frequency)
    assert np.abs(fit.fitted_impedance - z).max() < 0.03 * np.abs(z).max()
    assert fit.parameters["R0"] == pytest.approx(SPECTRUM_PARAMETERS["R0"], rel=TOLERANCE)


CUSTOM = "R0-p(R1,CPE1)-Wo1"
CUSTOM_PARAMETERS = {"R0": 12.0, "R1": 240.0, "CPE1_0": 2e-6, "CPE1_1": 0.88, "Wo1_0": 90.0, "Wo1_1": 5.0}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_configured_circuit_is_fitted_and_reports_the_named_resistances(tmp_path: Path, seed: int) -> None:
    frequency, z = impedance_spectrum(CUSTOM_PARAMETERS, circuit=CUSTOM, seed=seed)
    path = write_impedance_file(tmp_path / "one_arc.csv", "impedance_csv", frequency, z)
    mapping = {"interfacial_resistance_ohm": "R1", "bulk_resistance_ohm": "R0"}
    fit = fit_impedance(read_impedance(path), circuit=CUSTOM, resistances=mapping)
    assert not fit.poor_fit, fit.reason
    table = fit.resistances.set_index("name")
    assert table["parameter"].to_dict() == mapping
    for outcome, parameter in mapping.items():
        assert table.loc[outcome, "value_ohm"] == pytest.approx(CUSTOM_PARAMETERS[parameter], rel=0.10)
        assert table.loc[outcome, "low_ohm"] < table.loc[outcome, "value_ohm"] < table.loc[outcome, "high_ohm"]
    outcomes = impedance_outcomes(path, circuit=CUSTOM, resistances=mapping)
    assert set(outcomes.index) == {"interfacial_resistance_ohm", "bulk_resistance_ohm", "fit_relative_residual"}
    assert outcomes["interfacial_resistance_ohm"] == pytest.approx(240.0, rel=0.10)
    # without a mapping, another circuit reports each R element under its own name
    assert fit_impedance(read_impedance(path), circuit=CUSTOM).resistances["name"].tolist() == ["R0", "R1"]


@pytest.mark.parametrize("circuit", ["R0-p(R1,C1)", "L0-R0-p(R1,CPE1)", "R0-p(R1,CPE1)-p(R2,CPE2)",
                                     "R0-p(R1,CPE1)-Ws1", "R0-Zarc1-W1"])
def test_each_element_type_gets_a_starting_value_and_the_fit_recovers_r0(circuit: str) -> None:
    values = {"R0": 25.0, "R1": 120.0, "C1": 1e-6, "L0": 2e-6, "CPE1_0": 1e-6, "CPE1_1": 0.9, "R2": 300.0,
              "CPE2_0": 1e-4, "CPE2_1": 0.85, "Ws1_0": 60.0, "Ws1_1": 2.0, "Zarc1_0": 150.0, "Zarc1_1": 1e-4,
              "Zarc1_2": 0.9, "W1": 40.0}
    frequency, z = impedance_spectrum(values, circuit=circuit, seed=5)
    fit = fit_impedance(ImpedanceSpectrum(frequency, z.real, z.imag, "cell.csv"), circuit=circuit)
    assert not fit.poor_fit, fit.reason
    assert fit.parameters["R0"] == pytest.approx(25.0, rel=0.10)


@pytest.mark.parametrize(("circuit", "resistances", "message"), [
    ("R0-p(R1,CPE1", None, r"circuit: a p\( without its closing"),
    ("R0-Q1", None, "circuit: unknown element 'Q1'"),
    ("R0-p(R1,CPE1)-Wo1", {"interfacial_resistance_ohm": "R2"}, r"resistances: .*R2.* name no parameter"),
])
def test_a_bad_circuit_or_mapping_is_refused_before_fitting(circuit: str, resistances: dict[str, str] | None,
                                                            message: str) -> None:
    frequency, z = impedance_spectrum()
    with pytest.raises(InstrumentFileError, match=message):
        fit_impedance(ImpedanceSpectrum(frequency, z.real, z.imag, "cell.csv"), circuit=circuit,
                      resistances=resistances)


def test_a_spectrum_the_circuit_cannot_describe_is_refused(tmp_path: Path) -> None:
    frequency, z = impedance_spectrum(noise=0.3, seed=3)  # 30 % noise: no trustworthy arc
    path = write_impedance_file(tmp_path / "noisy.csv", "impedance_csv", frequency, z)
    assert fit_impedance(read_impedance(path)).poor_fit
    with pytest.raises(InstrumentFileError, match=r"noisy\.csv: poor equivalent-circuit fit"):
        impedance_outcomes(path)


def test_an_arc_the_spectrum_does_not_determine_is_refused_not_recorded(tmp_path: Path) -> None:
    """A cell with one arc (R0 30, R1 150 ohm), fitted with the default two-arc circuit: the second
    arc went to 62 kohm with a characteristic frequency of 1e-18 Hz, which no point of the
    spectrum (0.1 Hz to 1 MHz) sees. Its standard error came out as 4e-8 ohm (the covariance's
    pseudo-inverse drops a parameter the data do not determine), so 62106 ohm was recorded as
    the interface resistance with a zero-width interval; the cell's interface arc (150 ohm) was
    named the grain boundary."""
    one_arc = {"R0": 30.0, "R1": 150.0, "CPE1_0": 5e-5, "CPE1_1": 0.85, "Wo1_0": 200.0, "Wo1_1": 10.0}
    frequency, z = impedance_spectrum(one_arc, circuit="R0-p(R1,CPE1)-Wo1", seed=2)
    path = write_impedance_file(tmp_path / "one_arc.csv", "impedance_csv", frequency, z)
    fit = fit_impedance(read_impedance(path))
    assert fit.poor_fit and "interfacial_resistance_ohm not determined by the spectrum" in str(fit.reason), \
        fit.resistances
    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'eis.sqlite3'}", name="eis",
                                    actor="test")
    campaign.suggest(1)
    first = campaign.history()["experiment_id"].iloc[0]
    with pytest.raises(InstrumentFileError, match=r"one_arc\.csv: poor equivalent-circuit fit "
                                                  r"\(interfacial_resistance_ohm not determined by the spectrum"):
        campaign.record_files([path], experiment_id=first, confirm=True)
    assert campaign.measurements().empty and campaign.files().empty


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


@pytest.mark.parametrize(("row", "column"), [("inf,30,-5", "frequency_hz"), ("1000,Infinity,-5", "z_real_ohm"),
                                             ("1000,30,-1e400", "z_imag_ohm")])
def test_an_infinite_value_in_a_spectrum_is_refused_naming_the_file_line_and_column(tmp_path: Path, row: str,
                                                                                    column: str) -> None:
    """numpy's 'array must not contain infs or NaNs' came out of the fit, naming no file (found by a probe)."""
    frequency, z = impedance_spectrum({}, seed=1)
    path = write_impedance_file(tmp_path / "eis.csv", "impedance_csv", frequency, z)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], row, *lines[2:]]) + "\n")
    with pytest.raises(InstrumentFileError, match=rf"eis\.csv: line 2, column '{column}': .* is infinite or too large"):
        impedance_outcomes(path)
    spectrum = ImpedanceSpectrum(np.append(frequency, np.inf), np.append(z.real, 1.0), np.append(z.imag, -1.0),
                                 "given.csv")  # a spectrum built in Python
    with pytest.raises(InstrumentFileError, match=r"given\.csv: a frequency or impedance that is not a finite number"):
        fit_impedance(spectrum)


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


def test_results_from_files_fits_the_circuit_it_is_given(tmp_path: Path) -> None:
    from doe.instruments import results_from_files

    frequency, z = impedance_spectrum(CUSTOM_PARAMETERS, circuit=CUSTOM, seed=4)
    path = write_impedance_file(tmp_path / "cell_peis.mpt", "biologic_peis_mpt", frequency, z)
    preview = results_from_files([path], experiment_id="E0001", active_mass_mg=10.0,
                                 outcome_names=["interfacial_resistance_ohm"], circuit=CUSTOM,
                                 resistances={"interfacial_resistance_ohm": "R1", "bulk_resistance_ohm": "R0"})
    assert preview.table["interfacial_resistance_ohm"].iloc[0] == pytest.approx(240.0, rel=0.10)
    assert "bulk_resistance_ohm" in preview.skipped


def test_a_campaign_records_spectra_with_its_configured_circuit(tmp_path: Path) -> None:
    # the template's interface resistance from a one-arc circuit: the config's ``impedance``
    # section decides the fit, and the stored file keeps the circuit as the rule's input
    from doe.templates import resolve_config

    config = resolve_config("hfo2-ncm85").to_dict() | {
        "name": "one-arc", "impedance": {"circuit": CUSTOM, "resistances": {"interfacial_resistance_ohm": "R1"}}}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'arc.sqlite3'}", actor="test")
    campaign.suggest(1)
    first = campaign.history()["experiment_id"].iloc[0]
    frequency, z = impedance_spectrum(CUSTOM_PARAMETERS, circuit=CUSTOM, seed=5)
    path = write_impedance_file(tmp_path / "arc_peis.mpt", "biologic_peis_mpt", frequency, z)
    campaign.record_files([path], experiment_id=first, confirm=True)
    stored = campaign.history().set_index("experiment_id").loc[first, "interfacial_resistance_ohm"]
    assert stored == pytest.approx(CUSTOM_PARAMETERS["R1"], rel=0.10)
    assert campaign.files()["rule"].iloc[0] == {"circuit": CUSTOM, "resistances": {"interfacial_resistance_ohm": "R1"}}


def test_the_arcs_are_named_by_their_characteristic_frequency_not_their_cpe_coefficient(tmp_path: Path) -> None:
    # n = 0.8 against n = 1: the Q values have different units. The grain boundary (R 80 ohm,
    # f_c = 1 / (2 pi (R Q)^(1/n)) ~ 21 kHz) has the larger Q, the interface (400 ohm, ~ 796 Hz) the smaller
    truth = {"R0": 30.0, "R1": 80.0, "CPE1_0": 1e-6, "CPE1_1": 0.8, "R2": 400.0, "CPE2_0": 5e-7, "CPE2_1": 1.0}
    frequency, z = impedance_spectrum(truth, noise=0.002)
    path = write_impedance_file(tmp_path / "arc_swap.csv", "impedance_csv", frequency, z)
    outcomes = impedance_outcomes(path)
    assert outcomes["bulk_resistance_ohm"] == pytest.approx(30.0, rel=TOLERANCE)
    assert outcomes["grain_boundary_resistance_ohm"] == pytest.approx(80.0, rel=TOLERANCE)
    assert outcomes["interfacial_resistance_ohm"] == pytest.approx(400.0, rel=TOLERANCE)


def _first_row_line(file_format: str) -> int:
    """The index of the first data line in a file :func:`write_impedance_file` writes."""
    return {"biologic_peis_mpt": 6, "gamry_dta": 6, "impedance_csv": 1}[file_format]


@pytest.mark.parametrize("file_format", ["biologic_peis_mpt", "impedance_csv"])  # Gamry: the test below
def test_data_rows_that_end_with_a_delimiter_shift_no_column(tmp_path: Path, file_format: str) -> None:
    frequency, z = impedance_spectrum(seed=2)
    path = write_impedance_file(tmp_path / "cell.eis", file_format, frequency, z)
    lines = path.read_text(encoding="cp1252").splitlines()
    sep = "," if file_format == "impedance_csv" else "\t"
    first = _first_row_line(file_format)
    path.write_text("\n".join([*lines[:first], *(line + sep for line in lines[first:])]) + "\n", encoding="cp1252")
    _reads_back(path, frequency, z)


def test_a_gamry_row_with_an_empty_last_field_is_read(tmp_path: Path) -> None:
    frequency, z = impedance_spectrum(seed=3)
    path = write_impedance_file(tmp_path / "cell.DTA", "gamry_dta", frequency, z)
    lines = path.read_text(encoding="cp1252").splitlines()
    first = _first_row_line("gamry_dta")
    lines[first] = lines[first][:lines[first].rindex("\t") + 1]  # Zphz left empty: the row ends with a tab
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    _reads_back(path, frequency, z)


def test_a_gamry_file_without_its_table_is_refused_naming_it(tmp_path: Path) -> None:
    frequency, z = impedance_spectrum(seed=3)
    path = write_impedance_file(tmp_path / "cell.DTA", "gamry_dta", frequency, z)
    text = path.read_text(encoding="cp1252")
    path.write_text(text.replace("ZCURVE\tTABLE", "TABLE\tZCURVE"), encoding="cp1252")  # no line starts the table
    with pytest.raises(InstrumentFileError, match=r"cell\.DTA: no ZCURVE table"):  # was a bare StopIteration
        read_impedance(path)
    path.write_text(text.replace("ZCURVE\tTABLE", "  ZCURVE\tTABLE"), encoding="cp1252")  # indented: read
    _reads_back(path, frequency, z)


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_row_with_more_fields_than_the_header_is_refused_naming_its_line(tmp_path: Path, file_format: str) -> None:
    frequency, z = impedance_spectrum(seed=4)
    path = write_impedance_file(tmp_path / "cell.eis", file_format, frequency, z)
    lines = path.read_text(encoding="cp1252").splitlines()
    sep = "," if file_format == "impedance_csv" else "\t"
    third = _first_row_line(file_format) + 2
    lines[third] += f"{sep}99{sep}98"
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    with pytest.raises(InstrumentFileError, match=rf"cell\.eis: line {third + 1} has more fields than the column header"):
        read_impedance(path)


def test_a_utf16_spectrum_is_read(tmp_path: Path) -> None:
    frequency, z = impedance_spectrum(seed=5)
    path = write_impedance_file(tmp_path / "cell.csv", "impedance_csv", frequency, z)
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    np.testing.assert_allclose(read_impedance(path).impedance, z, rtol=1e-9)


def _gamry_with_decimal_commas(path: Path, frequency: np.ndarray, z: np.ndarray) -> list[str]:
    """A Gamry file as Framework writes it on a German or French Windows: the table's decimal
    points are commas (its fields are tab-separated, so a comma is only ever a decimal comma)."""
    write_impedance_file(path, "gamry_dta", frequency, z)
    lines = path.read_text(encoding="cp1252").splitlines()
    first = _first_row_line("gamry_dta")
    return [*lines[:first], *(line.replace(".", ",") for line in lines[first:])]


def test_a_gamry_file_with_decimal_commas_reads_its_values(tmp_path: Path) -> None:
    frequency, z = impedance_spectrum(seed=6)
    path = tmp_path / "cell.DTA"
    lines = _gamry_with_decimal_commas(path, frequency, z)
    assert "\t1,0000000000E+06\t" in lines[_first_row_line("gamry_dta")]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    _reads_back(path, frequency, z)


def test_a_gamry_file_mixing_decimal_commas_and_points_is_refused_naming_the_field(tmp_path: Path) -> None:
    frequency, z = impedance_spectrum(seed=6)
    path = tmp_path / "cell.DTA"
    lines = _gamry_with_decimal_commas(path, frequency, z)
    fifth = _first_row_line("gamry_dta") + 4
    fields = lines[fifth].split("\t")
    fields[4] = fields[4].replace(",", ".")  # Zreal with a point among commas: 1.5 or 1500?
    path.write_text("\r\n".join([*lines[:fifth], "\t".join(fields), *lines[fifth + 1:]]) + "\r\n", encoding="cp1252")
    with pytest.raises(InstrumentFileError, match=rf"cell\.DTA: line {fifth + 1}, column 'Zreal': .* decimal point"):
        read_impedance(path)
    # and the other way round: one decimal comma in a file of decimal points
    write_impedance_file(path, "gamry_dta", frequency, z)
    lines = path.read_text(encoding="cp1252").splitlines()
    fields = lines[fifth].split("\t")
    fields[5] = fields[5].replace(".", ",")
    path.write_text("\r\n".join([*lines[:fifth], "\t".join(fields), *lines[fifth + 1:]]) + "\r\n", encoding="cp1252")
    with pytest.raises(InstrumentFileError, match=rf"cell\.DTA: line {fifth + 1}, column 'Zimag': .* decimal point"):
        read_impedance(path)


def test_a_peis_export_with_decimal_commas_and_a_tab_separated_csv_read_their_values(tmp_path: Path) -> None:
    frequency, z = impedance_spectrum(seed=7)
    path = write_impedance_file(tmp_path / "cell.mpt", "biologic_peis_mpt", frequency, z)
    lines = path.read_text(encoding="cp1252").splitlines()
    first = _first_row_line("biologic_peis_mpt")
    path.write_text("\r\n".join([*lines[:first], *(line.replace(".", ",") for line in lines[first:])]) + "\r\n",
                    encoding="cp1252")
    _reads_back(path, frequency, z)
    path = write_impedance_file(tmp_path / "cell.csv", "impedance_csv", frequency, z)
    path.write_bytes(path.read_text(encoding="utf-8").replace(",", "\t").encode("utf-16"))  # Excel's "Unicode text"
    _reads_back(path, frequency, z)


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_file_with_two_sweeps_is_refused_naming_the_line_where_the_second_starts(tmp_path: Path,
                                                                                    file_format: str) -> None:
    """Two spectra of one cell in one file (EC-Lab's PEIS repeated, one before and one after cycling:
    interface 150 then 200 ohm) were fitted as one and recorded an interfacial resistance of 176 ohm,
    the resistance of neither, at a residual of 3 % (found by a probe)."""
    frequency, before = impedance_spectrum()
    _, after = impedance_spectrum({"R2": 200.0}, seed=1)
    path = write_impedance_file(tmp_path / f"cell.{file_format}", file_format, np.concatenate([frequency, frequency]),
                                np.concatenate([before, after]))
    first_row = {"biologic_peis_mpt": 7, "gamry_dta": 7, "impedance_csv": 2}[file_format]
    message = (rf"cell\.{file_format}: line {first_row + len(frequency)}: the frequency turns back from 0\.1 to "
               r"1e\+06 Hz, so the file holds more than one sweep")
    with pytest.raises(InstrumentFileError, match=message):
        impedance_outcomes(path)
    # each sweep alone, rising or falling, is one spectrum
    for k, (f, z) in enumerate([(frequency, before), (frequency[::-1], after[::-1])]):
        _reads_back(write_impedance_file(tmp_path / f"alone_{k}.{file_format}", file_format, f, z), f, z)


def test_a_csv_of_minus_z_imag_is_read_by_its_name_and_refused_under_the_signed_name(tmp_path: Path) -> None:
    """-Z'' (positive on the capacitive arcs, as a Nyquist plot shows it) under z_imag_ohm was fitted
    as a mirrored spectrum and refused as a poor fit; it is refused naming the column, and read
    where the column's name says -Z''."""
    frequency, z = impedance_spectrum()
    path = write_impedance_file(tmp_path / "cell.csv", "impedance_csv", frequency, z.conjugate())  # -Z'' written
    with pytest.raises(InstrumentFileError, match=r"cell\.csv: column 'z_imag_ohm': positive at 50 of 50 "
                                                  r"frequencies: -Z'' .*name the column '-z_imag_ohm'"):
        impedance_outcomes(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0].replace("z_imag_ohm", "-z_imag_ohm"), *lines[1:]]) + "\n", encoding="utf-8")
    _reads_back(path, frequency, z)
    outcomes = impedance_outcomes(path)
    assert outcomes["interfacial_resistance_ohm"] == pytest.approx(SPECTRUM_PARAMETERS["R2"], rel=TOLERANCE)
    # an EC-Lab export whose -Im(Z)/Ohm column holds Z'' with its sign is refused naming that column
    peis = write_impedance_file(tmp_path / "peis.mpt", "biologic_peis_mpt", frequency, z.conjugate())
    with pytest.raises(InstrumentFileError, match=r"peis\.mpt: column '-Im\(Z\)/Ohm': negative at 50 of 50"):
        read_impedance(peis)


INDUCTIVE_CIRCUIT = "L0-R0-p(R1,CPE1)-p(R2,CPE2)-Wo1"


def test_an_inductive_tail_at_high_frequency_is_left_out_of_the_fit_and_counted(tmp_path: Path) -> None:
    """A cable's inductance (10 uH) puts the 4 highest frequencies below the real axis (Z'' > 0);
    fitted with them, the default circuit (no inductor) was refused as a poor fit (7.9 %)."""
    frequency, z = impedance_spectrum({**SPECTRUM_PARAMETERS, "L0": 1e-5}, circuit=INDUCTIVE_CIRCUIT)
    assert np.flatnonzero(z.imag > 0).tolist() == [0, 1, 2, 3]  # the highest frequencies come first
    path = write_impedance_file(tmp_path / "cell.csv", "impedance_csv", frequency, z)
    fit = fit_impedance(read_impedance(path))
    assert fit.inductive_points_dropped == 4
    np.testing.assert_allclose(fit.frequency_hz, frequency[4:])
    outcomes = impedance_outcomes(path)
    assert outcomes["inductive_points_dropped"] == 4
    assert outcomes["fit_relative_residual"] < 0.05
    # the interface arc, far from the tail, is the cell's; the tail's neighbours bias the bulk resistance up
    assert outcomes["interfacial_resistance_ohm"] == pytest.approx(SPECTRUM_PARAMETERS["R2"], rel=TOLERANCE)
    biased = fit.resistances.set_index("name")["value_ohm"]
    assert biased["bulk_resistance_ohm"] > 1.2 * SPECTRUM_PARAMETERS["R0"]
    # so the outcomes leave the bulk and grain-boundary values out rather than record them
    assert "bulk_resistance_ohm" not in outcomes and "grain_boundary_resistance_ohm" not in outcomes
    # a circuit with an inductor fits the tail: nothing is left out, and the bulk resistance is the cell's
    with_inductor = fit_impedance(read_impedance(path), INDUCTIVE_CIRCUIT, {"bulk_resistance_ohm": "R0"})
    assert with_inductor.inductive_points_dropped == 0
    assert with_inductor.resistances["value_ohm"].iloc[0] == pytest.approx(SPECTRUM_PARAMETERS["R0"], rel=TOLERANCE)
    # the count is kept with the file's rule when the spectrum is recorded
    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'eis.sqlite3'}", name="eis",
                                    actor="test")
    campaign.suggest(1)
    first = campaign.history()["experiment_id"].iloc[0]
    campaign.record_files([path], experiment_id=first, confirm=True)
    assert campaign.files()["rule"].iloc[0] == {"circuit": DEFAULT_CIRCUIT, "inductive_points_dropped": 4}
    stored = campaign.history().set_index("experiment_id").loc[first, "interfacial_resistance_ohm"]
    assert stored == pytest.approx(SPECTRUM_PARAMETERS["R2"], rel=TOLERANCE)


def test_ec_lab_rows_of_frequency_0_are_skipped_and_another_frequency_not_positive_is_refused_by_line(
        tmp_path: Path) -> None:
    """EC-Lab writes the potential it logs during a PEIS's rest (before the sweep, between two
    techniques) as rows of freq/Hz 0 with no impedance; such a file was refused with "frequencies
    must be positive" and no line."""
    frequency, z = impedance_spectrum()
    path = write_impedance_file(tmp_path / "peis.mpt", "biologic_peis_mpt", frequency, z)
    lines = path.read_text(encoding="cp1252").splitlines()
    rest = "0.0000000000E+00\t0.0000000000E+00\t-0.0000000000E+00\t0.0000000000E+00\t0.000000"
    path.write_text("\r\n".join([*lines[:6], rest, rest, *lines[6:], rest]) + "\r\n", encoding="cp1252")
    _reads_back(path, frequency, z)
    assert impedance_outcomes(path)["interfacial_resistance_ohm"] == pytest.approx(SPECTRUM_PARAMETERS["R2"],
                                                                                  rel=TOLERANCE)
    # a negative frequency in an EC-Lab file, and 0 in a CSV (whose rows are all measurements): refused by line
    fields = lines[9].split("\t")
    path.write_text("\r\n".join([*lines[:9], "\t".join(["-" + fields[0], *fields[1:]]), *lines[10:]]) + "\r\n",
                    encoding="cp1252")
    with pytest.raises(InstrumentFileError, match=r"peis\.mpt: line 10, column 'freq/Hz': -[0-9.e+]+ Hz; a "
                                                  "spectrum's frequencies are positive"):
        read_impedance(path)
    csv = write_impedance_file(tmp_path / "cell.csv", "impedance_csv", frequency, z)
    rows = csv.read_text(encoding="utf-8").splitlines()
    csv.write_text("\n".join([*rows[:3], "0,30,-1", *rows[3:]]) + "\n", encoding="utf-8")
    with pytest.raises(InstrumentFileError, match=r"cell\.csv: line 4, column 'frequency_hz': 0 Hz"):
        read_impedance(csv)


@pytest.mark.parametrize("line_end", ["\r\n", "\r"])  # CR alone: Excel for Mac's CSV
@pytest.mark.parametrize("sep", [";", "\t"])
def test_an_impedance_csv_saved_by_a_german_excel_reads_its_values(tmp_path: Path, sep: str, line_end: str) -> None:
    frequency, z = impedance_spectrum(seed=7)
    path = write_impedance_file(tmp_path / "cell.csv", "impedance_csv", frequency, z)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_bytes((line_end.join([lines[0].replace(",", sep),
                                     *(sep.join(f.replace(".", ",") for f in line.split(",")) for line in lines[1:])])
                      + line_end).encode("cp1252"))
    _reads_back(path, frequency, z)


def test_two_spectra_side_by_side_under_one_header_are_refused_not_fitted_from_the_first(tmp_path: Path) -> None:
    """Two cells' spectra pasted side by side: pandas renamed the second copy of each column and
    the first cell's resistances were recorded for a file of two cells (found by a probe)."""
    frequency, z = impedance_spectrum(seed=1)
    _, other = impedance_spectrum({"R2": 450.0}, seed=2)
    path = tmp_path / "two_cells.csv"
    path.write_text("frequency_hz,z_real_ohm,z_imag_ohm,frequency_hz,z_real_ohm,z_imag_ohm\n" + "".join(
        f"{f:.8e},{a.real:.8e},{a.imag:.8e},{f:.8e},{b.real:.8e},{b.imag:.8e}\n"
        for f, a, b in zip(frequency, z, other, strict=True)))
    with pytest.raises(InstrumentFileError, match=r"two_cells\.csv: the column header names 'frequency_hz' twice "
                                                  r"\(columns 1 and 4\)"):
        impedance_outcomes(path)


@pytest.mark.parametrize("file_format", ["biologic_peis_mpt", "gamry_dta"])
def test_a_spectrum_whose_table_starts_past_a_long_header_is_read_and_recorded(tmp_path: Path,
                                                                              file_format: str) -> None:
    """An EC-Lab header of many settings lines (a technique of several sequences) or a Gamry
    initial-delay OCVCURVE table puts the spectrum's columns past the first 6,000 characters: the
    file was refused as "not an impedance export", and results_from_files sent it to the cycling
    reader ("missing column(s) ['cycle number', ...]") (found by a probe)."""
    frequency, z = impedance_spectrum(seed=3)
    path = write_impedance_file(tmp_path / f"cell.{file_format}", file_format, frequency, z)
    lines = path.read_text(encoding="cp1252").splitlines()
    if file_format == "biologic_peis_mpt":
        settings = [f"Setting {k:03d}".ljust(20) + "0,000".ljust(20) * 3 for k in range(120)]
        lines = [lines[0], f"Nb header lines : {6 + len(settings)}", *lines[2:4], *settings, *lines[4:]]
    else:
        ocv = ["OCVCURVE\tTABLE\t300", "\tPt\tT\tVf\tVm\tAch\tOver\tTemp", "\t#\ts\tV vs. Ref.\tV\tV\tbits\tdeg C",
               *(f"\t{k}\t{k:.6f}\t3.512345E+000\t3.512345E+000\t0.000000E+000\t...........\t25" for k in range(300))]
        lines = [*lines[:3], *ocv, *lines[3:]]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    assert len("\r\n".join(lines[:-len(frequency)])) > 6000
    _reads_back(path, frequency, z)
    preview = results_from_files([path], experiment_id="E1", active_mass_mg=None,
                                 outcome_names=["interfacial_resistance_ohm"])
    assert preview.read["format"].tolist() == [file_format]
    assert preview.table["interfacial_resistance_ohm"].iloc[0] == pytest.approx(SPECTRUM_PARAMETERS["R2"],
                                                                                rel=TOLERANCE)
