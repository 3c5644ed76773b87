"""The BoTorch view of doe's exact GPs: a ``Model`` and its ``Posterior``.

BoTorch's acquisition functions and optimisers see the independent per-outcome
:class:`~doe.engine.gp.ExactGP` models through :class:`GPModel`, whose ``posterior`` is an
:class:`IndependentGaussianPosterior` (a joint Gaussian over the ``q`` recipes of a batch for
each outcome, outcomes independent). BoTorch's QMC samplers work on it unchanged: the sampler
for this posterior is registered with BoTorch's ``GetSampler`` dispatcher once, when this
module is imported.

This module imports torch and BoTorch at the top; the rest of the engine imports it only
where an acquisition is built, so that ``import doe`` stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from botorch.models.model import Model
from botorch.posteriors.posterior import Posterior
from botorch.sampling.base import MCSampler
from botorch.sampling.get_sampler import GetSampler
from botorch.sampling.normal import IIDNormalSampler, SobolQMCNormalSampler
from torch import Tensor
from torch.quasirandom import SobolEngine

from doe.engine.gp import ExactGP
from doe.errors import ProposalError

JITTERS = tuple(10.0**k for k in range(-10, 0))
"""Jitters tried by :func:`safe_cholesky`, relative to the mean variance: 1e-10 to 1e-1."""


class IndependentGaussianPosterior(Posterior):
    """Joint Gaussian over ``q`` points for each of ``m`` independent outputs.

    Args:
        mean: ``(batch, q, m)``.
        scale_tril: Cholesky factors of the covariances, ``(batch, m, q, q)``.
        variance: ``(batch, q, m)``.

    Base samples have the shape ``(sample, batch, q, m)`` like BoTorch's multi-output
    GPyTorch posteriors, so BoTorch's QMC samplers and cached baseline samples work unchanged.
    """

    def __init__(self, mean: Tensor, scale_tril: Tensor, variance: Tensor) -> None:
        self._mean = mean
        self._scale_tril = scale_tril
        self._variance = variance

    @property
    def mean(self) -> Tensor:
        return self._mean

    @property
    def variance(self) -> Tensor:
        return self._variance

    @property
    def device(self) -> torch.device:
        return self._mean.device

    @property
    def dtype(self) -> torch.dtype:
        return self._mean.dtype

    @property
    def batch_shape(self) -> torch.Size:
        return self._mean.shape[:-2]

    @property
    def base_sample_shape(self) -> torch.Size:
        return self._mean.shape

    @property
    def batch_range(self) -> tuple[int, int]:
        return (0, -2)

    def _extended_shape(self, sample_shape: torch.Size = torch.Size()) -> torch.Size:  # noqa: B008
        return torch.Size(sample_shape) + self._mean.shape

    def rsample_from_base_samples(self, sample_shape: torch.Size, base_samples: Tensor) -> Tensor:
        # one matrix product per (batch, output): (q, q) @ (q, samples)
        eps = base_samples.expand(torch.Size(sample_shape) + self._mean.shape)
        eps = eps.reshape(-1, *self._mean.shape)  # (S, batch, q, m)
        eps = eps.permute(*range(1, eps.dim() - 1), eps.dim() - 1, 0)  # (batch, q, m, S)
        eps = eps.transpose(-3, -2)  # (batch, m, q, S)
        draws = self._scale_tril @ eps  # (batch, m, q, S)
        draws = draws.transpose(-3, -2)  # (batch, q, m, S)
        draws = draws.permute(draws.dim() - 1, *range(draws.dim() - 1))  # (S, batch, q, m)
        draws = draws.reshape(torch.Size(sample_shape) + self._mean.shape)
        return self._mean + draws

    def rsample(self, sample_shape: torch.Size | None = None) -> Tensor:
        shape = torch.Size(sample_shape or torch.Size([1]))
        eps = torch.randn(shape + self._mean.shape, dtype=self.dtype, device=self.device)
        return self.rsample_from_base_samples(shape, eps)


@GetSampler.register(IndependentGaussianPosterior)
def _get_sampler(posterior: IndependentGaussianPosterior, sample_shape: torch.Size, *,
                 seed: int | None = None) -> MCSampler:
    """Sobol QMC samples, or i.i.d. normal ones when a sample has more dimensions than Sobol allows.

    A base sample covers the non-batch dimensions of ``base_sample_shape`` (``q * m``; the
    batch dimensions in ``batch_range`` share their base samples).
    """
    _, batch_end = posterior.batch_range
    dims = posterior.base_sample_shape[batch_end:].numel()
    if dims > SobolEngine.MAXDIM:
        return IIDNormalSampler(sample_shape=sample_shape, seed=seed)
    return SobolQMCNormalSampler(sample_shape=sample_shape, seed=seed)


def safe_cholesky(cov: Tensor) -> Tensor:
    """Lower Cholesky factor of ``cov (..., q, q)``, adding jitter where needed.

    Tries the matrix as it is, then adds :data:`JITTERS` times its mean variance to the
    diagonal (per batch, 1e-10 to 1e-1) until every factor succeeds.

    Raises:
        ProposalError: some covariance is not positive definite even with the largest jitter
            (it then usually holds NaN or infinite values).
    """
    return safe_choleskys([cov])[0]


def safe_choleskys(covs: Sequence[Tensor]) -> list[Tensor]:
    """:func:`safe_cholesky` of each of ``covs``, checked on the host once for all of them.

    Each matrix is factorised on its own (a batched factorisation of all outputs together
    differs in the last bits and would change the batches proposed), and the jitter of one
    output goes to all its matrices, as in :func:`safe_cholesky`.
    """
    factors = [torch.linalg.cholesky_ex(cov) for cov in covs]
    failed = torch.stack([info.any() for _, info in factors]).tolist()  # one copy to the host
    return [_jittered_cholesky(cov) if bad else L for cov, (L, _), bad in zip(covs, factors, failed, strict=True)]


def _jittered_cholesky(cov: Tensor) -> Tensor:
    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    scale = cov.diagonal(dim1=-2, dim2=-1).mean(-1, keepdim=True).unsqueeze(-1).clamp_min(1e-30)
    for jitter in JITTERS:
        L, info = torch.linalg.cholesky_ex(cov + jitter * scale * eye)
        if not bool(info.any()):
            return L
    finite = bool(torch.isfinite(cov).all())
    raise ProposalError(
        f"the model's posterior covariance of a batch is not positive definite even with a jitter of "
        f"{JITTERS[-1]:g} times its mean variance ({'finite values' if finite else 'it holds NaN or infinite values'}); "
        "this is a numerical failure of the GP: check the measurements for extreme values or retry with another seed"
    )


def shared_prefix(X: Tensor) -> int:
    """Leading rows shared by every batch of ``X (b, q, d)`` (0 unless worth caching)."""
    if X.dim() != 3 or X.shape[0] < 2 or X.shape[1] < 3:
        return 0
    same = (X[:1] == X).all(-1).all(0).tolist()  # one copy of q flags to the host
    if all(same):
        return 0
    p = same.index(False)
    return p if 2 <= p < X.shape[1] else 0


class GPModel(Model):
    """Independent exact GPs as one multi-output BoTorch model (no fantasies).

    Args:
        gps: fitted :class:`~doe.engine.gp.ExactGP` models, one per output, in output order.
    """

    def __init__(self, gps: Sequence[ExactGP]) -> None:
        super().__init__()
        if not gps:
            raise ValueError("GPModel needs at least one fitted GP")
        self.gps = list(gps)
        self.prefix: Tensor | None = None

    def _prefix_key(self, prefix: Tensor) -> Tensor:
        """A tensor standing for ``prefix``: the same object while the prefix stays the same
        (compared on the device once per call, for all GPs), a new one when it changes."""
        last = self.prefix
        if last is None or last.shape != prefix.shape or not torch.equal(last, prefix):
            self.prefix = last = prefix.clone()
        return last

    @property
    def num_outputs(self) -> int:
        return len(self.gps)

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size([])

    def posterior(  # type: ignore[override]
        self,
        X: Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | Tensor = False,
        posterior_transform: Any = None,
        **kwargs: Any,
    ) -> Posterior:
        """Joint posterior of the outputs at ``X (batch, q, d)`` in engineer units.

        Args:
            X: model-space recipes.
            output_indices: the outputs to return (all if None).
            observation_noise: ``True`` adds each GP's fitted noise variance (the posterior
                of a new measurement); a tensor ``(batch, q, m)`` (``m`` = outputs
                returned) adds those noise variances, in engineer units squared.
            posterior_transform: applied to the posterior if given.
        """
        indices = list(range(len(self.gps))) if output_indices is None else list(output_indices)
        chosen = [self.gps[i] for i in indices]
        if isinstance(observation_noise, Tensor) and (
            observation_noise.shape[-1] != len(chosen) or observation_noise.shape[-2] != X.shape[-2]
        ):
            raise ValueError(
                    f"observation_noise: expected shape (..., {X.shape[-2]}, {len(chosen)}) for {X.shape[-2]} "
                    f"point(s) and {len(chosen)} output(s), got {tuple(observation_noise.shape)}"
                )
        means, covs = [], []
        features = chosen[0].features(X)
        p = shared_prefix(X)
        key = self._prefix_key(X[0, :p].detach()) if p else None
        for k, gp in enumerate(chosen):
            if p:
                mean, cov = gp.mean_cov_shared_prefix(X, p, features, prefix_key=key)
            else:
                mean, cov = gp.mean_cov(X, features=features)
            if isinstance(observation_noise, Tensor):
                cov = cov + torch.diag_embed(observation_noise[..., k].to(cov))
            elif observation_noise:
                cov = cov + gp.noise_ * gp.y_sd_**2 * torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
            means.append(mean)
            covs.append(0.5 * (cov + cov.transpose(-1, -2)))
        posterior: Posterior = IndependentGaussianPosterior(
            torch.stack(means, dim=-1), torch.stack(safe_choleskys(covs), dim=-3),
            torch.stack([cov.diagonal(dim1=-2, dim2=-1).clamp_min(0.0) for cov in covs], dim=-1),
        )
        if posterior_transform is not None:
            return posterior_transform(posterior)
        return posterior
