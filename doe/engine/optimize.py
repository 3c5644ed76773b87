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

With one objective the search stays in a trust region: a box around the best measured
recipe, ``EngineSettings.trust_region_width`` of each continuous parameter's range wide
(discrete values and labels free), as TuRBO does (Eriksson et al., NeurIPS 2019). Without
it, a GP fitted to 10-30 recipes in 9 dimensions extrapolates trends to the bounds and the
acquisition chases them there (loading 3 wt%, no ligand); in the simulated campaign the
trust region found better coatings (``benchmarks/results/engine_variants.md``). Every
second batch of one is the model's best guess (:class:`PredictedBest`) in a box half as
wide, unless a measured, pending or chosen recipe is already there (:func:`best_guess_turn`).
Optional slots of a batch of two or more: the first tries an untried label
(``EngineSettings.explore_untried``), the last ``EngineSettings.whole_space_slots`` search
the whole space instead of the trust region.

Parameters with a lab resolution: each slot's refined recipes are rounded to their
neighbouring grid points, infeasible roundings dropped, and the acquisition evaluated again
on the rest; a refined recipe whose neighbouring grid points all break a constraint is moved
to its nearest feasible grid recipe (:meth:`doe.engine.lattice.Lattice.settle`) instead. The
slot takes the best (:mod:`doe.engine.lattice`). So the batch is built
from grid recipes, each later slot conditioned on the rounded ones before it.

A recipe that repeats a measured, pending or already chosen one is replaced by the best
untested recipe of a fresh feasible Sobol pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from doe.engine.acquisition import AcquisitionFactory
from doe.engine.design import sample_space
from doe.engine.encoding import Encoder
from doe.engine.lattice import Lattice
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


def trust_region(encoder: Encoder, centre: np.ndarray, width: float, fixed: dict[int, float]) -> np.ndarray:
    """Box ``(2, d)`` of model-space bounds: ``width`` wide around ``centre`` on the free continuous columns."""
    box = np.array(encoder.bounds, dtype=float)
    half = width / 2.0
    for i in encoder.cont_dims:
        if i not in fixed:
            box[0, i] = max(box[0, i], centre[i] - half)
            box[1, i] = min(box[1, i], centre[i] + half)
    return box


