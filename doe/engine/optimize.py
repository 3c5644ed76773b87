"""Proposal search: maximise the acquisition over the mixed space or a finite candidate set.

Over the space (:func:`optimize_space`): the best of ``raw_samples`` feasible starting
recipes are refined by BoTorch's batched L-BFGS-B (``gen_candidates_scipy``; SLSQP under
linear constraints) on the continuous parameters with each start's discrete values and
labels held, then improved by local search over neighbouring discrete values and other
labels, alternating. The batch is built sequentially (each new recipe conditioned on the
pending ones and those chosen before it). This is the scheme of BoTorch's
``optimize_acqf_mixed_alternating`` with fewer, larger batched steps, which matters because
each acquisition call has a fixed cost. Linear constraints are kept exactly (tightened by a
hair, then checked and repaired toward an interior point); fixed values are fixed features.

A recipe that repeats a measured, pending or already chosen one is replaced by the best
untested recipe of a fresh feasible Sobol pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from doe.engine.design import sample_space
from doe.engine.encoding import Encoder
from doe.engine.settings import EngineSettings
from doe.errors import ProposalError

logger = logging.getLogger(__name__)


def _evaluate(acqf: Any, X: Any, chunk: int = 512) -> Any:
    """Acquisition values of ``X`` ``(m, d)`` as m separate one-recipe batches."""
    import torch

    values = []
    with torch.no_grad():
        for start in range(0, len(X), chunk):
            values.append(acqf(X[start : start + chunk].unsqueeze(-2)))
    return torch.cat(values) if values else torch.zeros(0, dtype=X.dtype, device=X.device)


def sequential_values(make: Callable[[np.ndarray | None], Any], X: np.ndarray, pending: np.ndarray, device: Any) -> np.ndarray:
    """Value of each row of ``X`` ``(n, d)`` given ``pending`` ``(m, d)`` and the rows before it."""
    import torch

    X_t = torch.as_tensor(X, dtype=torch.float64, device=device)
    acqf = make(pending)
    base = acqf.X_pending
    values = []
    with torch.no_grad():
        for i in range(len(X)):
            if i:
                acqf.set_X_pending(X_t[:i] if base is None else torch.cat([base, X_t[:i]]))
            values.append(float(acqf(X_t[i : i + 1].unsqueeze(0)).reshape(-1)[0]))
    return np.asarray(values)


def _starts(
    acqf: Any, encoder: Encoder, fixed: dict[int, float], X_near: np.ndarray, count: int, raw: int,
    seed: int, rng: np.random.Generator, device: Any,
) -> Any:
    """The ``count`` best of ``raw`` feasible Sobol recipes plus perturbations of ``X_near``."""
    import torch

    pool = [sample_space(encoder, raw, seed, fixed)]
    if len(X_near) and encoder.cont_dims:
        near = np.repeat(X_near, max(1, raw // (4 * len(X_near))), axis=0)[: max(raw // 4, 1)].copy()
        cont = encoder.cont_dims
        near[:, cont] = np.clip(near[:, cont] + rng.normal(0.0, 0.1, size=(len(near), len(cont))), 0.0, 1.0)
        for i, v in fixed.items():
            near[:, i] = v
        pool.append(near[encoder.feasible(near)])
    X = torch.as_tensor(np.vstack(pool), dtype=torch.float64, device=device)
    values = _evaluate(acqf, X)
    order = torch.argsort(values, descending=True)
    return X[order[:count]].unsqueeze(-2)


def _continuous(
    acqf: Any, encoder: Encoder, starts: Any, fixed: dict[int, float], constraints: list[Any], maxiter: int,
) -> tuple[Any, Any]:
    """L-BFGS-B (SLSQP with linear constraints) on the free numeric columns of each start.

    Discrete values and labels stay as in each start (batch-shaped fixed features).
    """
    import torch
    from botorch.generation.gen import gen_candidates_scipy

    free = [i for i in encoder.cont_dims if i not in fixed]
    if not free:
        with torch.no_grad():
            return starts, acqf(starts)
    held = {i: starts[:, 0, i].clone() for i in range(encoder.dim) if i not in free}
    bounds = torch.as_tensor(encoder.bounds, dtype=starts.dtype, device=starts.device)
    X, values = gen_candidates_scipy(
        initial_conditions=starts,
        acquisition_function=acqf,
        lower_bounds=bounds[0],
        upper_bounds=bounds[1],
        inequality_constraints=constraints or None,
        options={"maxiter": maxiter, **({"max_optimization_problem_aggregation_size": 1} if constraints else {})},
        fixed_features=held,
    )
    return X.detach(), values.detach()


def _neighbours(encoder: Encoder, X: np.ndarray, fixed: dict[int, float]) -> np.ndarray:
    """Every recipe that differs from a row of ``X`` in one discrete value (next ones) or one label."""
    out = []
    for row in X:
        for i, labels in encoder.cat_dims.items():
            if i in fixed:
                continue
            for k in labels:
                if k != row[i]:
                    new = row.copy()
                    new[i] = k
                    out.append(new)
        for i, values in encoder.discrete_dims.items():
            if i in fixed:
                continue
            grid = np.asarray(values)
            j = int(np.abs(grid - row[i]).argmin())
            for step in (-2, -1, 1, 2):
                if 0 <= j + step < len(grid):
                    new = row.copy()
                    new[i] = grid[j + step]
                    out.append(new)
    return np.asarray(out).reshape(-1, encoder.dim)


def optimize_space(
    make: Callable[[np.ndarray | None], Any],
    encoder: Encoder,
    n: int,
    fixed: dict[int, float],
    avoid: np.ndarray,
    settings: EngineSettings,
    seed: int,
    device: Any,
    X_near: np.ndarray | None = None,
    pending: np.ndarray | None = None,
) -> np.ndarray:
    """``n`` model-space recipes ``(n, d)`` that maximise ``acqf`` (sequential greedy batch).

    For each slot: score ``raw_samples`` feasible Sobol recipes and perturbations of the
    best measured ones (``X_near``); refine the ``num_restarts`` best with L-BFGS-B on the
    numeric parameters (discrete values and labels held); then up to
    ``maxiter_alternating`` rounds of local search over neighbouring discrete values and
    other labels, each improvement refined again. The slot's winner joins the pending
    recipes for the next slot.

    Args:
        make: builds the acquisition function for given pending recipes.
        encoder: the space.
        n: batch size.
        fixed: model-space values held for the batch.
        avoid: measured and pending recipes ``(m, d)``: never proposed again.
        settings: restarts, raw samples, local-search rounds.
        seed: seeds the Sobol pools and perturbations.
        device: torch device.
        X_near: recipes to search around (e.g. the best measured ones), ``(k, d)``.
        pending: recipes proposed or running ``(m, d)``.
    """
    import torch

    kw = {"dtype": torch.float64, "device": device}
    centre = encoder.interior_point(fixed)
    if centre is None:
        raise ProposalError("no recipe satisfies the linear constraints together with the fixed values; relax one of them")
    constraints = [
        (idx.to(device), coef.to(device), rhs) for idx, coef, rhs in encoder.as_botorch_constraints(margin=1e-7)
    ]
    rng = np.random.default_rng(seed)
    near = np.zeros((0, encoder.dim)) if X_near is None else np.asarray(X_near, dtype=float)
    pending = np.zeros((0, encoder.dim)) if pending is None else np.asarray(pending, dtype=float)
    acqf = make(pending)
    base_pending = acqf.X_pending
    chosen: list[np.ndarray] = []
    for slot in range(n):
        if chosen:
            new = torch.as_tensor(np.vstack(chosen), **kw)
            acqf.set_X_pending(new if base_pending is None else torch.cat([base_pending, new]))
        starts = _starts(acqf, encoder, fixed, near, settings.num_restarts, settings.raw_samples,
                         seed + 101 * slot, rng, device)
        X, values = _continuous(acqf, encoder, starts, fixed, constraints, maxiter=settings.lbfgs_maxiter)
        for _ in range(settings.maxiter_alternating):
            if not (encoder.cat_dims or encoder.discrete_dims):
                break
            best_rows = torch.argsort(values, descending=True)[: max(1, min(len(values), 3))]
            current = X[best_rows, 0].cpu().numpy()
            moves = _neighbours(encoder, current, fixed)
            if not len(moves):
                break
            moves_t = torch.as_tensor(moves, **kw)
            move_values = _evaluate(acqf, moves_t)
            top = torch.argsort(move_values, descending=True)[: settings.num_restarts]
            if not bool(move_values[top[0]] > values.max() + 1e-9):
                break
            refined, refined_values = _continuous(
                acqf, encoder, moves_t[top].unsqueeze(-2), fixed, constraints, maxiter=max(5, settings.lbfgs_maxiter // 2)
            )
            X = torch.cat([X, refined])
            values = torch.cat([values.reshape(-1), refined_values.reshape(-1)])
        best = int(torch.argmax(values))
        chosen.append(X[best, 0].cpu().numpy())
    X_np = encoder.snap(np.vstack(chosen))
    X_np = _apply_fixed(X_np, fixed)
    X_np = encoder.repair(X_np, centre)
    return _replace_repeats(make, encoder, X_np, fixed, avoid, pending, seed, device)


def _apply_fixed(X: np.ndarray, fixed: dict[int, float]) -> np.ndarray:
    for i, v in fixed.items():
        X[:, i] = v
    return X


def _replace_repeats(
    make: Callable[[np.ndarray | None], Any], encoder: Encoder, X: np.ndarray, fixed: dict[int, float],
    avoid: np.ndarray, pending: np.ndarray, seed: int, device: Any,
) -> np.ndarray:
    import torch

    taken = set(encoder.keys(avoid)) if len(avoid) else set()
    keys = encoder.keys(X)
    repeats = []
    for r, k in enumerate(keys):
        if k in taken:
            repeats.append(r)
        taken.add(k)
    if not repeats:
        return X
    logger.info("%d proposed recipe(s) repeated a measured, pending or chosen one; replacing them", len(repeats))
    pool = sample_space(encoder, 1024, seed + 7919, fixed)
    pool_keys = encoder.keys(pool)
    fresh: dict[tuple[int, ...], int] = {}
    for r, k in enumerate(pool_keys):
        if k not in taken and k not in fresh:
            fresh[k] = r
    pool = pool[list(fresh.values())]
    for r in repeats:
        if not len(pool):
            raise ProposalError(
                "no untested recipe is left to propose (every recipe the space allows with these fixed "
                "values was measured, is pending or is already in this batch); ask for fewer or widen the space"
            )
        acqf = make(np.vstack([pending, np.delete(X, r, axis=0)]))
        values = _evaluate(acqf, torch.as_tensor(pool, dtype=torch.float64, device=device))
        best = int(torch.argmax(values))
        X[r] = pool[best]
        pool = np.delete(pool, best, axis=0)
    return X


def choose_candidates(
    make: Callable[[np.ndarray | None], Any], X_candidates: np.ndarray, n: int, pending: np.ndarray, device: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy batch from a finite set: each pick maximises the acquisition given the picks before it.

    Returns:
        Row indices into ``X_candidates`` ``(n,)`` and their sequential acquisition values ``(n,)``.
    """
    import torch

    kw = {"dtype": torch.float64, "device": device}
    choices = torch.as_tensor(X_candidates, **kw)
    acqf = make(pending)
    base_pending = acqf.X_pending
    remaining = np.arange(len(X_candidates))
    picked: list[int] = []
    values: list[float] = []
    for _ in range(n):
        if picked:
            chosen = choices[picked]
            acqf.set_X_pending(chosen if base_pending is None else torch.cat([base_pending, chosen]))
        vals = _evaluate(acqf, choices[remaining])
        best = int(torch.argmax(vals))
        picked.append(int(remaining[best]))
        values.append(float(vals[best]))
        remaining = np.delete(remaining, best)
    return np.asarray(picked, dtype=int), np.asarray(values)
