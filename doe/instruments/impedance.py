"""Impedance spectra: read them, fit an equivalent circuit (impedance.py), report resistances.

Formats:

- ``biologic_peis_mpt``: EC-Lab PEIS "Export as text": the ``EC-Lab ASCII FILE`` header with
  ``Nb header lines``, then tab-separated ``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``;
- ``gamry_dta``: Gamry Framework ``.DTA``: a ``ZCURVE TABLE`` block whose column line holds
  ``Freq``, ``Zreal`` and ``Zimag``, a line of units, then one tab-indented row per point;
- ``impedance_csv``: a plain CSV with ``frequency_hz``, ``z_real_ohm`` and ``z_imag_ohm``
  (the imaginary part with its sign: negative for a capacitive cell).

The default circuit follows the usual model of a solid-state cathode half cell: a bulk
(electrolyte) resistance in series with two R||CPE arcs and a finite-length Warburg element
(``R0-p(R1,CPE1)-p(R2,CPE2)-Wo1`` in impedance.py's notation). The arc with the smaller CPE
coefficient (the higher characteristic frequency) is the grain-boundary arc, the other the
cathode/electrolyte interface. Each resistance is reported with a 95 % interval (value +-
1.96 standard errors of the least-squares fit); a fit whose mean relative residual is over
:data:`POOR_FIT_RESIDUAL`, or whose interface resistance is uncertain by more than half its
value, is flagged as poor and is not recorded.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from doe.instruments.cycling import InstrumentFileError, read_text

ImpedanceFormat = Literal["biologic_peis_mpt", "gamry_dta", "impedance_csv"]
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
    """Fitted resistances (ohm) with 95 % intervals, and whether the fit can be trusted."""

    resistances: pd.DataFrame
    """One row per resistance: ``name``, ``value_ohm``, ``low_ohm``, ``high_ohm``."""
    relative_residual: float
    poor_fit: bool
    reason: str | None
    circuit: str


def detect_impedance_format(path: Path, text: str) -> ImpedanceFormat | None:
    """The impedance format of a file's text, or None when it is not an impedance export."""
    head = text[:6000]
    if head.startswith("EC-Lab ASCII FILE") and "freq/Hz" in head:
        return "biologic_peis_mpt"
    if "ZCURVE" in head and "Zreal" in head:
        return "gamry_dta"
    first = head.splitlines()[0] if head else ""
    if {"frequency_hz", "z_real_ohm", "z_imag_ohm"} <= {c.strip() for c in first.split(",")}:
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
        body = "\n".join(text.splitlines()[skip:])
        decimal = "," if re.search(r"\t-?\d+,\d+", body[:2000]) else "."
        frame = pd.read_csv(io.StringIO(body), sep="\t", decimal=decimal)
        columns = {"freq/Hz": "f", "Re(Z)/Ohm": "re", "-Im(Z)/Ohm": "minus_im"}
    elif kind == "gamry_dta":
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("ZCURVE"))
        header = lines[start + 1].strip().split("\t")
        rows = []
        for line in lines[start + 3:]:
            if not line.startswith("\t"):
                break
            rows.append(line.strip().split("\t"))
        frame = pd.DataFrame(rows, columns=header[: len(rows[0])] if rows else header)
        columns = {"Freq": "f", "Zreal": "re", "Zimag": "im"}
    else:
        frame = pd.read_csv(io.StringIO(text))
        frame.columns = [str(c).strip() for c in frame.columns]
        columns = {"frequency_hz": "f", "z_real_ohm": "re", "z_imag_ohm": "im"}
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InstrumentFileError(f"{path.name}: missing column(s) {missing}")
    data = pd.DataFrame({new: pd.to_numeric(frame[old], errors="coerce") for old, new in columns.items()})
    if data.isna().any().any():
        raise InstrumentFileError(f"{path.name}: a value that is not a number (truncated file?)")
    imag = -data["minus_im"] if "minus_im" in data else data["im"]
    if len(data) < 10:
        raise InstrumentFileError(f"{path.name}: {len(data)} frequencies; a fit needs at least 10")
    if (data["f"] <= 0).any():
        raise InstrumentFileError(f"{path.name}: frequencies must be positive")
    return ImpedanceSpectrum(data["f"].to_numpy(float), data["re"].to_numpy(float), imag.to_numpy(float), path.name)


