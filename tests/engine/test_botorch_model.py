"""The BoTorch view of the GPs: Model, Posterior, sampler choice, jitter and observation noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.sampling.get_sampler import get_sampler
from botorch.sampling.normal import IIDNormalSampler, SobolQMCNormalSampler
from torch.quasirandom import SobolEngine

from doe.engine.botorch_model import (
    GPModel,
    IndependentGaussianPosterior,
    safe_cholesky,
    shared_prefix,
)
from doe.engine.gp import ExactGP
from doe.errors import ProposalError


def _model() -> tuple[GPModel, list[ExactGP]]:
    rng = np.random.default_rng(2)
    X = rng.random((12, 2))
    gps = [ExactGP({}, 2, torch.device("cpu")).fit(X, X[:, 0] + j * X[:, 1] + 0.01 * rng.standard_normal(12),
                                                    maxiter=40, seed=0) for j in range(2)]
    return GPModel(gps), gps


def test_observation_noise_true_and_tensor_are_honoured() -> None:
    model, gps = _model()
    Xs = torch.as_tensor(np.random.default_rng(3).random((1, 3, 2)))
    latent = model.posterior(Xs)
    with_fitted = model.posterior(Xs, observation_noise=True)
    fitted_noise = torch.tensor([gp.noise_ * gp.y_sd_**2 for gp in gps], dtype=torch.float64)
    assert torch.allclose(with_fitted.variance - latent.variance, fitted_noise.expand(1, 3, 2))
    given = torch.tensor([[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]], dtype=torch.float64)
    with_given = model.posterior(Xs, observation_noise=given)
    assert torch.allclose(with_given.variance - latent.variance, given)
    assert torch.allclose(with_given.mean, latent.mean)
    # one output chosen: the noise tensor has one column
    single = model.posterior(Xs, output_indices=[1], observation_noise=given[..., 1:])
    assert torch.allclose(single.variance - latent.variance[..., 1:], given[..., 1:])


def test_observation_noise_of_the_wrong_shape_is_refused() -> None:
    model, _ = _model()
    Xs = torch.as_tensor(np.random.default_rng(3).random((1, 3, 2)))
    with pytest.raises(ValueError, match=r"observation_noise: expected shape \(\.\.\., 3, 2\)"):
        model.posterior(Xs, observation_noise=torch.ones(1, 3, 1, dtype=torch.float64))


def test_safe_cholesky_adds_jitter_then_raises_a_clear_error() -> None:
    singular = torch.ones(2, 2, dtype=torch.float64)  # rank 1: needs jitter
    L = safe_cholesky(singular)
    assert torch.isfinite(L).all() and torch.allclose(L @ L.T, singular, atol=1e-6)
    indefinite = torch.tensor([[1.0, 3.0], [3.0, 1.0]], dtype=torch.float64)  # eigenvalue -2: no jitter helps
    with pytest.raises(ProposalError, match=r"not positive definite even with a jitter of 0\.1"):
        safe_cholesky(indefinite)
    with pytest.raises(ProposalError, match="NaN or infinite"):
        safe_cholesky(torch.full((2, 2), float("nan"), dtype=torch.float64))


def test_sampler_is_sobol_unless_a_sample_has_too_many_dimensions() -> None:
    def posterior(q: int, m: int) -> IndependentGaussianPosterior:
        mean = torch.zeros(4, q, m, dtype=torch.float64)
        return IndependentGaussianPosterior(mean, torch.zeros(0), mean)

    assert isinstance(get_sampler(posterior(3, 2), torch.Size([64]), seed=0), SobolQMCNormalSampler)
    # the batch dimension (4) shares base samples; q * m decides
    at_limit = posterior(SobolEngine.MAXDIM, 1)
    assert isinstance(get_sampler(at_limit, torch.Size([64]), seed=0), SobolQMCNormalSampler)
    over = posterior(SobolEngine.MAXDIM // 2 + 1, 2)
    assert isinstance(get_sampler(over, torch.Size([64]), seed=0), IIDNormalSampler)


def test_shared_prefix_and_its_cache_give_the_full_posterior() -> None:
    model, _ = _model()
    rng = np.random.default_rng(4)
    prefix = rng.random((3, 2))
    X = torch.as_tensor(np.stack([np.vstack([prefix, rng.random((1, 2))]) for _ in range(5)]))
    assert shared_prefix(X) == 3
    assert shared_prefix(X[:, :2]) == 0  # too short to be worth caching
    assert shared_prefix(X[:1]) == 0
    fast = model.posterior(X)
    slow = model.posterior(X[:, [3, 0, 1, 2]])  # no shared prefix: the plain path
    assert torch.allclose(fast.mean, slow.mean[:, [1, 2, 3, 0]], atol=1e-10)
    assert torch.allclose(fast.variance, slow.variance[:, [1, 2, 3, 0]], atol=1e-10)


def test_safe_choleskys_jitters_only_the_output_that_needs_it() -> None:
    from doe.engine.botorch_model import safe_choleskys

    good = torch.tensor([[[2.0, 0.5], [0.5, 1.0]]], dtype=torch.float64)
    singular = torch.tensor([[[1.0, 1.0], [1.0, 1.0]]], dtype=torch.float64)
    L_good, L_singular = safe_choleskys([good, singular])
    assert torch.equal(L_good, torch.linalg.cholesky(good))
    assert torch.isfinite(L_singular).all()
    assert torch.allclose(L_singular @ L_singular.transpose(-1, -2), singular, atol=1e-6)
    assert not torch.allclose(L_singular @ L_singular.transpose(-1, -2), singular, rtol=0.0, atol=1e-14)
