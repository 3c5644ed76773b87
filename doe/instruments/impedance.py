"""Impedance spectra: read them, fit an equivalent circuit (impedance.py), report resistances.

Formats:

- ``biologic_peis_mpt``: EC-Lab PEIS "Export as text": the ``EC-Lab ASCII FILE`` header with
  ``Nb header lines``, then tab-separated ``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``;
- ``gamry_dta``: Gamry Framework ``.DTA``: a ``ZCURVE TABLE`` block (wherever it starts: an
  initial delay's ``OCVCURVE`` table may come first) whose column line holds
  ``Freq``, ``Zreal`` and ``Zimag``, a line of units, then one tab-indented row per point;
- ``impedance_csv``: a plain CSV with ``frequency_hz``, ``z_real_ohm`` and ``z_imag_ohm``
  (the imaginary part with its sign: negative for a capacitive cell), or ``-z_imag_ohm`` in its
  place (-Z'', positive for a capacitive cell, as EC-Lab's ``-Im(Z)/Ohm``).

The capacitive arcs of a cell's spectrum have Z'' < 0: a file whose imaginary part, read as the
column's name says, is positive at more than half of its frequencies has the other sign
convention in that column (-Z'' under ``z_imag_ohm``, or Z'' under ``-Im(Z)/Ohm``) and is
refused naming the column, rather than fitted as an inductive cell.

A row of an EC-Lab PEIS export whose frequency is 0 is skipped: EC-Lab writes the potential it
logs during the technique's rest and wait periods as such rows, which hold no impedance; a
frequency of 0 or below elsewhere is refused, naming its line.

A file holds one sweep: a file whose frequency turns back (two sweeps, as EC-Lab writes a
repeated PEIS) is refused, naming the line where the next one starts.

Any circuit of impedance.py's elements can be fitted (``circuit=``; starting values per element
type from the spectrum, :func:`initial_guess`), reporting the parameters named in
``resistances`` (outcome name -> parameter, e.g. ``{"interfacial_resistance_ohm": "R2"}``).
The default circuit follows the usual model of a solid-state cathode half cell: a bulk
(electrolyte) resistance in series with two R||CPE arcs and a finite-length Warburg element
(``R0-p(R1,CPE1)-p(R2,CPE2)-Wo1`` in impedance.py's notation). The arc with the higher
characteristic frequency f_c = 1 / (2 pi (R Q)^(1/n)) (R its resistance, Q and n its CPE's
coefficient and exponent) is the grain-boundary arc, the other the cathode/electrolyte
interface. Each resistance is reported with a 95 % interval (value +- 1.96 standard errors
of the least-squares fit). Points at the high-frequency end with Z'' > 0 (the inductance of the
cables, a tail below the real axis of the Nyquist plot) are left out of the fit of a circuit with
no inductor (``L``, ``La``), as impedance.py's ``preprocessing.ignoreBelowX`` does, and counted
(``ImpedanceFit.inductive_points_dropped``, and ``inductive_points_dropped`` in the outcomes and
the file's recorded rule); the points next to the tail still carry some inductance, so where the
tail is long a circuit with a series inductor (``L0-R0-...``) fits the bulk resistance better. A
fit whose mean relative residual is over
:data:`POOR_FIT_RESIDUAL`, or with a reported resistance uncertain by more than half its
value, is flagged as poor and is not recorded; a resistance the spectrum does not determine (changed
by half, the fitted impedance moves by less than two standard deviations of the fit's scatter: an
arc far outside the measured frequencies) is uncertain whatever its interval (:func:`_undetermined`).
"""

from __future__ import annotations

import collections
import io
import itertools
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from doe.domain.circuits import ELEMENT_PARAMETERS, circuit_parameters, element_type
from doe.instruments.tables import (
    InstrumentFileError,
    decimal_separator,
    delimited_table,
    instrument_table,
    numeric_columns,
    read_text,
)

