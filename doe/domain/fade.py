"""Early prediction of a curve outcome's value at its target cycle (``at``) from the cycles
measured so far: a fade law per cell, with shrinkage across cells.

Each cell's curve is ``value(n) = c (1 - g) + v g + s (h - g)`` with ``g = (n / at) ** b`` and
``h = (n / at) ** 0.5``: ``c`` the start value (the law's value at cycle 0), ``v`` the value
at cycle ``at`` (what the campaign optimises), ``s`` the weight of a square-root (SEI) fade
and ``b`` the shape of the rest (b < 1 fast early fade that slows, b > 1 fade that
accelerates). For fixed ``b`` the law is linear in ``(c, v, s)``, so with Gaussian priors and
Gaussian cycler noise the posterior of ``(c, v, s)`` and the marginal likelihood are exact;
``b`` is integrated over a grid (:data:`B_GRID`). The predicted value at ``at`` is the
resulting mixture's mean and standard deviation, with a model-discrepancy sd added
(:data:`DISCREPANCY`) and, where the outcome has a valid range, truncated to it.

A cell is one experiment's curve with one ``replicate`` label (an unlabelled curve is the
experiment's one cell); each cell is fitted on its own points, from the turn of its curve
where it rises over its formation cycles before it fades (:func:`from_turn`). A cell is measured at ``at``
when it has a point there, or points on both sides of it: then its value at ``at`` is the
linear interpolation between the two neighbouring points when they lie at most
:func:`max_interpolation_gap` cycles apart (:func:`measured_value`; a cell logged every 7th
cycle to 210 is measured at 200), else its fade law's value there, fitted through its points
on both sides (a straight line over cycles 20 to 250 would miss the curve's bend). An experiment's value is the mean of its
cells measured at ``at`` once one is (sd 0), else the mean of its cells' predictions with the
sd of a mean of independent cells, ``sqrt(sum sd_i^2) / k`` (the cells' posteriors share only
the population prior).

The priors are learned from the campaign's own cells (empirical Bayes, a hierarchical
model's shrinkage): ``v``, ``c`` and ``b`` from the cells fitted on a broad prior first, the
noise from the scatter of consecutive cycles within each cell (fade between two cycles is far
below the noise). A curve of a few cycles is thus predicted near the population, and moves to
its own extrapolation as cycles arrive. Why this model: ``docs/how-to/curves.md``.

Pure numpy: importing it loads no torch (the history shows its predictions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

B_GRID = np.linspace(0.6, 3.0, 25)
"""Shapes ``b`` integrated over."""
DEFAULT_B = (1.3, 0.5)
"""Prior mean and sd of ``b``, the exponent of the fade beside the square-root (SEI) term,
before the campaign has curves of its own (layered oxides: about linear to accelerating)."""
DISCREPANCY = 0.1
"""Model discrepancy: sd added per unit of the fade still to come (``|v - last value|``), as
no law holds exactly; set from the calibration benchmark (``benchmarks/curves_calibration.py``)."""
MIN_NOISE_SD = 0.02
"""Lower bound of the cycler noise sd (value units)."""


@dataclass(frozen=True)
class CurvePrediction:
    """The prediction of one experiment's value at the target cycle.

    Attributes:
        mean: predicted value at ``at`` (the measured one once ``at`` is reached).
        sd: its standard deviation (0 once measured at ``at``).
        last_cycle: the latest measured cycle.
        last_value: the value measured there.
        cycling: True while ``at`` is not reached.
        measured: True when the value at ``at`` is measured (a point there, or interpolated
            between points on both sides of it).
    """

    mean: float
    sd: float
    last_cycle: int
    last_value: float
    cycling: bool
    measured: bool = False


Cell = tuple[str, str]
"""A cell: ``(experiment_id, replicate label)``, the label ``""`` for an unlabelled curve."""


class FadeLawPredictor:
    """Predicts each experiment's value at cycle ``at`` (estimator style).

    Args:
        at: the target cycle (``Outcome.at``).
        valid_range: ``(low, high)``, either None for open: the values the outcome can take
            (its ``valid_range``). A value predicted beyond the measured cycles is the
            posterior truncated to it (mean and sd of the truncated normal), so a curve of a
            few cycles is never predicted at, say, -25 % retention.
    """

    def __init__(self, at: int, valid_range: tuple[float | None, float | None] | None = None) -> None:
        self.at = int(at)
        self.valid_range = valid_range

    def fit(self, points: pd.DataFrame) -> FadeLawPredictor:
        """Learn the population priors and each cell's posterior; returns ``self``.

        Args:
            points: one row per measured point: ``experiment_id``, ``cycle`` (>= 1), ``value``
                and optionally ``replicate`` (the cell's label; empty or missing: the
                experiment's one unlabelled cell). Each cell is a curve of its own.
        """
        cells = _curves(points)
        self.noise_sd_ = _noise_sd(cells.values())
        values = np.concatenate([v for _, v in cells.values()]) if cells else np.zeros(1)
        spread = float(np.ptp(values)) if len(values) > 1 else 1.0
        # first pass: broad priors; the cells' estimates then form the population prior
        wide = 10.0 * max(spread, 10 * self.noise_sd_)
        broad = _Prior(v=(float(values.mean()), wide), c=(float(values.mean()), wide), s=(0.0, wide), b=DEFAULT_B)
        fitted = {k: from_turn(n, y, self.noise_sd_) for k, (n, y) in cells.items()}
        first = {k: _posterior(n, y, self.at, self.noise_sd_, broad) for k, (n, y) in fitted.items()}
        self.curves_: dict[Cell, tuple[np.ndarray, np.ndarray]] = fitted
        informative = [k for k, (n, _) in fitted.items() if n.max() >= self.at / 4 and len(n) >= 5]
        self.prior_ = broad
        if len(informative) >= 3:
            v_est = np.array([float(first[k][0][0]) for k in informative])
            c_est = np.array([first[k][2] for k in informative])
            b_est = np.array([first[k][3] for k in informative])
            self.prior_ = _Prior(
                v=(float(v_est.mean()), float(max(v_est.std(ddof=1), 5 * self.noise_sd_))),
                c=(float(c_est.mean()), float(max(c_est.std(ddof=1) * 3, 10 * self.noise_sd_))),
                s=(0.0, wide), b=(float(b_est.mean()), float(max(b_est.std(ddof=1), 0.2))))
        self.cell_predictions_: dict[Cell, CurvePrediction] = {k: self._cell(*cells[k], *fitted[k]) for k in cells}
        self.predictions_: dict[str, CurvePrediction] = {}
        for experiment_id in dict.fromkeys(k[0] for k in cells):
            mine = [k for k in cells if k[0] == experiment_id]
            self.predictions_[experiment_id] = _pooled([self.cell_predictions_[k] for k in mine],
                                                       [cells[k] for k in mine], self.at)
        return self

    def _cell(self, n: np.ndarray, y: np.ndarray, fit_n: np.ndarray, fit_y: np.ndarray) -> CurvePrediction:
        """One cell's value at ``at``: measured (or interpolated) where it can be, else predicted
        from its points ``fit_n``, ``fit_y`` (those from its turn: :func:`from_turn`)."""
        last = int(n.max())
        last_value = float(y[n == n.max()].mean())
        measured = measured_value(n, y, self.at)
        if measured is not None:
            return CurvePrediction(measured, 0.0, last, last_value, False, True)
        mean, sd, _, _ = _posterior(fit_n, fit_y, self.at, self.noise_sd_, self.prior_)
        if (n < self.at).any() and last > self.at:  # points on both sides, too far apart for a line
            through, _ = truncated(mean, sd, self.valid_range)
            return CurvePrediction(float(through[0]), 0.0, last, last_value, False, True)
        extra = DISCREPANCY * abs(float(mean[0]) - last_value)
        m, s = truncated(mean, np.hypot(sd, extra), self.valid_range)
        return CurvePrediction(float(m[0]), float(s[0]), last, last_value, last < self.at)

    def predict(self) -> pd.DataFrame:
        """One row per fitted experiment: ``experiment_id``, ``mean``, ``sd``, ``last_cycle``,
        ``last_value``, ``cycling`` (its cells pooled: see the module's docstring)."""
        if not hasattr(self, "predictions_"):
            raise RuntimeError("FadeLawPredictor.predict() called before fit()")
        rows = [{"experiment_id": k, "mean": p.mean, "sd": p.sd, "last_cycle": p.last_cycle,
                 "last_value": p.last_value, "cycling": p.cycling} for k, p in self.predictions_.items()]
        return pd.DataFrame(rows, columns=["experiment_id", "mean", "sd", "last_cycle", "last_value", "cycling"])

    def predict_cells(self) -> pd.DataFrame:
        """One row per fitted cell: ``experiment_id``, ``replicate`` (``""`` for an unlabelled
        curve), ``mean``, ``sd``, ``last_cycle``, ``last_value``, ``cycling`` and ``measured``
        (its value at ``at`` measured or interpolated, sd 0)."""
        if not hasattr(self, "cell_predictions_"):
            raise RuntimeError("FadeLawPredictor.predict_cells() called before fit()")
        columns = ["experiment_id", "replicate", "mean", "sd", "last_cycle", "last_value", "cycling", "measured"]
        rows = [{"experiment_id": k[0], "replicate": k[1], "mean": p.mean, "sd": p.sd, "last_cycle": p.last_cycle,
                 "last_value": p.last_value, "cycling": p.cycling, "measured": p.measured}
                for k, p in self.cell_predictions_.items()]
        return pd.DataFrame(rows, columns=columns)

    def continuation(self, experiment_id: str, cycles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted mean and sd of ``experiment_id``'s (noise-free) curve at ``cycles`` (for
        plots): the mean of its cells' curves, with the sd of a mean of independent cells."""
        if not hasattr(self, "curves_"):
            raise RuntimeError("FadeLawPredictor.continuation() called before fit()")
        means, variances = [], []
        for key, (n, y) in self.curves_.items():
            if key[0] != str(experiment_id):
                continue
            mean, sd, _, _ = _posterior(n, y, self.at, self.noise_sd_, self.prior_, cycles=np.asarray(cycles))
            last_value = float(y[n == n.max()].mean())
            ahead = np.asarray(cycles, dtype=float) > n.max()
            bounded_mean, bounded_sd = truncated(mean, np.hypot(sd, DISCREPANCY * np.abs(mean - last_value)),
                                                  self.valid_range)
            means.append(np.where(ahead, bounded_mean, mean))
            variances.append(np.where(ahead, bounded_sd, sd) ** 2)
        if not means:
            raise KeyError(f"no curve of experiment {experiment_id!r} was fitted")
        if len(means) == 1:
            return means[0], np.sqrt(variances[0])
        return np.mean(means, axis=0), np.sqrt(np.sum(variances, axis=0)) / len(means)


def max_interpolation_gap(at: int) -> int:
    """The widest span, in cycles, between the two points around cycle ``at`` that
    :func:`measured_value` bridges with a straight line: a tenth of ``at``, at least 10."""
    return max(10, int(at) // 10)


def measured_value(cycles: np.ndarray, values: np.ndarray, at: int) -> float | None:
    """One cell's measured value at cycle ``at``: its point there (the mean, were there several),
    else, with points on both sides of ``at`` at most :func:`max_interpolation_gap` cycles
    apart, the linear interpolation between the two neighbouring points (the last before
    ``at`` and the first after it); None otherwise."""
    cycles, values = np.asarray(cycles, dtype=float), np.asarray(values, dtype=float)
    there = values[cycles == at]
    if len(there):
        return float(there.mean())
    before, after = cycles < at, cycles > at
    if not (before.any() and after.any()):
        return None
    n0, n1 = float(cycles[before].max()), float(cycles[after].min())
    if n1 - n0 > max_interpolation_gap(at):
        return None
    y0, y1 = float(values[cycles == n0].mean()), float(values[cycles == n1].mean())
    return y0 + (y1 - y0) * (at - n0) / (n1 - n0)


def value_at(cycles: np.ndarray, values: np.ndarray, at: int,
             valid_range: tuple[float | None, float | None] | None = None) -> float | None:
    """One curve's value at cycle ``at`` by the rule of a curve outcome's cell measured there
    (:meth:`FadeLawPredictor.fit` on this curve alone): its point there, the straight line
    between its points on both sides of ``at`` at most :func:`max_interpolation_gap` cycles
    apart (:func:`measured_value`), or, further apart, its fade law fitted through its points
    on both sides (on its own points, with no other curve to learn a population from); None
    while it has no point at ``at`` or on both sides of it (a curve that stops before ``at``
    is not measured there).

    Args:
        cycles: the curve's cycles (>= 1), any order.
        values: its value at each cycle.
        at: the target cycle.
        valid_range: ``(low, high)`` the value can take (either None for open), as
            :class:`FadeLawPredictor` takes it.
    """
    cycles, values = np.asarray(cycles, dtype=float), np.asarray(values, dtype=float)
    if not len(cycles):
        return None
    model = FadeLawPredictor(at, valid_range).fit(pd.DataFrame({"experiment_id": "", "cycle": cycles,
                                                                "value": values}))
    cell = model.cell_predictions_[("", "")]
    return cell.mean if cell.measured else None


TURN_NOISE_SDS = 3.0
"""A cell's curve turns (a formation rise, then the fade) where its extreme, and the median of
the five points around it, stand this many sds of a difference of two noisy points (``sqrt 2``
noise sds) beyond both its first and its last point."""


def from_turn(cycles: np.ndarray, values: np.ndarray, noise_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """A cell's points after the turn of its curve, the ones the fade law is fitted to.

    A cell whose capacity rises over its formation cycles before it fades (retention relative
    to cycle 1 going from 93 to 100 over cycles 1-10) has a maximum clearly above both its
    first and its last point (:data:`TURN_NOISE_SDS`); the law has no rise, so the points up
    to that maximum (itself included: the largest of noisy points reads high) are left out of
    the fit. The median of the five points around the extreme must be as clear of both ends,
    so one stray point (a dip of a few cycles' noise) is not a turn. Mirrored for a curve that
    dips, then rises. Otherwise every point is fitted."""
    if len(values) < 3:
        return cycles, values
    margin = TURN_NOISE_SDS * math.sqrt(2) * noise_sd
    first, last = float(values[0]), float(values[-1])
    for turn, sign in ((int(np.argmax(values)), 1.0), (int(np.argmin(values)), -1.0)):
        around = float(np.median(values[max(turn - 2, 0):turn + 3]))
        if all(sign * (level - end) > margin for level in (float(values[turn]), around) for end in (first, last)):
            return cycles[turn + 1:], values[turn + 1:]
    return cycles, values


def _pooled(cells: list[CurvePrediction], curves: list[tuple[np.ndarray, np.ndarray]], at: int) -> CurvePrediction:
    """An experiment's value at ``at`` from its cells: the mean of those measured there (sd 0)
    once one is, else the mean of their predictions with sd ``sqrt(sum sd_i^2) / k`` (a mean of
    ``k`` independent cells); its last cycle is its cells' latest, the last value their mean there."""
    if len(cells) == 1:
        return cells[0]
    last = max(p.last_cycle for p in cells)
    last_value = float(np.concatenate([y[n == last] for n, y in curves]).mean())
    measured = [p.mean for p in cells if p.measured]
    if measured:
        return CurvePrediction(float(np.mean(measured)), 0.0, last, last_value, False, True)
    sd = math.sqrt(math.fsum(p.sd**2 for p in cells)) / len(cells)
    return CurvePrediction(float(np.mean([p.mean for p in cells])), sd, last, last_value, last < at)


def truncated(mean: np.ndarray, sd: np.ndarray,
               valid_range: tuple[float | None, float | None] | None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of ``N(mean, sd^2)`` truncated to ``valid_range`` (unchanged without one)."""
    low, high = valid_range if valid_range is not None else (None, None)
    if low is None and high is None:
        return mean, sd
    from scipy.stats import truncnorm  # lazily: the domain imports no scipy at start

    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    lo = -np.inf if low is None else float(low)
    hi = np.inf if high is None else float(high)
    scale = np.maximum(sd, 1e-12)
    a, b = (lo - mean) / scale, (hi - mean) / scale
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # far tails: checked below
        m, v = truncnorm.stats(a, b, loc=mean, scale=scale, moments="mv")
    m, v = np.asarray(m, dtype=float), np.asarray(v, dtype=float)
    # far outside the range (scipy's moments fail): the nearest bound, the sd of the normal's tail
    # there (sd / distance in sd, the exponential limit); no spread (sd 0, a one-point range): none
    tail = sd / np.maximum(np.abs(np.where(mean < lo, a, b)), 1.0)
    ok = np.isfinite(m) & np.isfinite(v) & (v > 0)
    sd_out = np.where(ok, np.sqrt(np.maximum(v, 0.0)), np.minimum(tail, sd))
    sd_out = np.where(np.isnan(sd), np.nan, np.where((sd > 0) & (hi > lo), sd_out, 0.0))
    return np.clip(np.where(ok, m, mean), lo, hi), sd_out


@dataclass(frozen=True)
class _Prior:
    v: tuple[float, float]
    c: tuple[float, float]
    s: tuple[float, float]
    b: tuple[float, float]


def _noise_sd(curves: object) -> float:
    """Cycler noise sd from consecutive points of each cell (robust: MAD of differences / sqrt 2)."""
    diffs = [np.diff(y)[np.diff(n) <= 2] for n, y in curves if len(y) > 2]  # type: ignore[attr-defined]
    d = np.concatenate(diffs) if diffs else np.zeros(0)
    if len(d) < 5:
        return 0.3
    return float(max(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2), MIN_NOISE_SD))


def _posterior(n: np.ndarray, y: np.ndarray, at: int, noise_sd: float, prior: _Prior,
               cycles: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Mixture over ``B_GRID`` of the exact posteriors of ``(c, v, s)``: mean and sd of the
    curve's value at ``cycles`` (default: ``[at]``), the mean of ``c`` and of ``b``.
    Vectorised over the grid (one batched 3 x 3 solve per shape)."""
    q = np.array([float(at)]) if cycles is None else np.asarray(cycles, dtype=float)
    mu0 = np.array([prior.c[0], prior.v[0], prior.s[0]])
    prec0 = np.diag([1 / prior.c[1] ** 2, 1 / prior.v[1] ** 2, 1 / prior.s[1] ** 2])
    s2 = noise_sd**2
    X = _design_grid(n, at)  # (grid, n, 3)
    prec = prec0[None] + np.einsum("gni,gnj->gij", X, X) / s2
    cov = np.linalg.inv(prec)
    Xty = np.einsum("gni,n->gi", X, y) / s2
    mu = np.einsum("gij,gj->gi", cov, (prec0 @ mu0)[None] + Xty)
    r = y[None, :] - X @ mu0  # (grid, n)
    Xtr = np.einsum("gni,gn->gi", X, r) / s2
    # log marginal likelihood via the matrix determinant lemma (3 x 3, not n x n)
    quad = np.einsum("gn,gn->g", r, r) / s2 - np.einsum("gi,gij,gj->g", Xtr, cov, Xtr)
    logdet = len(y) * math.log(s2) + np.linalg.slogdet(prec)[1] - np.linalg.slogdet(prec0)[1]
    log_w = -0.5 * (quad + logdet) - 0.5 * ((B_GRID - prior.b[0]) / prior.b[1]) ** 2
    Xq = _design_grid(q, at)  # (grid, q, 3)
    m = np.einsum("gqi,gi->gq", Xq, mu)
    variances = np.einsum("gqi,gij,gqj->gq", Xq, cov, Xq)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    mean = w @ m
    var = w @ (variances + m**2) - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0)), float(w @ mu[:, 0]), float(w @ B_GRID)


def _curves(points: pd.DataFrame) -> dict[Cell, tuple[np.ndarray, np.ndarray]]:
    """Per cell, ``(experiment_id, replicate label)`` (in order of first appearance by cycle):
    its cycles and values, by cycle."""
    cycle = points["cycle"].to_numpy(dtype=float)
    by_cycle = np.argsort(cycle, kind="stable")
    ids = points["experiment_id"].astype(str).to_numpy()
    labels = (points["replicate"].astype(object).where(points["replicate"].notna(), "").astype(str).to_numpy()
              if "replicate" in points.columns else np.full(len(points), "", dtype=object))
    codes, names = pd.factorize(pd.MultiIndex.from_arrays([ids[by_cycle], labels[by_cycle]]))
    order = by_cycle[np.argsort(codes, kind="stable")]
    value = points["value"].to_numpy(dtype=float)
    bounds = np.cumsum(np.bincount(codes, minlength=len(names)))[:-1]
    return {(str(k[0]), str(k[1])): (n, y) for k, n, y in zip(names, np.split(cycle[order], bounds),
                                                              np.split(value[order], bounds), strict=True)}


def _design_grid(n: np.ndarray, at: int) -> np.ndarray:
    """:func:`_design` for every shape of ``B_GRID`` at once: ``(grid, len(n), 3)``."""
    x = np.asarray(n, dtype=float) / at
    g = x[None, :] ** B_GRID[:, None]
    h = np.sqrt(x)[None, :]
    return np.stack([1 - g, g, np.broadcast_to(h, g.shape) - g], axis=-1)


def _design(n: np.ndarray, at: int, b: float) -> np.ndarray:
    """Columns of ``(c, v, s)`` in ``value(n) = c (1 - g) + v g + s (h - g)``, ``g = (n/at)^b``,
    ``h = (n/at)^0.5``: ``v`` is the value at ``at``, ``s`` the square-root (SEI) share."""
    x = np.asarray(n, dtype=float) / at
    g, h = x**b, np.sqrt(x)
    return np.column_stack([1 - g, g, h - g])
