"""Transfer from earlier campaigns: a multi-task GP, kept only when it predicts the target better.

For one outcome, :func:`fit_transfer` fits :class:`~doe.engine.gp.ExactGP` on the target's
rows (task 0) together with the source campaigns' rows (tasks 1..S, see the transfer section
of :mod:`doe.engine.gp`), then guards against negative transfer: the multi-task model is kept
only if

* its leave-one-out log predictive density on the target's own measurements (each target
  value predicted from all other rows, sources included) is higher than the single-task GP's,
  and
* at least one source's learned correlation with the target is :data:`MIN_CORRELATION` or more.

Otherwise the single-task GP is used, as if there were no sources. The choice, the learned
correlations and both densities are kept in a :class:`TransferChoice` (shown by
``Campaign.transfer_report()`` and the History page).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from doe.engine.encoding import Encoder
from doe.engine.gp import ExactGP

logger = logging.getLogger(__name__)

MIN_CORRELATION = 0.3
"""Below this learned correlation with every source, the sources are not used."""
MIN_SOURCE_ROWS = 2
"""Rows a source needs (with the outcome measured) to take part."""


@dataclass(frozen=True)
class SourceRows:
    """The source campaigns' rows of one outcome in the target's model space.

    Attributes:
        X: model-space recipes ``(m, d)``.
        y: measured values, engineer units ``(m,)``.
        tasks: source number of each row, 1..S ``(m,)``.
        names: the source campaigns, in task order (task ``k`` is ``names[k - 1]``).
    """

    X: np.ndarray
    y: np.ndarray
    tasks: np.ndarray
    names: tuple[str, ...]


@dataclass(frozen=True)
class TransferChoice:
    """Which model one outcome uses, and why.

    Attributes:
        outcome: the outcome.
        sources: source campaigns that had data for it, with their rows ``(name, rows)``.
        correlations: learned correlation of each of those sources with the target (same
            order; NaN when the multi-task fit failed).
        loo_log_density_single: mean leave-one-out log predictive density of the target's
            values under the single-task GP (per measurement).
        loo_log_density_transfer: the same under the multi-task GP (NaN if it failed).
        used: True when the multi-task model is the outcome's model.
        reason: one sentence for people.
    """

    outcome: str
    sources: tuple[tuple[str, int], ...]
    correlations: tuple[float, ...]
    loo_log_density_single: float
    loo_log_density_transfer: float
    used: bool
    reason: str


def source_rows(encoder: Encoder, outcome: str, sources: Mapping[str, pd.DataFrame]) -> SourceRows:
    """Encode the sources' measured rows of ``outcome`` (labels the target does not allow are dropped)."""
    blocks: list[tuple[np.ndarray, np.ndarray]] = []
    names: list[str] = []
    for name, table in sources.items():
        if outcome not in table.columns or len(table) == 0:
            continue
        table = table[pd.to_numeric(table[outcome], errors="coerce").notna().to_numpy()]
        table = table[encoder.usable_rows(table, what=f"{name!r} source")]
        if len(table) < MIN_SOURCE_ROWS:
            continue
        blocks.append((encoder.encode(table), table[outcome].to_numpy(dtype=float)))
        names.append(name)
    if not blocks:
        return SourceRows(np.zeros((0, encoder.dim)), np.zeros(0), np.zeros(0, dtype=int), ())
    tasks = np.concatenate([np.full(len(y), k + 1) for k, (_, y) in enumerate(blocks)])
    return SourceRows(np.vstack([X for X, _ in blocks]), np.concatenate([y for _, y in blocks]), tasks, tuple(names))


def loo_log_density(y: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> float:
    """Mean Gaussian log density of ``y`` under leave-one-out predictions (engineer units)."""
    sd = np.maximum(np.asarray(sd, dtype=float), 1e-12)
    z = (np.asarray(y, dtype=float) - mean) / sd
    return float(np.mean(-0.5 * z**2 - np.log(sd) - 0.5 * math.log(2 * math.pi)))


def fit_transfer(outcome: str, single: ExactGP, X: np.ndarray, y: np.ndarray, sources: SourceRows,
                 new_gp: Callable[[], ExactGP], maxiter: int, seed: int) -> tuple[ExactGP, TransferChoice]:
    """The model of ``outcome``: the multi-task GP on target and sources, or ``single``.

    Args:
        outcome: the outcome's name (for messages).
        single: the single-task GP, already fitted on the target's rows ``(X, y)``.
        X: the target's model-space recipes ``(n, d)``.
        y: the target's measured values ``(n,)``.
        sources: the sources' rows of this outcome (:func:`source_rows`).
        new_gp: makes an unfitted :class:`ExactGP` with the target's settings.
        maxiter: L-BFGS iterations of the multi-task fit.
        seed: fitting-subset seed.

    Returns:
        The model to use and the :class:`TransferChoice` saying which and why.
    """
    counts = tuple((name, int((sources.tasks == k + 1).sum())) for k, name in enumerate(sources.names))
    mean, sd = single.loo()
    lpd_single = loo_log_density(y, mean, sd)
    n = len(y)
    try:
        multi = new_gp().fit(np.vstack([X, sources.X]), np.concatenate([y, sources.y]), maxiter=maxiter, seed=seed,
                             tasks=np.concatenate([np.zeros(n, dtype=int), sources.tasks]))
        mean_all, sd_all = multi.loo()
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as err:
        logger.warning("outcome %r: the multi-task fit with %s failed (%s); the target's data alone are used",
                       outcome, list(sources.names), err)
        return single, TransferChoice(outcome, counts, tuple(math.nan for _ in counts), lpd_single, math.nan, False,
                                      f"the multi-task fit failed ({err}); this campaign's data alone are used")
    lpd_multi = loo_log_density(y, mean_all[:n], sd_all[:n])
    correlations = tuple(float(c) for c in multi.correlations_)
    related = max(correlations) >= MIN_CORRELATION
    used = related and lpd_multi > lpd_single
    if used:
        reason = (f"the earlier campaigns predict this campaign's results better (leave-one-out log density "
                  f"{lpd_multi:.3g} against {lpd_single:.3g} alone)")
    elif not related:
        reason = (f"no earlier campaign is related enough (largest correlation {max(correlations):.2f} < "
                  f"{MIN_CORRELATION}); this campaign's data alone are used")
    else:
        reason = (f"the earlier campaigns did not predict this campaign's results better (leave-one-out log "
                  f"density {lpd_multi:.3g} against {lpd_single:.3g} alone); this campaign's data alone are used")
    logger.info("outcome %r: transfer from %s %s: %s", outcome, list(sources.names), "used" if used else "not used",
                reason)
    return (multi if used else single), TransferChoice(outcome, counts, correlations, lpd_single, lpd_multi, used,
                                                        reason)


def transfer_table(choices: Mapping[str, TransferChoice]) -> pd.DataFrame:
    """One row per outcome and source: outcome, source, source_rows, correlation, used,
    loo_log_density_single, loo_log_density_transfer, reason."""
    rows = [
        {"outcome": c.outcome, "source": name, "source_rows": count, "correlation": corr, "used": c.used,
         "loo_log_density_single": c.loo_log_density_single,
         "loo_log_density_transfer": c.loo_log_density_transfer, "reason": c.reason}
        for c in choices.values() for (name, count), corr in zip(c.sources, c.correlations, strict=True)
    ]
    columns = ["outcome", "source", "source_rows", "correlation", "used", "loo_log_density_single",
               "loo_log_density_transfer", "reason"]
    return pd.DataFrame(rows, columns=columns)
