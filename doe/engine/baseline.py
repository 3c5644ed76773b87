"""Pruning a large baseline before BoTorch does: a cheap, conservative first pass.

Noisy acquisitions (qLogNEI, qLogNEHVI) integrate over the recipes that may be the best
measured so far (the baseline). BoTorch prunes the baseline by sampling the *joint*
posterior of all of it (``prune_inferior_points``): an ``n x n`` covariance and its Cholesky
factor per outcome, 2,048 samples of ``n`` points, which at n = 5,000 costs minutes and
gigabytes. Most of those recipes are clearly worse than another in every objective: this
module drops them first from the *marginal* posteriors (O(n) memory per outcome), so
BoTorch's exact pruning sees a few hundred recipes at most.

A recipe is dropped when another recipe that meets every outcome constraint even at its
pessimistic bound scores better in every objective at its pessimistic bound than the first
does at its optimistic one (bounds: posterior mean -/+ :data:`SIGMAS` sd). Such a recipe has
a probability below about 1e-5 of being better in any one objective, far below one in
BoTorch's 2,048 samples, so BoTorch's pruning would have dropped it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

SIGMAS = 4.0
"""Posterior sds on either side of the mean that a recipe's score bounds span."""
MIN_ROWS = 300
"""Baselines of at most this many recipes go to BoTorch unchanged (small campaigns: same batches as before)."""
MAX_KEPT = 256
"""Most recipes kept: beyond this the ones with the best optimistic scores (sum of ranks)."""


def dominated(lower: Tensor, upper: Tensor, certain: Tensor, chunk: int = 1024) -> Tensor:
    """Recipes surely worse than another in every objective.

    Args:
        lower: pessimistic scores ``(n, k)`` (larger is better).
        upper: optimistic scores ``(n, k)``.
        certain: ``(n,)`` bool: recipes that meet every outcome constraint even pessimistically
            (only these may dominate).

    Returns:
        ``(n,)`` bool, on the device of the inputs.
    """
    import torch

    rivals = lower[certain]  # (r, k)
    out = torch.zeros(len(upper), dtype=torch.bool, device=upper.device)
    if not len(rivals):
        return out
    for s in range(0, len(upper), chunk):
        block = upper[s : s + chunk]
        out[s : s + chunk] = (rivals.unsqueeze(0) > block.unsqueeze(1)).all(-1).any(-1)
    return out


def keep_rows(lower: Tensor, upper: Tensor, certain: Tensor, max_kept: int = MAX_KEPT) -> Tensor:
    """Indices ``(n',)`` of the recipes to keep: not :func:`dominated`, at most ``max_kept``
    (those with the best sum over objectives of the optimistic score's rank)."""

    keep = (~dominated(lower, upper, certain)).nonzero().reshape(-1)
    if len(keep) > max_kept:
        ranks = upper[keep].argsort(0).argsort(0).to(upper.dtype).sum(-1)
        keep = keep[ranks.argsort(descending=True)[:max_kept]].sort().values
    return keep


__all__ = ["MAX_KEPT", "MIN_ROWS", "SIGMAS", "dominated", "keep_rows"]