ImpedanceFormat = Literal["biologic_peis_mpt", "gamry_dta", "impedance_csv"]
CSV_IMAGINARY_COLUMNS = {"z_imag_ohm": "im", "-z_imag_ohm": "minus_im"}
"""The imaginary-part columns of an impedance CSV: Z'' with its sign, or -Z''."""
DEFAULT_CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-Wo1"
POOR_FIT_RESIDUAL = 0.05
"""Mean relative residual |Z - Z_fit| / |Z| above which a fit is poor."""


@dataclass(frozen=True)
class ImpedanceSpectrum:
    """One spectrum: frequency (Hz) and the complex impedance (ohm), as arrays of one length."""

    frequency_hz: np.ndarray
    z_real_ohm: np.ndarray
    z_imag_ohm: np.ndarray
    source: str

    @property
    def impedance(self) -> np.ndarray:
        return self.z_real_ohm + 1j * self.z_imag_ohm


@dataclass(frozen=True)
class ImpedanceFit:
    """Fitted resistances (ohm) with 95 % intervals, whether the fit can be trusted, and the
    fitted circuit's impedance at the measured frequencies (for the Nyquist plot)."""

    resistances: pd.DataFrame
    """One row per reported resistance: ``name`` (the outcome), ``parameter`` (in the circuit),
    ``value_ohm``, ``low_ohm``, ``high_ohm``."""
    relative_residual: float
    poor_fit: bool
    reason: str | None
    circuit: str
    frequency_hz: np.ndarray
    fitted_impedance: np.ndarray
    """Complex impedance (ohm) of the fitted circuit at ``frequency_hz``."""
    parameters: dict[str, float]
    """Every fitted parameter of the circuit, by impedance.py's name (``R0``, ``CPE1_0``, ...)."""
    inductive_points_dropped: int = 0
    """Points at the high-frequency end with Z'' > 0 left out of the fit (:func:`inductive_tail`);
    ``frequency_hz`` and ``fitted_impedance`` are those of the points fitted."""


def _ec_lab_columns(text: str) -> str:
    """The column line of an EC-Lab text export (the last of its ``Nb header lines``), or its
    first 6,000 characters where the header does not say how many lines it has."""
    match = re.search(r"Nb header lines\s*:\s*(\d+)", text[:4000])
    if match is None:
        return text[:6000]
    lines = itertools.islice(io.StringIO(text), int(match.group(1)))
    return next(iter(collections.deque(lines, maxlen=1)), "")


_GAMRY_TABLE = re.compile(r"^[ \t]*ZCURVE\b[^\n]*\n[^\n]*\bZreal\b", re.MULTILINE)
"""A Gamry ``ZCURVE`` table's first line and its column line (wherever it starts: an initial
delay's ``OCVCURVE`` table may come first)."""


def detect_impedance_format(path: Path, text: str) -> ImpedanceFormat | None:
    """The impedance format of a file's text, or None when it is not an impedance export. The
    column line is looked for where the format puts it, however long the header above it (the
    settings of an EC-Lab technique of several sequences, a Gamry initial-delay table)."""
    head = text[:6000]
    if head.startswith("EC-Lab ASCII FILE") and "freq/Hz" in _ec_lab_columns(text):
        return "biologic_peis_mpt"
    if ("ZCURVE" in head and "Zreal" in head) or _GAMRY_TABLE.search(text.replace("\r\n", "\n")):
        return "gamry_dta"
    first = {c.strip() for c in re.split(r"[,;\t]", head.splitlines()[0] if head else "")}
    if {"frequency_hz", "z_real_ohm"} <= first and first & set(CSV_IMAGINARY_COLUMNS):
        return "impedance_csv"
    return None