def fit_impedance(spectrum: ImpedanceSpectrum, circuit: str = DEFAULT_CIRCUIT) -> ImpedanceFit:
    """Fit ``circuit`` (impedance.py notation) to the spectrum; the default circuit's
    resistances are named ``bulk``, ``grain_boundary`` and ``interface``."""
    try:
        from impedance.models.circuits import CustomCircuit
    except ImportError:
        raise InstrumentFileError(f"{spectrum.source}: fitting a spectrum needs impedance.py: "
                                  "pip install 'doe[instruments]'") from None
    z = spectrum.impedance
    r0 = float(np.min(spectrum.z_real_ohm))
    span = max(float(np.max(spectrum.z_real_ohm)) - r0, 1e-3)
    if circuit == DEFAULT_CIRCUIT:
        guess = [max(r0, 1e-3), span / 3, 1e-7, 0.9, span / 3, 1e-5, 0.85, span / 3, 10.0]
    else:
        raise InstrumentFileError(f"circuit: only the default {DEFAULT_CIRCUIT!r} is configured, got {circuit!r}")
    model = CustomCircuit(circuit, initial_guess=guess)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            model.fit(spectrum.frequency_hz, z)
        except RuntimeError as err:  # scipy's curve_fit did not converge
            raise InstrumentFileError(f"{spectrum.source}: the circuit fit did not converge ({err})") from None
    values = np.asarray(model.parameters_, dtype=float)
    errors = np.asarray(model.conf_, dtype=float)
    names = model.get_param_names()[0]
    index = {n: i for i, n in enumerate(names)}
    arcs = sorted([("R1", "CPE1_0"), ("R2", "CPE2_0")], key=lambda arc: values[index[arc[1]]])
    picked = {"bulk": "R0", "grain_boundary": arcs[0][0], "interface": arcs[1][0]}
    rows = []
    for label, param in picked.items():
        v, e = values[index[param]], errors[index[param]]
        rows.append({"name": label, "value_ohm": v, "low_ohm": v - 1.96 * e, "high_ohm": v + 1.96 * e})
    table = pd.DataFrame(rows)
    residual = float(np.mean(np.abs(z - model.predict(spectrum.frequency_hz)) / np.abs(z)))
    interface = table.set_index("name").loc["interface"]
    reason = None
    if not math.isfinite(residual) or residual > POOR_FIT_RESIDUAL:
        reason = f"mean relative residual {residual:.1%} is over {POOR_FIT_RESIDUAL:.0%}"
    elif not np.isfinite(interface["high_ohm"]) or (interface["high_ohm"] - interface["value_ohm"]) > 0.5 * abs(
            interface["value_ohm"]):
        reason = "the interface resistance is uncertain by more than half its value"
    return ImpedanceFit(table, residual, reason is not None, reason, circuit)


def impedance_outcomes(path: str | Path) -> pd.Series:
    """``interfacial_resistance_ohm``, ``bulk_resistance_ohm`` and ``grain_boundary_resistance_ohm``
    of a spectrum; a poor fit raises :class:`InstrumentFileError` (it is never recorded)."""
    spectrum = read_impedance(path)
    fit = fit_impedance(spectrum)
    if fit.poor_fit:
        raise InstrumentFileError(f"{spectrum.source}: poor equivalent-circuit fit ({fit.reason}); not recorded")
    values = fit.resistances.set_index("name")["value_ohm"]
    return pd.Series({"interfacial_resistance_ohm": float(values["interface"]),
                      "bulk_resistance_ohm": float(values["bulk"]),
                      "grain_boundary_resistance_ohm": float(values["grain_boundary"]),
                      "fit_relative_residual": fit.relative_residual})


__all__ = ["DEFAULT_CIRCUIT", "POOR_FIT_RESIDUAL", "ImpedanceFit", "ImpedanceSpectrum", "fit_impedance",
           "impedance_outcomes", "read_impedance"]
