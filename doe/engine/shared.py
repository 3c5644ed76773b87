"""Furnace-shared batches: parameters that take one value across a whole batch.

Four coated powders share one furnace run, so they share its temperature, time and
atmosphere (``CampaignConfig.batch_shared``). The batch is then one point of a reduced
space: the shared values once, then each row's own values,
``z = [shared | row 1 | ... | row n]`` (:class:`SharedLayout`). :class:`JointAcquisition`
expands ``z`` into the ``n``-recipe batch and returns the batch's joint (q-batch)
acquisition, so the shared values are chosen *together with* every row's own values, not
copied from a recipe chosen alone.

:func:`optimize_shared` maximises it as :func:`doe.engine.optimize.optimize_space` does one
slot: score feasible Sobol batches (each with one set of shared values), refine the best
with L-BFGS-B/SLSQP on every continuous entry of ``z`` (shared and per-row alike, linear
constraints applied to every row), then alternate with a local search over other labels
and neighbouring discrete values, of the shared entries and of each row's. Categorical and
discrete shared values are thus searched jointly with the rest. Gridded parameters (lab
resolution) are rounded inside the search: the shared values to each neighbouring grid
point, each row to its nearest feasible grid recipe, and the joint acquisition re-checked.
Where no neighbouring grid point of the shared values leaves feasible grid rows (a linear
constraint coupling a shared value with a gridded row value, e.g. ``x - y <= 1`` with ``y``
on 0, 4, 8 and the relaxation's optimum at ``x = 10``), the shared values move outward along
their grid, nearest first, to the nearest that do (``x = 9``), and the joint acquisition
re-checks those batches too.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from doe.engine.acquisition import AcquisitionFactory
from doe.engine.design import sample_space
from doe.engine.encoding import Encoder
from doe.engine.lattice import Lattice
from doe.engine.optimize import moving_constraints
from doe.engine.settings import EngineSettings
from doe.errors import ProposalError

logger = logging.getLogger(__name__)


class SharedLayout:
    """Positions of a batch's values in the reduced vector ``z``.

    Args:
        dim: columns of a recipe (model space).
        shared: columns with one value across the batch (in ``z`` once, first).
        n: recipes in the batch.
    """

    def __init__(self, dim: int, shared: list[int], n: int) -> None:
        self.dim = dim
        self.n = n
        self.shared = sorted(shared)
        self.own = [i for i in range(dim) if i not in self.shared]
        self.size = len(self.shared) + n * len(self.own)
        self.index = np.zeros((n, dim), dtype=int)
        for k, i in enumerate(self.shared):
            self.index[:, i] = k
        for r in range(n):
            for k, i in enumerate(self.own):
                self.index[r, i] = len(self.shared) + r * len(self.own) + k

    def positions(self, i: int) -> list[int]:
        """Every position in ``z`` of recipe column ``i`` (one if shared, else one per row)."""
        return sorted(set(self.index[:, i].tolist()))

    def expand(self, Z: np.ndarray) -> np.ndarray:
        """Batches ``(b, n, dim)`` from reduced vectors ``(b, size)``."""
        return np.asarray(Z)[..., self.index]

    def reduce(self, X: np.ndarray) -> np.ndarray:
        """Reduced vectors ``(b, size)`` from batches ``(b, n, dim)`` (shared values from row 0)."""
        X = np.asarray(X, dtype=float)
        Z = np.empty((*X.shape[:-2], self.size))
        for i in self.shared:
            Z[..., self.index[0, i]] = X[..., 0, i]
        for r in range(self.n):
            for i in self.own:
                Z[..., self.index[r, i]] = X[..., r, i]
        return Z


def _joint_class() -> Any:
    import torch

    class JointAcquisition(torch.nn.Module):
        """The q-batch acquisition of the batch that a reduced vector ``z`` stands for.

        ``forward(Z)`` takes ``(b, 1, size)`` (BoTorch's one-point shape, as the optimiser
        calls it) and returns ``(b,)``: ``acqf`` of the expanded ``(b, n, dim)`` batches.
        """

        def __init__(self, acqf: Any, layout: SharedLayout) -> None:
            super().__init__()
            self.acqf = acqf
            self.layout = layout
            self.register_buffer("index", torch.as_tensor(layout.index, dtype=torch.long))
            self.X_pending = None

        def forward(self, Z: Any) -> Any:
            return self.acqf(Z[..., 0, :][..., self.index])

    return JointAcquisition


def joint_acquisition(acqf: Any, layout: SharedLayout) -> Any:
    """A :class:`JointAcquisition` (torch module) of ``acqf`` over ``layout``."""
    return _joint_class()(acqf, layout)


def _evaluate(joint: Any, Z: np.ndarray, device: Any, chunk: int = 128) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        for s in range(0, len(Z), chunk):
            Zt = torch.as_tensor(Z[s : s + chunk], dtype=torch.float64, device=device).unsqueeze(-2)
            out.append(joint(Zt).reshape(-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def outward_rings(lines: list[np.ndarray], late: list[int]) -> Any:
    """Rings of value combinations, one array ``(k, len(lines))`` per ring, from each line's
    values ordered outward (nearest first). Ring 1 takes the first two values of a line with
    ``late`` 0 (a grid: its two neighbouring grid points) and only the first of a line with
    ``late`` 1 (no grid: its own value); ring ``r`` adds the combinations that reach position
    ``r - late`` of some line."""
    last = max(2, *(len(line) + k for line, k in zip(lines, late, strict=True)))
    for ring in range(1, last):
        ranks = [range(max(1, min(ring + 1 - k, len(line)))) for line, k in zip(lines, late, strict=True)]
        combos = [c for c in itertools.product(*ranks)
                  if ring == 1 or any(ci == ring - k for ci, k in zip(c, late, strict=True))]
        if combos:
            yield np.array([[line[k] for line, k in zip(lines, c, strict=True)] for c in combos])


class _Search:
    """One joint search; holds the pieces the steps share."""

    def __init__(self, encoder: Encoder, layout: SharedLayout, fixed: dict[int, float], joint: Any,
                 settings: EngineSettings, device: Any) -> None:
        self.shared_in_box = settings.shared_region == "trust_region"
        self.encoder = encoder
        self.layout = layout
        self.fixed = fixed
        self.joint = joint
        self.settings = settings
        self.device = device
        self.free = sorted(
            {p for i in encoder.cont_dims if i not in fixed for p in layout.positions(i)}
        )

    def feasible(self, Z: np.ndarray) -> np.ndarray:
        X = self.layout.expand(Z).reshape(-1, self.encoder.dim)
        return np.asarray(self.encoder.feasible(X).reshape(len(Z), self.layout.n).all(axis=1))

    def z_bounds(self, box: np.ndarray | None) -> np.ndarray:
        """Bounds of ``z``: the trust region on each row's own values; the shared values range
        over the whole space (``EngineSettings.shared_region="space"``) or the trust region too
        (``"trust_region"``; the grid rounding afterwards may move a value one grid step out)."""
        b = np.array(self.encoder.bounds if box is None else box, dtype=float)
        out = np.zeros((2, self.layout.size))
        for i in range(self.encoder.dim):
            whole = i in self.layout.shared and not self.shared_in_box
            for p in self.layout.positions(i):
                out[:, p] = self.encoder.bounds[:, i] if whole else b[:, i]
        return out

    def constraints(self) -> list[tuple[Any, Any, float]]:
        """Every linear constraint once per row, in ``z`` positions (BoTorch's ``>=`` form)."""
        import torch

        out = []
        seen = set()
        for con in self.encoder.linear_constraints:
            scale = max(1.0, abs(con.rhs), sum(abs(a) for a in con.coefficients))
            for r in range(self.layout.n):
                idx = tuple(int(self.layout.index[r, i]) for i in con.indices)
                if (idx, con.text) in seen:
                    continue  # a constraint on shared columns only: once
                seen.add((idx, con.text))
                out.append((
                    torch.tensor(idx, dtype=torch.long, device=self.device),
                    -torch.tensor(con.coefficients, dtype=torch.float64, device=self.device),
                    -(con.rhs - 1e-7 * scale),
                ))
        return out

    def refine(self, Z: np.ndarray, box: np.ndarray | None, maxiter: int) -> tuple[np.ndarray, np.ndarray]:
        """L-BFGS-B (SLSQP with linear constraints) on the free continuous entries of each ``z``."""
        import torch
        from botorch.generation.gen import gen_candidates_scipy

        if not self.free:
            return Z, _evaluate(self.joint, Z, self.device)
        box_z = self.z_bounds(box)
        Z_in = np.array(Z, dtype=float, copy=True)  # a grid rounding may lie a step outside the box
        Z_in[:, self.free] = np.clip(Z_in[:, self.free], box_z[0, self.free], box_z[1, self.free])
        starts = torch.as_tensor(Z_in, dtype=torch.float64, device=self.device).unsqueeze(-2)
        held = {p: starts[:, 0, p].clone() for p in range(self.layout.size) if p not in self.free}
        bounds = torch.as_tensor(box_z, dtype=torch.float64, device=self.device)
        constraints = moving_constraints(self.constraints(), set(held))
        X, _values = gen_candidates_scipy(
            initial_conditions=starts,
            acquisition_function=self.joint,
            lower_bounds=bounds[0],
            upper_bounds=bounds[1],
            inequality_constraints=constraints or None,
            options={"maxiter": maxiter, **({"max_optimization_problem_aggregation_size": 1} if constraints else {})},
            fixed_features=held or None,
        )
        Z_new = X.detach()[:, 0].cpu().numpy()
        ok = self.feasible(Z_new)
        Z_new[~ok] = Z[~ok]  # a step that left the constraints: keep its start
        return Z_new, _evaluate(self.joint, Z_new, self.device)

    def neighbours(self, Z: np.ndarray) -> np.ndarray:
        """Every ``z`` that differs from a row of ``Z`` in one label or one discrete step (shared or own)."""
        out = []
        for z in Z:
            for i, labels in self.encoder.cat_dims.items():
                if i in self.fixed:
                    continue
                for p in self.layout.positions(i):
                    for k in labels:
                        if k != z[p]:
                            new = z.copy()
                            new[p] = k
                            out.append(new)
            for i, values in self.encoder.discrete_dims.items():
                if i in self.fixed:
                    continue
                grid = np.asarray(values)
                for p in self.layout.positions(i):
                    j = int(np.abs(grid - z[p]).argmin())
                    for step in (-2, -1, 1, 2):
                        if 0 <= j + step < len(grid):
                            new = z.copy()
                            new[p] = grid[j + step]
                            out.append(new)
        Z_out = np.asarray(out).reshape(-1, self.layout.size)
        return Z_out[self.feasible(Z_out)] if len(Z_out) else Z_out

    def round(self, Z: np.ndarray, lattice: Lattice) -> tuple[np.ndarray, np.ndarray]:
        """Grid roundings of each ``z`` (:meth:`grid_batches`), as reduced vectors and their joint
        acquisition values."""
        layout = self.layout
        out = [layout.reduce(B[None, :, :])[0] for z in Z for B in self.grid_batches(layout.expand(z[None, :])[0], lattice)]
        Z_out = np.asarray(out).reshape(-1, layout.size)
        return Z_out, _evaluate(self.joint, Z_out, self.device)

    def grid_batches(self, X: np.ndarray, lattice: Lattice) -> list[np.ndarray]:
        """Grid batches ``(n, d)`` near the batch ``X``: its shared values at each neighbouring grid
        point inside the bounds, rows on their nearest feasible grid recipes (:meth:`rows_for`).
        Where no neighbouring shared values leave feasible grid rows (a constraint coupling a shared
        value with a gridded row value), the shared values move outward, ring by ring (grid points
        of gridded ones, nearest first; steps toward the interior point for the others), to the
        nearest that do; every batch of that ring that has rows is returned (none when no shared
        values within :data:`MAX_OUTWARD` combinations do)."""
        free = [i for i in self.layout.shared if i not in self.fixed and i in self.encoder.cont_dims]
        if not free:
            R = self.rows_for(X, lattice)
            return [] if R is None else [R]
        centre = self.encoder.interior_point(self.fixed)
        lines, late = [], []  # late: 1 for a line without a grid, which keeps its own value in ring 1
        for i in free:
            u = float(X[0, i])
            if i in lattice.dims:
                lines.append(lattice.outward(i, u))
                late.append(0)
            else:  # no grid: the value itself, then (from ring 2) steps toward the interior point
                c = u if centre is None else float(centre[i])
                lines.append(u + np.linspace(0.0, 1.0, SHARED_STEPS + 1) * (c - u))
                late.append(1)
        span = self.encoder.bounds[1, free] - self.encoder.bounds[0, free]
        tried, found = 0, []
        for ring, values in enumerate(outward_rings(lines, late), start=1):
            values = values[np.argsort(np.abs((values - X[0, free]) / np.maximum(span, 1e-12)).sum(axis=1), kind="stable")]
            values = values[: 16 if ring == 1 else MAX_OUTWARD - tried]
            for v in values:
                B = X.copy()
                B[:, free] = v
                R = self.rows_for(B, lattice)
                if R is not None:
                    found.append(R)
            tried += len(values)
            if found or tried >= MAX_OUTWARD:
                break
        return found

    def rows_for(self, B: np.ndarray, lattice: Lattice) -> np.ndarray | None:
        """The batch ``B`` ``(n, d)`` (shared values held) with each row on its nearest feasible
        grid recipe (:meth:`doe.engine.lattice.Lattice.settle`: a row whose own values break a
        linear constraint with the new shared values, e.g. a shared value rounded down leaves a
        coupled row value too high, is first walked toward the interior point), or None when a
        row has none."""
        held = set(self.fixed) | set(self.layout.shared)
        if self.encoder.interior_point({i: float(B[0, i]) for i in held}) is None:
            return None
        R, _ = lattice.settle(B, held)
        return R if len(R) == len(B) else None


def optimize_shared(
    make: AcquisitionFactory,
    encoder: Encoder,
    n: int,
    shared: list[int],
    fixed: dict[int, float],
    settings: EngineSettings,
    seed: int,
    device: Any,
    pending: np.ndarray | None = None,
    box: np.ndarray | None = None,
    per_row: Callable[[dict[int, float]], np.ndarray] | None = None,
    also_shared: np.ndarray | None = None,
    joint_rows: int | None = None,
) -> np.ndarray:
    """``n`` model-space recipes ``(n, d)`` with one value of each ``shared`` column, maximising the
    batch's joint acquisition over the shared and per-row values together.

    Args:
        make: the acquisition factory.
        encoder: the space.
        n: batch size (>= 2).
        shared: columns with one value across the batch (fixed columns are held as given).
        fixed: model-space values held for the batch.
        settings: restarts, raw samples, local-search rounds, ``shared_region``.
        seed: seeds the Sobol pools.
        device: torch device.
        pending: recipes proposed or running ``(m, d)``; they keep their own shared values.
        box: a trust region ``(2, d)`` for the continuous values, or None.
        per_row: ``fixed -> (n, d)``: the per-row search (the sequential greedy batch of
            :func:`doe.engine.optimize.optimize_space`) with the given values held. When
            given, the best shared values of the joint search are held while it places the
            rows, and that batch is refined jointly once more (a round of coordinate ascent:
            the joint q-batch gradient alone moves the rows that are not the batch's best
            little); the batch with the best joint acquisition wins.
        also_shared: recipes ``(k, d)`` whose shared values are tried as well, each as the
            joint search's best ones are (held while ``per_row`` places the rows, then refined
            jointly): e.g. the best single recipe (``EngineSettings.shared_search="both"``).
            Only with ``per_row``.
        joint_rows: the rows of the joint search when fewer than ``n`` (only with ``per_row``):
            the shared values are those of the best joint batch of that many rows, and
            ``per_row`` places all ``n`` rows with them held. The hypervolume acquisition of
            several objectives costs ``2^q`` in the batch size (a joint batch of 12 took
            minutes), so :func:`doe.engine.propose.propose` caps it (:data:`MAX_JOINT_HYPERVOLUME`).

    Returns:
        The batch, every row with the same shared values, on the grid where a parameter has
        a resolution, inside the bounds and the linear constraints.
    """
    if also_shared is not None and per_row is None:
        raise ValueError("optimize_shared: also_shared needs per_row (the rows are placed for each shared value)")
    full, n = n, n if joint_rows is None or per_row is None else max(2, min(n, joint_rows))
    shared_all = sorted(set(shared) | set(fixed))
    layout = SharedLayout(encoder.dim, shared_all, n)
    pending = np.zeros((0, encoder.dim)) if pending is None else np.asarray(pending, dtype=float)
    joint = joint_acquisition(make(pending if len(pending) else None), layout)
    search = _Search(encoder, layout, fixed, joint, settings, device)
    lattice = Lattice(encoder)

    def starts(region: np.ndarray | None) -> np.ndarray:
        raw = max(settings.raw_samples // 2, 4 * settings.num_restarts)
        X = sample_space(encoder, raw * n, seed, fixed).reshape(raw, n, encoder.dim)
        if region is not None:
            boxed = [i for i in encoder.cont_dims if i not in fixed and (search.shared_in_box or i not in shared_all)]
            X[..., boxed] = region[0, boxed] + X[..., boxed] * (region[1, boxed] - region[0, boxed])
        X[:, :, shared_all] = X[:, :1, shared_all]  # one set of shared values per start batch
        Z = layout.reduce(X)
        Z = Z[search.feasible(Z)]
        if len(Z) < settings.num_restarts and region is None:
            # a constraint that the copied shared values break in the other rows (a mixture's
            # a + b + c = 1 with a shared): rows drawn with each start's shared values held
            held = [{**fixed, **{i: float(x[0, i]) for i in shared_all}} for x in X[: settings.num_restarts]]
            extra = [layout.reduce(sample_space(encoder, n, seed + k, h)[None, :, :]) for k, h in enumerate(held)]
            Z = np.vstack([Z, *extra])
            Z = Z[search.feasible(Z)]
        return Z

    Z = starts(box)
    if len(Z) < settings.num_restarts and box is not None:
        logger.info("too few feasible shared batches in the trust region; searching the whole space")
        box = None
        Z = starts(None)
    if not len(Z):
        Z = starts(None)
    if not len(Z):
        raise ProposalError(f"batch_shared: no batch of {n} recipes with one value of "
                            f"{[encoder.names[i] for i in shared]} was found inside the linear constraints; relax a "
                            "constraint or suggest fewer per batch")
    values = _evaluate(joint, Z, device)
    top = np.argsort(-values)[: settings.num_restarts]
    Z, values = search.refine(Z[top], box, settings.lbfgs_maxiter)
    for _ in range(settings.maxiter_alternating):
        if not (encoder.cat_dims or encoder.discrete_dims):
            break
        best = np.argsort(-values)[: max(1, min(len(values), 3))]
        moves = search.neighbours(Z[best])
        if not len(moves):
            break
        move_values = _evaluate(joint, moves, device)
        top = np.argsort(-move_values)[: settings.num_restarts]
        if not move_values[top[0]] > values.max() + 1e-9:
            break
        refined, refined_values = search.refine(moves[top], box, max(5, settings.lbfgs_maxiter // 2))
        Z = np.vstack([Z, refined])
        values = np.concatenate([values, refined_values])
    if per_row is not None:
        heads = [layout.expand(Z[int(np.argmax(values))][None, :])[0, :1]]
        heads += [np.asarray(x, dtype=float)[None, :] for x in ([] if also_shared is None else also_shared)]
        for x0 in heads:
            if lattice:  # the held shared values on the grid, the nearest that leave feasible grid rows
                batches = search.grid_batches(np.repeat(x0, n, axis=0), lattice)
                x0 = batches[0][:1] if batches else _nearest_grid(x0, lattice, [i for i in layout.shared if i not in fixed])
            held = {**fixed, **{i: float(x0[0, i]) for i in layout.shared if i not in fixed}}
            try:
                rows = per_row(held)
            except ProposalError as err:  # shared values of the relaxation that leave no (grid) rows
                logger.info("the shared values %s leave no feasible rows (%s); that batch is left out", held, err)
                continue
            Z_rows = layout.reduce(np.asarray(rows, dtype=float)[None, :n, :])
            if search.feasible(Z_rows)[0]:
                Z_joint, joint_values = search.refine(Z_rows, box, settings.lbfgs_maxiter)
                Z = np.vstack([Z, Z_rows, Z_joint])
                values = np.concatenate([values, _evaluate(joint, Z_rows, device), joint_values])
            else:
                logger.info("the rows placed for the shared values %s break a constraint; that batch is left out", held)
    if lattice:
        order = np.argsort(-values)[: settings.num_restarts]
        Z_grid, grid_values = search.round(Z[order], lattice)
        if len(Z_grid):
            Z, values = Z_grid, grid_values
        else:
            logger.info("no refined shared batch rounds to feasible grid recipes; using the best grid start")
            Z = starts(None)
            values = _evaluate(joint, Z, device)
    if not len(Z):
        names = [encoder.names[i] for i in shared]
        raise ProposalError(f"batch_shared: no batch of {n} recipes with one value of {names} was found that keeps "
                            "every row inside the linear constraints (and on the resolution grid); relax a "
                            "constraint or suggest fewer per batch")
    X = layout.expand(Z[int(np.argmax(values))][None, :])[0]
    if n < full and per_row is not None:  # the best joint sub-batch's shared values; every row placed with them
        X = np.asarray(per_row({**fixed, **{i: float(X[0, i]) for i in layout.shared if i not in fixed}}), dtype=float)
    return np.asarray(encoder.snap(X))


def _nearest_grid(x: np.ndarray, lattice: Lattice, columns: list[int]) -> np.ndarray:
    """``x`` ``(1, d)`` with each gridded one of ``columns`` at its nearest grid point inside the bounds."""
    out = np.array(x, dtype=float, copy=True)
    for i in columns:
        if i in lattice.dims:
            out[0, i] = lattice.grid_points(i, float(out[0, i]))[0]
    return out


MAX_OUTWARD = 256
"""At most this many combinations of shared values are tried per batch when the neighbouring
grid points of its shared values leave no feasible grid rows (:meth:`_Search.grid_batches`)."""

SHARED_STEPS = 64
"""Steps toward the interior point for a shared value without a grid in that outward search."""


MAX_JOINT_HYPERVOLUME = 8
"""Rows of the joint shared search with several objectives (hypervolume: ``2^q`` in the batch)."""


__all__ = ["MAX_JOINT_HYPERVOLUME", "SharedLayout", "joint_acquisition", "optimize_shared", "outward_rings"]