def read_impedance(path: str | Path) -> ImpedanceSpectrum:
    """Read an impedance spectrum (see the module docstring for the formats)."""
    path = Path(path)
    text = read_text(path)
    kind = detect_impedance_format(path, text)
    if kind is None:
        raise InstrumentFileError(f"{path.name}: not an impedance export doe reads (BioLogic PEIS .mpt text, "
                                  "Gamry .DTA or a CSV with frequency_hz, z_real_ohm, z_imag_ohm)")
    if kind == "biologic_peis_mpt":
        match = re.search(r"Nb header lines\s*:\s*(\d+)", text[:4000])
        skip = int(match.group(1)) - 1 if match else 0
        lines = text.splitlines()
        frame = instrument_table(path, "\n".join(lines[skip:]), line_offset=skip, sep="\t",
                                 decimal=decimal_separator("\n".join(lines[skip + 1:])))
        columns = {"freq/Hz": "f", "Re(Z)/Ohm": "re", "-Im(Z)/Ohm": "minus_im"}
    elif kind == "gamry_dta":
        lines = text.splitlines()
        start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ZCURVE")), None)
        if start is None or len(lines) < start + 3:
            raise InstrumentFileError(f"{path.name}: no ZCURVE table (its column names, units and rows); "
                                      "export the spectrum again from Gamry Framework")
        end = next((i for i in range(start + 3, len(lines)) if not lines[i].startswith("\t")), len(lines))
        # the column names, a line of units (left out: start + 2 lines above the first row), then the rows;
        # Framework writes the decimal separator of Windows' locale (a comma in French or German)
        frame = instrument_table(path, "\n".join([lines[start + 1], *lines[start + 3:end]]), line_offset=start + 2,
                                 sep="\t", decimal=decimal_separator("\n".join(lines[start + 3:end])))
        columns = {"Freq": "f", "Zreal": "re", "Zimag": "im"}
    else:
        frame = delimited_table(path, text)
        imaginary = next(c for c in CSV_IMAGINARY_COLUMNS if c in frame.columns)
        columns = {"frequency_hz": "f", "z_real_ohm": "re", imaginary: CSV_IMAGINARY_COLUMNS[imaginary]}
    data = numeric_columns(frame, path, columns)
    if kind == "biologic_peis_mpt":  # EC-Lab logs its rest and wait periods as rows of freq 0: no measurement
        data = data[data["f"] != 0]
    _refuse_frequencies_not_positive(path, data["f"], next(c for c, new in columns.items() if new == "f"))
    imag = -data["minus_im"] if "minus_im" in data else data["im"]
    _refuse_other_sign(path, imag, next(c for c, new in columns.items() if new in ("im", "minus_im")))
    if len(data) < 10:
        raise InstrumentFileError(f"{path.name}: {len(data)} frequencies; a fit needs at least 10")
    _refuse_second_sweep(path, data["f"])
    return ImpedanceSpectrum(data["f"].to_numpy(float), data["re"].to_numpy(float), imag.to_numpy(float), path.name)


def _refuse_frequencies_not_positive(path: Path, frequency_hz: pd.Series, column: str) -> None:
    """Refuse a frequency that is 0 or negative (``frequency_hz`` indexed by line), naming its line."""
    bad = np.flatnonzero(frequency_hz.to_numpy(dtype=float) <= 0)
    if len(bad):
        k = int(bad[0])
        raise InstrumentFileError(f"{path.name}: line {frequency_hz.index[k]}, column {column!r}: "
                                  f"{frequency_hz.iloc[k]:g} Hz; a spectrum's frequencies are positive (check the file "
                                  "or export the spectrum again)")


def _refuse_other_sign(path: Path, imag: pd.Series, column: str) -> None:
    """Refuse a spectrum whose imaginary part Z'' (``imag``, read from ``column`` by its name) is
    positive at more than half its frequencies: a cell's capacitive arcs have Z'' < 0 (only a
    cable's inductance at the highest frequencies makes it positive), so the column holds the other
    sign convention, and a fit would be of a spectrum mirrored about the real axis."""
    positive = int((imag > 0).sum())
    if positive <= len(imag) / 2:
        return
    if column.startswith("-"):  # EC-Lab's -Im(Z)/Ohm, a CSV's -z_imag_ohm
        found, fix = (f"negative at {positive} of {len(imag)} frequencies: Z'' with its sign, not the -Z'' its name "
                      "says", f"export the spectrum again with -Z'' under {column!r}")
    else:
        found, fix = (f"positive at {positive} of {len(imag)} frequencies: -Z'' (the sign a Nyquist plot shows), not "
                      "Z'' with its sign", f"name the column '-{column}' where it holds -Z'', or write Z'' with its "
                      f"sign (negative on the arcs) under {column!r}")
    raise InstrumentFileError(f"{path.name}: column {column!r}: {found}; a cell's capacitive arcs have Z'' < 0, and "
                              f"doe does not guess the sign convention: {fix}")


