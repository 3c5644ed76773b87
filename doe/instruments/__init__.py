"""Instrument files in: cycler exports become per-cycle capacities and campaign outcomes.

    from doe.instruments import cycling_outcomes, read_cycling
    read_cycling("cell_3.mpt", active_mass_mg=12.0)         # cycle, charge/discharge (mAh, mAh/g)
    read_cycling_points("cell_3.mpt", active_mass_mg=12.0)  # the voltage curve, point by point
    cycling_outcomes("cell_3.mpt", active_mass_mg=12.0)     # first-cycle CE and capacities, retention
    impedance_outcomes("cell_3_peis.mpt")                   # resistances from an equivalent-circuit fit

The formats and the rules are in :mod:`doe.instruments.cycling`.
"""

from __future__ import annotations

from doe.instruments.cycling import (
    FORMATS,
    InstrumentFileError,
    cycling_outcomes,
    detect_format,
    read_cycling,
    retention_curve,
)
from doe.instruments.impedance import (
    ImpedanceFit,
    ImpedanceSpectrum,
    fit_impedance,
    impedance_outcomes,
    read_impedance,
)
from doe.instruments.points import read_cycling_points
from doe.instruments.results import FilePreview, results_from_files

__all__ = ["FORMATS", "FilePreview", "ImpedanceFit", "ImpedanceSpectrum", "InstrumentFileError", "cycling_outcomes",
           "detect_format", "fit_impedance", "impedance_outcomes", "read_cycling", "read_cycling_points", "read_impedance",
           "results_from_files", "retention_curve"]
