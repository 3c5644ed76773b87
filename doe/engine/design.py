"""Space-filling designs: seeded scrambled Sobol points that respect the whole search space.

Sobol points in the model space are mapped to allowed discrete values and labels, fixed
values are applied, and points that break a linear constraint are rejected; when the
constraints leave too small a share of the box for rejection, the continuous part is drawn
with BoTorch's hit-and-run polytope sampler instead. The initial design picks, from such a
pool, the recipes farthest from everything already measured, failed or pending (greedy
maximin), so repeated initial batches keep filling the space.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np

from doe.engine.encoding import Encoder
from doe.engine.lattice import Lattice
from doe.errors import ProposalError

logger = logging.getLogger(__name__)

MAX_ENUMERATE = 20_000
"""A space without continuous parameters and at most this many recipes is enumerated."""


def _map_unit(encoder: Encoder, u: np.ndarray) -> np.ndarray:
    X = u.copy()
    for i, values in encoder.cat_dims.items():
        X[:, i] = np.floor(u[:, i] * len(values))
    for i, values in encoder.discrete_dims.items():
        X[:, i] = np.asarray(values)[np.floor(u[:, i] * len(values)).clip(0, len(values) - 1).astype(int)]
    return encoder.snap(X)


def _apply_fixed(X: np.ndarray, fixed: dict[int, float]) -> np.ndarray:
    for i, v in fixed.items():
        X[:, i] = v
    return X


def _enumerate(encoder: Encoder, fixed: dict[int, float]) -> np.ndarray | None:
    if encoder.cont_dims:
        return None
    levels = []
    for i in range(encoder.dim):
        if i in fixed:
            levels.append([fixed[i]])
        else:
            levels.append(encoder.cat_dims.get(i) or encoder.discrete_dims[i])
    if np.prod([len(v) for v in levels], dtype=float) > MAX_ENUMERATE:
        return None
    return np.array(list(itertools.product(*levels)), dtype=float).reshape(-1, encoder.dim)


def sample_space(encoder: Encoder, n: int, seed: int, fixed: dict[int, float] | None = None) -> np.ndarray:
    """``n`` seeded space-filling recipes in the model space, ``(n, d)``.

    Every row is inside the bounds, on allowed discrete values and labels, on the lab's
    resolution grid (nearest feasible grid point, :class:`doe.engine.lattice.Lattice`), equal
    to ``fixed`` (model-space value per dimension) and satisfies every linear constraint.
    Rows may repeat only in spaces with few recipes.
    """
    from torch.quasirandom import SobolEngine

    fixed = dict(fixed or {})
    lattice = Lattice(encoder)
    engine = SobolEngine(encoder.dim, scramble=True, seed=seed)
    kept: list[np.ndarray] = []
    count = 0
    drawn = 0
    batch = max(64, 2 * n)
    while count < n and drawn < 32_768:
        X = _apply_fixed(_map_unit(encoder, engine.draw(batch).double().numpy()), fixed)
        drawn += batch
        X = lattice.nearest(X, set(fixed))[0] if lattice else X[encoder.feasible(X)]
        kept.append(X)
        count += len(X)
    if count >= n:
        return np.vstack(kept)[:n]
    X = _sample_polytope(encoder, n, seed, fixed)
    if lattice:
        X = lattice.nearest(X, set(fixed))[0]
        if not len(X):
            raise ProposalError(
                "no recipe on the parameters' resolution grid satisfies the linear constraints (with the fixed "
                "values); use a finer resolution or relax a constraint"
            )
        X = X[np.arange(n) % len(X)]
    return X


def _sample_polytope(encoder: Encoder, n: int, seed: int, fixed: dict[int, float]) -> np.ndarray:
    """Hit-and-run on the continuous dims (for tight linear constraints), Sobol elsewhere."""
    import torch
    from botorch.utils.sampling import get_polytope_samples
    from torch.quasirandom import SobolEngine

    logger.info("linear constraints leave little of the box: sampling the polytope by hit-and-run")
    X = _apply_fixed(_map_unit(encoder, SobolEngine(encoder.dim, scramble=True, seed=seed).draw(n).double().numpy()), fixed)
    free = [i for i in encoder.cont_dims if i not in fixed]
    if encoder.interior_point(fixed) is None:
        raise ProposalError("no recipe satisfies the linear constraints together with the fixed values; relax one of them")
    constraints = []
    for con in encoder.linear_constraints:
        rhs = con.rhs
        idx, coef = [], []
        for i, a in zip(con.indices, con.coefficients, strict=True):
            if i in free:
                idx.append(free.index(i))
                coef.append(a)
            else:
                rhs -= a * X[0, i]
        if idx:
            constraints.append((torch.tensor(idx), -torch.tensor(coef, dtype=torch.float64), -rhs))
    bounds = torch.stack([torch.zeros(len(free)), torch.ones(len(free))]).double()
    samples = get_polytope_samples(
        n=n, bounds=bounds, inequality_constraints=constraints or None, seed=seed, n_burnin=1000, n_thinning=16
    )
    X[:, free] = samples.numpy()
    centre = encoder.interior_point(fixed)
    assert centre is not None
    return encoder.repair(X, centre)


def untested_pool(
    encoder: Encoder,
    n: int,
    existing: np.ndarray,
    seed: int,
    fixed: dict[int, float] | None = None,
    pool: np.ndarray | None = None,
) -> np.ndarray:
    """The distinct rows of ``pool`` that are not among ``existing`` ``(m, d)``, in pool order.

    Without ``pool``: every feasible recipe of a space without continuous parameters (up to
    :data:`MAX_ENUMERATE`, seeded order), else :func:`sample_space` of ``max(64, 16 n + m)``
    recipes, so a coarse grid or a small discrete space shows how many untested recipes it has.
    """
    fixed = dict(fixed or {})
    if pool is None:
        pool = _enumerate(encoder, fixed)
        if pool is not None:
            pool = pool[encoder.feasible(pool)]
            pool = pool[np.random.default_rng(seed).permutation(len(pool))]
        else:
            pool = sample_space(encoder, max(64, 16 * n + len(existing)), seed, fixed)
    taken = set(encoder.keys(existing)) if len(existing) else set()
    keys = encoder.keys(pool) if len(pool) else []
    unique: dict[tuple[int, ...], int] = {}
    for r, k in enumerate(keys):
        if k not in taken and k not in unique:
            unique[k] = r
    return pool[list(unique.values())]


def initial_design(
    encoder: Encoder,
    n: int,
    existing: np.ndarray,
    seed: int,
    fixed: dict[int, float] | None = None,
    pool: np.ndarray | None = None,
    asked: int | None = None,
) -> np.ndarray:
    """``n`` recipes (model space) that fill the space around ``existing`` ``(m, d)`` rows.

    Greedy maximin: each next recipe is the pool point farthest (in
    :meth:`Encoder.to_features` distance) from all existing and already chosen recipes.
    With nothing existing, the first point is the pool's first Sobol point.

    Args:
        encoder: the space.
        n: recipes to choose.
        existing: measured, failed and pending recipes to stay away from (and never repeat).
        seed: seeds the Sobol pool.
        fixed: model-space values held for the batch.
        pool: choose from these rows instead of a Sobol pool (a finite candidate set).
        asked: the batch size the error names (default ``n``): the user's batch when this
            draw picks one recipe of it (the furnace programme of a ``batch_shared`` batch).

    Raises:
        ProposalError: fewer than ``n`` untested recipes remain.
    """
    pool = untested_pool(encoder, n, existing, seed, fixed, pool)
    if len(pool) < n:
        raise ProposalError(
            f"only {len(pool)} untested recipe(s) remain in the search space (with "
            f"{'the values held for this batch and ' if fixed else ''}the constraints), but {n if asked is None else asked} were asked for; ask for fewer or widen the space"
        )
    F = encoder.to_features(pool)
    if len(existing):
        E = encoder.to_features(existing)
        d_min = np.sqrt(((F[:, None, :] - E[None, :, :]) ** 2).sum(-1)).min(axis=1)
    else:
        d_min = np.full(len(pool), np.inf)
    chosen: list[int] = []
    for _ in range(n):
        r = int(np.argmax(d_min)) if np.isfinite(d_min).any() else 0
        chosen.append(r)
        d_min = np.minimum(d_min, np.sqrt(((F - F[r]) ** 2).sum(-1)))
        d_min[chosen] = -np.inf
    return pool[chosen]