INDUCTIVE_ELEMENTS = frozenset({"L", "La"})
"""impedance.py's inductors: a circuit with one fits the inductive tail, so none of it is dropped."""


def inductive_tail(spectrum: ImpedanceSpectrum) -> int:
    """How many points, from the highest frequency down, have Z'' > 0 (a cable's inductance)."""
    order = np.argsort(-spectrum.frequency_hz, kind="stable")
    above = spectrum.z_imag_ohm[order] > 0
    return int(np.argmin(above)) if not above.all() else len(above)


def _without_inductive_tail(spectrum: ImpedanceSpectrum, circuit: str) -> tuple[ImpedanceSpectrum, int]:
    """``spectrum`` less its :func:`inductive_tail` where ``circuit`` has no inductor, and how many points that is."""
    if any(element_type(e) in INDUCTIVE_ELEMENTS for e, _ in _element_depths(circuit)):
        return spectrum, 0
    tail = inductive_tail(spectrum)
    if not tail:
        return spectrum, 0
    keep = np.ones(len(spectrum.frequency_hz), dtype=bool)
    keep[np.argsort(-spectrum.frequency_hz, kind="stable")[:tail]] = False
    if keep.sum() < 10:
        raise InstrumentFileError(f"{spectrum.source}: {int(keep.sum())} frequencies once the {tail} at the "
                                  "high-frequency end with Z'' > 0 (inductance) are left out; a fit needs at least 10")
    return ImpedanceSpectrum(spectrum.frequency_hz[keep], spectrum.z_real_ohm[keep], spectrum.z_imag_ohm[keep],
                             spectrum.source), tail


def _refuse_second_sweep(path: Path, frequency_hz: pd.Series) -> None:
    """Refuse a file whose frequencies turn back (from falling to rising, or the reverse): two or
    more sweeps in one file (EC-Lab's PEIS repeated, a spectrum after each cycle), which one fit
    would average into the resistances of none of them. ``frequency_hz`` is indexed by line."""
    steps = np.sign(np.diff(frequency_hz.to_numpy(dtype=float)))
    moving = steps[steps != 0]  # a frequency measured twice in a row turns nothing
    turns = np.flatnonzero(steps == -moving[0]) if moving.size else np.zeros(0, dtype=int)
    if len(turns):
        k = int(turns[0]) + 1
        raise InstrumentFileError(
            f"{path.name}: line {frequency_hz.index[k]}: the frequency turns back from {frequency_hz.iloc[k - 1]:g} "
            f"to {frequency_hz.iloc[k]:g} Hz, so the file holds more than one sweep (a repeated PEIS, a spectrum after "
            "each cycle?); one fit of them all would give the resistances of none: export each spectrum as its own "
            "file")


_RESISTIVE = {"R": (0,), "W": (0,), "Wo": (0,), "Ws": (0,), "G": (0,), "Gs": (0,), "K": (0,), "Zarc": (0,),
              "TLMQ": (0,), "T": (0, 1)}
"""Which parameters of each element type are resistances (ohm): their guesses share the arcs' width."""
_EXPONENTS = {"CPE": (1,), "Zarc": (2,), "Gs": (2,), "TLMQ": (2,)}
_DIFFUSION = {"Wo": (1,), "Ws": (1,), "T": (3,)}
"""Time constants (s) of diffusion elements: guessed at the lowest measured frequency."""
_RELAXATION = {"C": (0,), "CPE": (0,), "TLMQ": (1,), "G": (1,), "Gs": (1,), "K": (1,), "Zarc": (1,)}
"""Capacitances (F, or a CPE coefficient) and time constants of arcs: spread over the spectrum."""


def _element_depths(circuit: str) -> list[tuple[str, int]]:
    """Each element with how many p(...) it sits inside (0: in series with the whole cell)."""
    depth, out = 0, []
    for token in re.findall(r"p\(|\)|[A-Za-z]+[0-9]+", circuit):
        if token == "p(":
            depth += 1
        elif token == ")":
            depth -= 1
        else:
            out.append((token, depth))
    return out