def _starts(
    acqf: Any, encoder: Encoder, fixed: dict[int, float], X_near: np.ndarray, count: int, raw: int,
    seed: int, rng: np.random.Generator, device: Any, box: np.ndarray | None = None,
) -> Any | None:
    """The ``count`` best of ``raw`` feasible Sobol recipes plus perturbations of ``X_near``.

    With a ``box``, the Sobol recipes are mapped into it and the perturbations clipped to it;
    None when fewer than ``count`` feasible recipes lie there (tight linear constraints).
    """
    import torch

    lo, hi = (encoder.bounds[0], encoder.bounds[1]) if box is None else (box[0], box[1])
    cont = encoder.cont_dims
    sobol = sample_space(encoder, raw, seed, fixed)
    if box is not None and cont:
        sobol[:, cont] = lo[cont] + sobol[:, cont] * (hi[cont] - lo[cont])
    pool = [sobol]
    if len(X_near) and cont:
        near = np.repeat(X_near, max(1, raw // (4 * len(X_near))), axis=0)[: max(raw // 4, 1)].copy()
        near[:, cont] = np.clip(near[:, cont] + rng.normal(0.0, 0.1, size=(len(near), len(cont))), lo[cont], hi[cont])
        pool.append(near)
    X_np = _apply_fixed(np.vstack(pool), fixed)
    X_np = X_np[encoder.feasible(X_np)]
    if len(X_np) < count:
        return None
    X = torch.as_tensor(X_np, dtype=torch.float64, device=device)
    values = _evaluate(acqf, X)
    order = torch.argsort(values, descending=True)
    return X[order[:count]].unsqueeze(-2)


def _continuous(
    acqf: Any, encoder: Encoder, starts: Any, fixed: dict[int, float], constraints: list[Any], maxiter: int,
    box: np.ndarray | None = None,
) -> tuple[Any, Any]:
    """L-BFGS-B (SLSQP with linear constraints) on the free numeric columns of each start.

    Discrete values and labels stay as in each start (batch-shaped fixed features); the
    numbers stay inside ``box`` (default: the space's bounds).
    """
    import torch
    from botorch.generation.gen import gen_candidates_scipy

    free = [i for i in encoder.cont_dims if i not in fixed]
    if not free:
        with torch.no_grad():
            return starts, acqf(starts)
    held = {i: starts[:, 0, i].clone() for i in range(encoder.dim) if i not in free}
    constraints = moving_constraints(constraints, set(held))
    bounds = torch.as_tensor(encoder.bounds if box is None else box, dtype=starts.dtype, device=starts.device)
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


def moving_constraints(constraints: list[Any], held: set[int]) -> list[Any]:
    """The BoTorch constraints ``(indices, coefficients, rhs)`` with a column that is not ``held``.

    A constraint on held columns only is no choice of the optimiser's: the starts already
    meet it (checked with the encoder's tolerance). Left in, BoTorch checks it exactly
    against the hair-tightened right-hand side and refuses held values on the boundary
    (``CandidateGenerationError: Inequality constraint ... not met with fixed_features``),
    e.g. a furnace time chosen at the largest the held temperature allows.
    """
    return [c for c in constraints if not {int(i) for i in c[0].reshape(-1).tolist()} <= held]


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
    make: AcquisitionFactory,
    encoder: Encoder,
    n: int,
    fixed: dict[int, float],
    avoid: np.ndarray,
    settings: EngineSettings,
    seed: int,
    device: Any,
    X_near: np.ndarray | None = None,
    pending: np.ndarray | None = None,
    best_guess_slot: bool = False,
    region_width: float | None = None,
    explore: tuple[int, float] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """``n`` model-space recipes ``(n, d)`` that maximise the acquisition (sequential greedy batch).

    For each slot: score ``raw_samples`` feasible Sobol recipes and perturbations of the
    best measured ones (``X_near``), inside the trust region when there is one; refine the
    ``num_restarts`` best with L-BFGS-B on the numeric parameters (discrete values and
    labels held); then up to ``maxiter_alternating`` rounds of local search over
    neighbouring discrete values and other labels, each improvement refined again. The
    slot's winner joins the pending recipes for the next slot. With ``best_guess_slot``, the
    last slot is the best guess where the factory has one (see the module docstring).

    Args:
        make: the acquisition factory (its incumbent centres the trust region).
        encoder: the space.
        n: batch size.
        fixed: model-space values held for the batch.
        avoid: measured and pending recipes ``(m, d)``: never proposed again.
        settings: restarts, raw samples, local-search rounds, trust region, best guess.
        seed: seeds the Sobol pools and perturbations.
        device: torch device.
        X_near: recipes to search around (e.g. the best measured ones), ``(k, d)``.
        pending: recipes proposed or running ``(m, d)``.
        best_guess_slot: make the last recipe the model's best guess (see
            :func:`best_guess_turn`).
        region_width: width of the trust region (fraction of each continuous range);
            ``None``: the whole space. Only used where the factory has an incumbent.
        explore: ``(column, model-space value)`` held in the first slot (an untried label,
            see :func:`doe.engine.trust.untried_values`); the slot is an ordinary one when
            no feasible recipe has that value.

    Returns:
        The recipes and, per recipe, how it was chosen: ``"acquisition"``, ``"best_guess"``,
        ``"explore_untried"`` or ``"whole_space"`` (a slot of ``settings.whole_space_slots``,
        searched over the whole space rather than the trust region).
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
    incumbent = make.incumbent
    region = None
    if incumbent is not None and region_width is not None:
        region = trust_region(encoder, incumbent, region_width, fixed)
    acqf = make(pending)
    base_pending = acqf.X_pending
    chosen: list[np.ndarray] = []
    how: list[str] = []
    lattice = Lattice(encoder)

    def on_grid(slot_acqf: Any, X: Any, slot: int) -> np.ndarray:
        """The best feasible grid rounding of the refined recipes ``X`` ``(k, 1, d)`` (acquisition re-checked)."""
        refined = encoder.snap(X[:, 0].cpu().numpy())
        R, owner = lattice.roundings(refined, set(fixed))
        missing = np.setdiff1d(np.arange(len(refined)), owner)
        if len(missing):  # every neighbouring grid point breaks a constraint: the nearest feasible grid recipe
            R = np.vstack([R, lattice.settle(refined[missing], set(fixed))[0]])
        if not len(R):
            logger.info("no refined recipe rounds to a feasible grid point; using a feasible grid pool")
            R = sample_space(encoder, settings.raw_samples, seed + 101 * slot + 1, fixed)
        values = _evaluate(slot_acqf, torch.as_tensor(R, **kw))
        return R[int(torch.argmax(values))]

    def search(slot_acqf: Any, box: np.ndarray | None, slot: int, fixed: dict[int, float] = fixed) -> np.ndarray:
        starts = _starts(slot_acqf, encoder, fixed, near, settings.num_restarts, settings.raw_samples,
                         seed + 101 * slot, rng, device, box)
        if starts is None:
            logger.info("too few feasible recipes in the trust region; searching the whole space for this slot")
            box = None
            starts = _starts(slot_acqf, encoder, fixed, near, settings.num_restarts, settings.raw_samples,
                             seed + 101 * slot, rng, device)
        X, values = _continuous(slot_acqf, encoder, starts, fixed, constraints, settings.lbfgs_maxiter, box)
        for _ in range(settings.maxiter_alternating):
            if not (encoder.cat_dims or encoder.discrete_dims):
                break
            best_rows = torch.argsort(values, descending=True)[: max(1, min(len(values), 3))]
            moves = _neighbours(encoder, X[best_rows, 0].cpu().numpy(), fixed)
            if not len(moves):
                break
            moves_t = torch.as_tensor(moves, **kw)
            move_values = _evaluate(slot_acqf, moves_t)
            top = torch.argsort(move_values, descending=True)[: settings.num_restarts]
            if not bool(move_values[top[0]] > values.max() + 1e-9):
                break
            refined, refined_values = _continuous(
                slot_acqf, encoder, moves_t[top].unsqueeze(-2), fixed, constraints, max(5, settings.lbfgs_maxiter // 2), box
            )
            X = torch.cat([X, refined])
            values = torch.cat([values.reshape(-1), refined_values.reshape(-1)])
        if lattice:
            return on_grid(slot_acqf, X, slot)
        return X[int(torch.argmax(values)), 0].cpu().numpy()

    for slot in range(n):
        if chosen:
            new = torch.as_tensor(np.vstack(chosen), **kw)
            acqf.set_X_pending(new if base_pending is None else torch.cat([base_pending, new]))
        best_guess = make.best_guess() if best_guess_slot and slot == n - 1 else None
        if best_guess is not None and incumbent is not None:
            x = search(best_guess, trust_region(encoder, incumbent, settings.best_guess_width, fixed), slot)
            if not _close_to_any(encoder, x, np.vstack([avoid, *chosen])):
                chosen.append(x)
                how.append("best_guess")
                continue
            logger.info("the best guess is a recipe already measured, pending or chosen; using the acquisition")
        if explore is not None and slot == 0 and n > 1:
            held = {**fixed, explore[0]: explore[1]}
            if encoder.interior_point(held) is not None:
                x = search(acqf, region, slot, held)
                if not _close_to_any(encoder, x, np.vstack([avoid, *chosen])):
                    chosen.append(x)
                    how.append("explore_untried")
                    continue
        if region is not None and n > 1 and slot >= n - settings.whole_space_slots:
            chosen.append(search(acqf, None, slot))
            how.append("whole_space")
            continue
        chosen.append(search(acqf, region, slot))
        how.append("acquisition")
    X_np = encoder.snap(np.vstack(chosen))
    X_np = _apply_fixed(X_np, fixed)
    X_np = encoder.repair(X_np, centre)
    return replace_repeats(make, encoder, X_np, fixed, avoid, pending, seed, device), how


def best_guess_turn(settings: EngineSettings, n: int, n_known: int) -> bool:
    """Whether this batch's recipe is the model's best guess (one objective).

    Only a batch of one (a sequential campaign) gets a best guess, every second time: when
    the experiments already known, finished or pending (``n_known``), are odd in number.
    One at a time, the campaign thus gets the mix of a batch of two: on the materials
    benchmarks, which reward finding all the best recipes, expected improvement alone left
    the neighbours of the best measured recipe unvisited (``benchmarks/results/materials.md``,
    row ``doe:no_alternating_best_guess``). A batch of two or more is all expected
    improvement: its joint acquisition already spends slots near the best recipe, and
    giving up one of three slots to the best guess did worse on the virtual lab
    (``benchmarks/results/engine_variants.md``).
    """
    return settings.best_guess and n == 1 and n_known % 2 == 1


def _close_to_any(encoder: Encoder, x: np.ndarray, others: np.ndarray, tolerance: float = 0.01) -> bool:
    """Whether a row of ``others`` has ``x``'s labels and discrete values and numbers within ``tolerance``."""
    if not len(others):
        return False
    snapped = encoder.snap(np.vstack([x[None, :], others]))
    x, others = snapped[0], snapped[1:]
    exact = [i for i in range(encoder.dim) if i not in encoder.cont_dims]
    same = np.all(np.abs(others[:, exact] - x[exact]) < 1e-9, axis=1) if exact else np.ones(len(others), dtype=bool)
    cont = encoder.cont_dims
    near = np.all(np.abs(others[:, cont] - x[cont]) <= tolerance, axis=1) if cont else np.ones(len(others), dtype=bool)
    return bool(np.any(same & near))


def _apply_fixed(X: np.ndarray, fixed: dict[int, float]) -> np.ndarray:
    for i, v in fixed.items():
        X[:, i] = v
    return X


def replace_repeats(
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
            held = " with the values held for this batch (fixed=, batch_shared)" if fixed else ""
            raise ProposalError(
                f"no untested recipe is left to propose (every recipe the space allows{held} was measured, is "
                "pending or is already in this batch); ask for fewer or widen the space"
            )
        acqf = make(np.vstack([pending, np.delete(X, r, axis=0)]))
        values = _evaluate(acqf, torch.as_tensor(pool, dtype=torch.float64, device=device))
        best = int(torch.argmax(values))
        X[r] = pool[best]
        pool = np.delete(pool, best, axis=0)
    return X


def choose_candidates(
    make: AcquisitionFactory, X_candidates: np.ndarray, n: int, pending: np.ndarray, device: Any,
    best_guess_slot: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """Greedy batch from a finite set: each pick maximises the acquisition given the picks before it.

    With ``best_guess_slot``, the last pick is the candidate the model expects to be best
    (where the factory has a best guess: one objective; see :func:`best_guess_turn`).

    Returns:
        Row indices into ``X_candidates`` ``(n,)`` and how each was chosen
        (``"acquisition"`` or ``"best_guess"``).
    """
    import torch

    kw = {"dtype": torch.float64, "device": device}
    choices = torch.as_tensor(X_candidates, **kw)
    acqf = make(pending)
    base_pending = acqf.X_pending
    remaining = np.arange(len(X_candidates))
    picked: list[int] = []
    how: list[str] = []
    for slot in range(n):
        if picked:
            chosen = choices[picked]
            acqf.set_X_pending(chosen if base_pending is None else torch.cat([base_pending, chosen]))
        best_guess = make.best_guess() if best_guess_slot and slot == n - 1 else None
        vals = _evaluate(acqf if best_guess is None else best_guess, choices[remaining])
        best = int(torch.argmax(vals))
        picked.append(int(remaining[best]))
        how.append("acquisition" if best_guess is None else "best_guess")
        remaining = np.delete(remaining, best)
    return np.asarray(picked, dtype=int), how