def initial_guess(spectrum: ImpedanceSpectrum, circuit: str) -> list[float]:
    """Starting values for each parameter of ``circuit`` (impedance.py's order), per element type,
    from the spectrum: a resistance in series with the whole cell at the high-frequency intercept
    of Z'; the other resistances share the width of the spectrum along Z'; the capacitances and
    arc time constants at characteristic frequencies spread evenly (on a log scale) from the
    highest to the lowest measured frequency, in the order of the circuit; CPE and similar
    exponents 0.9; diffusion time constants 1 / the lowest frequency; inductances 1 uH."""
    elements = [(e, element_type(e), d) for e, d in _element_depths(circuit)]
    z_real = spectrum.z_real_ohm
    intercept = max(float(np.min(z_real)), 1e-3)
    span = max(float(np.max(z_real)) - float(np.min(z_real)), 1e-3)
    series = [e for e, kind, depth in elements if kind == "R" and depth == 0]
    resistive = sum(len(_RESISTIVE.get(kind, ())) for e, kind, _ in elements if e not in series)
    arc_ohm = span / max(resistive, 1)
    relaxing = sum(len(_RELAXATION.get(kind, ())) for _, kind, _ in elements)
    log_high, log_low = np.log10(np.max(spectrum.frequency_hz)), np.log10(np.min(spectrum.frequency_hz))
    frequencies = iter(10 ** np.linspace(log_high, log_low, relaxing + 2)[1:-1])
    guess: list[float] = []
    for element, kind, _ in elements:
        for k in range(ELEMENT_PARAMETERS[kind]):
            if element in series:
                guess.append(intercept / len(series))
            elif k in _RESISTIVE.get(kind, ()):
                guess.append(arc_ohm)
            elif k in _EXPONENTS.get(kind, ()) or kind == "La":
                guess.append(0.9 if kind != "La" or k == 1 else 1e-6)
            elif k in _DIFFUSION.get(kind, ()):
                guess.append(1.0 / float(np.min(spectrum.frequency_hz)))
            elif k in _RELAXATION.get(kind, ()):
                omega = 2 * np.pi * float(next(frequencies))
                guess.append(1.0 / (omega * arc_ohm) if kind in ("C", "CPE", "TLMQ") else 1.0 / omega)
            else:  # L
                guess.append(1e-6)
    return guess


def _resistance_names(circuit: str, resistances: Mapping[str, str] | None, parameters: list[str],
                      values: np.ndarray) -> dict[str, str]:
    """Outcome name -> circuit parameter to report (see :func:`fit_impedance`)."""
    if resistances is not None:
        unknown = {o: p for o, p in resistances.items() if p not in parameters}
        if unknown:
            raise InstrumentFileError(f"resistances: {unknown} name no parameter of the circuit {circuit!r}; "
                                      f"its parameters: {parameters}")
        return dict(resistances)
    if circuit.replace(" ", "") == DEFAULT_CIRCUIT:
        index = {n: i for i, n in enumerate(parameters)}
        r, q, n = (values[[index[name.format(k)] for k in (1, 2)]] for name in ("R{}", "CPE{}_0", "CPE{}_1"))
        # by the time constant (R Q)^(1/n) = 1 / (2 pi f_c): Q alone has units that depend on n
        with np.errstate(invalid="ignore"):  # a negative R or Q has none (NaN, sorted last)
            grain_boundary, interface = np.argsort((r * q) ** (1 / n)) + 1
        return {"bulk_resistance_ohm": "R0", "grain_boundary_resistance_ohm": f"R{grain_boundary}",
                "interfacial_resistance_ohm": f"R{interface}"}
    return {p: p for p in parameters if re.fullmatch(r"R[0-9]+", p)}


def fit_impedance(spectrum: ImpedanceSpectrum, circuit: str = DEFAULT_CIRCUIT,
                  resistances: Mapping[str, str] | None = None) -> ImpedanceFit:
    """Fit ``circuit`` (impedance.py notation, any of its elements) to the spectrum.

    Args:
        spectrum: the measured spectrum.
        circuit: e.g. ``"R0-p(R1,CPE1)-Wo1"``; starting values come from :func:`initial_guess`.
        resistances: outcome name -> circuit parameter to report, e.g.
            ``{"interfacial_resistance_ohm": "R2"}``. By default, for the default circuit,
            ``bulk_resistance_ohm`` (R0), ``grain_boundary_resistance_ohm`` (the arc with the
            higher characteristic frequency, see the module docstring) and
            ``interfacial_resistance_ohm`` (the other arc); for another circuit, each ``R``
            element under its own name.

    Raises:
        InstrumentFileError: a circuit that is not impedance.py notation (naming ``circuit``),
            a resistance that names no parameter of it (naming ``resistances``), a spectrum
            with a value that is not a finite number, or a fit that does not converge.
    """
    try:
        parameters = circuit_parameters(circuit)
    except ValueError as err:
        raise InstrumentFileError(f"circuit: {err}") from None
    if resistances is not None:
        _resistance_names(circuit, resistances, parameters, np.zeros(0))  # refuse a bad mapping before fitting
    try:
        from impedance.models.circuits import CustomCircuit
    except ImportError:
        raise InstrumentFileError(f"{spectrum.source}: fitting a spectrum needs impedance.py: "
                                  "pip install 'doe[instruments]'") from None
    if not (np.isfinite(spectrum.frequency_hz).all() and np.isfinite(spectrum.impedance).all()):
        # curve_fit's error names no file
        raise InstrumentFileError(f"{spectrum.source}: a frequency or impedance that is not a finite number; "
                                  "check the spectrum or export it again")
    spectrum, dropped = _without_inductive_tail(spectrum, circuit)
    z = spectrum.impedance
    model = CustomCircuit(circuit.replace(" ", ""), initial_guess=initial_guess(spectrum, circuit))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            model.fit(spectrum.frequency_hz, z)
        except RuntimeError as err:  # scipy's curve_fit did not converge
            raise InstrumentFileError(f"{spectrum.source}: the circuit fit did not converge ({err})") from None
        except ValueError as err:  # a spectrum whose model overflows (impedances of 1e300 ohm)
            raise InstrumentFileError(f"{spectrum.source}: the circuit fit failed ({err}); check the spectrum's "
                                      "values") from None
    values = np.asarray(model.parameters_, dtype=float)
    errors = np.asarray(model.conf_, dtype=float)
    index = {n: i for i, n in enumerate(parameters)}
    rows = []
    for label, param in _resistance_names(circuit, resistances, parameters, values).items():
        v, e = values[index[param]], errors[index[param]]
        rows.append({"name": label, "parameter": param, "value_ohm": v, "low_ohm": v - 1.96 * e,
                     "high_ohm": v + 1.96 * e})
    table = pd.DataFrame(rows, columns=["name", "parameter", "value_ohm", "low_ohm", "high_ohm"])
    fitted = np.asarray(model.predict(spectrum.frequency_hz), dtype=complex)
    residual = float(np.mean(np.abs(z - fitted) / np.abs(z)))
    reason = None
    uncertain = table[~np.isfinite(table["high_ohm"])
                      | ((table["high_ohm"] - table["value_ohm"]) > 0.5 * table["value_ohm"].abs())]
    undetermined = table[table["parameter"].isin(_undetermined(model, spectrum, fitted, parameters,
                                                              table["parameter"].astype(str)))
                         & ~table["name"].isin(uncertain["name"])]
    if not math.isfinite(residual) or residual > POOR_FIT_RESIDUAL:
        reason = f"mean relative residual {residual:.1%} is over {POOR_FIT_RESIDUAL:.0%}"
    elif not uncertain.empty or not undetermined.empty:
        reason = "; ".join(
            ([f"{', '.join(uncertain['name'])} uncertain by more than half its value"] if len(uncertain) else [])
            + ([f"{', '.join(undetermined['name'])} not determined by the spectrum (changed by half, the fitted "
                "impedance hardly moves: an arc outside the measured frequencies)"] if len(undetermined) else []))
    return ImpedanceFit(table, residual, reason is not None, reason, circuit, spectrum.frequency_hz.copy(), fitted,
                        dict(zip(parameters, values.tolist(), strict=True)), dropped)


def _undetermined(model: Any, spectrum: ImpedanceSpectrum, fitted: np.ndarray, parameters: list[str],
                  reported: Iterable[str]) -> list[str]:
    """The ``reported`` parameters that ``spectrum`` does not determine: changed by half their
    value (up or down, the others kept), the fitted circuit's impedance at the measured
    frequencies moves by less than two standard deviations of the fit's own scatter (the sum of
    the squared relative changes under 4 times the mean squared relative residual: a chi-square
    change under 4). Such a parameter (an arc whose characteristic frequency lies decades outside
    the measured range) could take any value; the least-squares covariance, computed through a
    pseudo-inverse, gives it a standard error of about 0 rather than an infinite one, so its
    interval alone does not show it."""
    values = np.asarray(model.parameters_, dtype=float).copy()
    magnitude = np.abs(spectrum.impedance)
    scatter = float(np.mean((np.abs(spectrum.impedance - fitted) / magnitude) ** 2))
    found = []
    try:
        for parameter in dict.fromkeys(reported):
            moves = []
            for factor in (0.5, 1.5):
                changed = values.copy()
                changed[parameters.index(parameter)] *= factor
                model.parameters_ = changed
                with np.errstate(all="ignore"):
                    moved = np.asarray(model.predict(spectrum.frequency_hz), dtype=complex)
                    move = float(np.sum((np.abs(moved - fitted) / magnitude) ** 2))
                moves.append(move if math.isfinite(move) else math.inf)  # an overflow: it matters
            if not min(moves) > 4.0 * scatter:
                found.append(parameter)
    finally:
        model.parameters_ = values
    return found


TAIL_BIASED = ("bulk_resistance_ohm", "grain_boundary_resistance_ohm")
"""Default outcomes left out where an inductive tail was dropped: the points next to it still carry
the inductance, which biased the bulk (44 against 30 ohm) and grain-boundary (65 against 80 ohm)
resistances of a 10 uH test spectrum, while the interface arc, at low frequency, came out within 2 %."""


def impedance_outcomes(path: str | Path, *, circuit: str | None = None,
                       resistances: Mapping[str, str] | None = None) -> pd.Series:
    """The resistances :func:`fit_impedance` reports (by default ``interfacial_resistance_ohm``,
    ``bulk_resistance_ohm`` and ``grain_boundary_resistance_ohm``) and ``fit_relative_residual``,
    with ``inductive_points_dropped`` where points of an inductive tail were left out of the fit (the
    default outcomes then leave out :data:`TAIL_BIASED`: fit with an inductor, ``L0-R0-...``, for them);
    a poor fit raises :class:`InstrumentFileError` (it is never recorded)."""
    spectrum = read_impedance(path)
    fit = fit_impedance(spectrum, circuit or DEFAULT_CIRCUIT, resistances)
    if fit.poor_fit:
        raise InstrumentFileError(f"{spectrum.source}: poor equivalent-circuit fit ({fit.reason}); not recorded")
    values = {str(n): float(v) for n, v in zip(fit.resistances["name"], fit.resistances["value_ohm"], strict=True)}
    if fit.inductive_points_dropped and resistances is None:  # the tail's neighbours bias the fast elements
        values = {n: v for n, v in values.items() if n not in TAIL_BIASED}
    dropped = {"inductive_points_dropped": fit.inductive_points_dropped} if fit.inductive_points_dropped else {}
    return pd.Series({**values, "fit_relative_residual": fit.relative_residual, **dropped})


__all__ = ["DEFAULT_CIRCUIT", "INDUCTIVE_ELEMENTS", "POOR_FIT_RESIDUAL", "TAIL_BIASED", "ImpedanceFit", "ImpedanceSpectrum", "fit_impedance",
           "impedance_outcomes", "inductive_tail", "initial_guess", "read_impedance"]
