"""The lean exact GP against textbook formulas, and its BoTorch posterior and sampler."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from doe.engine.botorch_model import GPModel
from doe.engine.gp import JITTERS, ExactGP, GPFitError


def _reference(X: np.ndarray, y: np.ndarray, Xs: np.ndarray, ls: np.ndarray, noise: float, c: float,
               cat: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and covariance written out with numpy (standardised units)."""
    def k(A: np.ndarray, B: np.ndarray) -> np.ndarray:
        sq = np.zeros((len(A), len(B)))
        for i in range(A.shape[1]):
            if i in cat:
                sq += (A[:, i][:, None] != B[:, i][None, :]) / ls[i] ** 2
            else:
                sq += (A[:, i][:, None] - B[:, i][None, :]) ** 2 / ls[i] ** 2
        return np.exp(-0.5 * sq)

    mu, sd = y.mean(), y.std(ddof=1)
    z = (y - mu) / sd
    K = k(X, X) + noise * np.eye(len(X))
    Ks = k(Xs, X)
    mean = c + Ks @ np.linalg.solve(K, z - c)
    cov = k(Xs, Xs) - Ks @ np.linalg.solve(K, Ks.T)
    return mean * sd + mu, cov * sd**2


def test_posterior_matches_formula() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.random(15), rng.random(15), rng.integers(0, 3, 15)])
    y = np.sin(3 * X[:, 0]) + X[:, 2] + 0.05 * rng.standard_normal(15)
    gp = ExactGP({2: 3}, 3, torch.device("cpu")).fit(X, y, maxiter=100, seed=0)
    Xs = np.column_stack([rng.random(4), rng.random(4), rng.integers(0, 3, 4)])
    ref_mean, ref_cov = _reference(X, y, Xs, gp.lengthscale_.numpy(), gp.noise_, gp.constant_, [2])
    mean, cov = gp.mean_cov(torch.as_tensor(Xs))
    assert np.allclose(mean.numpy(), ref_mean, atol=1e-8)
    assert np.allclose(cov.numpy(), ref_cov, atol=1e-8)
    # the cached shared-prefix path gives the same joint posterior
    batch = torch.as_tensor(np.stack([np.vstack([X[:3], Xs[i : i + 1]]) for i in range(4)]))
    full_mean, full_cov = gp.mean_cov(batch)
    fast_mean, fast_cov = gp.mean_cov_shared_prefix(batch, 3, gp.features(batch))
    assert torch.allclose(full_mean, fast_mean, atol=1e-10) and torch.allclose(full_cov, fast_cov, atol=1e-10)
    # MAP fit recovers the relevant dimension: x0 matters more than x1
    assert gp.lengthscale_[0] < gp.lengthscale_[1]


def test_botorch_model_samples_have_the_posterior_moments() -> None:
    rng = np.random.default_rng(1)
    X = rng.random((10, 2))
    gps = [ExactGP({}, 2, torch.device("cpu")).fit(X, X[:, 0] + j * X[:, 1], maxiter=50, seed=0) for j in range(2)]
    model = GPModel(gps)
    assert model.num_outputs == 2
    Xs = torch.as_tensor(rng.random((1, 3, 2)))
    posterior = model.posterior(Xs)
    assert posterior.mean.shape == (1, 3, 2)
    torch.manual_seed(0)
    samples = posterior.rsample(torch.Size([20000]))
    assert samples.shape == (20000, 1, 3, 2)
    for j, gp in enumerate(gps):
        mean, cov = gp.mean_cov(Xs[0])
        emp = torch.cov(samples[:, 0, :, j].T)
        assert torch.allclose(samples[:, 0, :, j].mean(0), mean, atol=0.05 * float(cov.diagonal().max().sqrt()) + 1e-6)
        assert torch.allclose(emp, cov, atol=0.05 * float(cov.diagonal().max()) + 1e-8)


def test_fit_survives_duplicates_and_constant_inputs() -> None:
    X = np.zeros((6, 2))
    y = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95])
    gp = ExactGP({}, 2, torch.device("cpu")).fit(X, y, maxiter=50, seed=0)
    mean, var = gp.mean_cov(torch.zeros(1, 2, dtype=torch.float64), full_cov=False)
    assert abs(float(mean[0]) - 1.0) < 0.1 and float(var[0]) >= 0
    loo_mean, loo_sd = gp.loo()
    assert np.isfinite(loo_mean).all() and np.isfinite(loo_sd).all()


def test_same_model_as_botorch_single_task_gp() -> None:
    """On numeric inputs the GP is BoTorch's default ``SingleTaskGP``: same posterior, same MAP objective."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from gpytorch.mlls import ExactMarginalLogLikelihood

    rng = np.random.default_rng(3)
    X = rng.random((20, 3))
    y = np.sin(4 * X[:, 0]) + 0.3 * X[:, 1] ** 2 + 0.05 * rng.standard_normal(20)
    gp = ExactGP({}, 3, torch.device("cpu")).fit(X, y, maxiter=200, seed=0)

    Xt, yt = torch.as_tensor(X), torch.as_tensor(y).unsqueeze(-1)
    reference = SingleTaskGP(Xt, yt)
    reference.covar_module.lengthscale = gp.lengthscale_.reshape(1, -1)
    reference.likelihood.noise = torch.tensor([gp.noise_], dtype=torch.float64)
    reference.mean_module.constant = torch.tensor(gp.constant_, dtype=torch.float64)
    reference.eval()
    Xs = torch.as_tensor(rng.random((6, 3)))
    with torch.no_grad():
        posterior = reference.posterior(Xs)
    mean, cov = gp.mean_cov(Xs)
    assert torch.allclose(mean, posterior.mean.squeeze(-1), atol=1e-6)
    assert torch.allclose(cov, posterior.covariance_matrix, atol=1e-6)

    # our MAP estimate scores at least as well as BoTorch's own fit under BoTorch's own objective
    def map_objective(model: SingleTaskGP) -> float:
        model.train()
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        with torch.no_grad():
            return float(mll(model(*model.train_inputs), model.train_targets))

    ours = map_objective(reference)
    fitted = SingleTaskGP(Xt, yt)
    fit_gpytorch_mll(ExactMarginalLogLikelihood(fitted.likelihood, fitted))
    assert ours >= map_objective(fitted) - 1e-3


def test_matern52_is_gpytorchs_matern_kernel() -> None:
    """``kernel="matern52"`` is GPyTorch's Matern-5/2 ARD kernel; its fit and gradients stay finite on duplicates."""
    from gpytorch.kernels import MaternKernel

    rng = np.random.default_rng(5)
    X = rng.random((15, 3))
    X[7] = X[3]  # a duplicate: r = 0 off the diagonal must not give NaN gradients
    y = np.cos(3 * X[:, 0]) + X[:, 2] + 0.05 * rng.standard_normal(15)
    gp = ExactGP({}, 3, torch.device("cpu"), kernel="matern52").fit(X, y, maxiter=100, seed=0)
    assert np.isfinite(gp.theta_).all()
    reference = MaternKernel(nu=2.5, ard_num_dims=3).double()
    reference.lengthscale = gp.lengthscale_.reshape(1, -1)
    A, B = torch.as_tensor(rng.random((4, 3))), torch.as_tensor(X)
    with torch.no_grad():
        expected = reference(A, B).to_dense()
    assert torch.allclose(gp.kernel(A, B), expected, atol=1e-10)
    assert not torch.allclose(gp.kernel(A, B), ExactGP({}, 3, torch.device("cpu")).kernel(A, B, gp.lengthscale_))


def test_lengthscale_prior_sets_the_fitted_lengthscales() -> None:
    """A short-lengthscale prior gives shorter fitted lengthscales than BoTorch's wide default on the same data."""
    rng = np.random.default_rng(6)
    X = rng.random((8, 4))
    y = X[:, 0] + 0.1 * rng.standard_normal(8)
    wide = ExactGP({}, 4, torch.device("cpu")).fit(X, y, maxiter=100, seed=0)
    short = ExactGP({}, 4, torch.device("cpu"), lengthscale_prior=(-1.4, 0.55)).fit(X, y, maxiter=100, seed=0)
    assert short.ls_prior == pytest.approx((-1.4 + 0.5 * np.log(4), 0.55))
    assert float(short.lengthscale_.max()) < float(wide.lengthscale_.max())


def test_noise_prior_sets_the_fitted_noise() -> None:
    """On noisy data a noise prior centred higher learns more noise than the default (near exp(-5) here)."""
    rng = np.random.default_rng(3)
    X = rng.random((20, 3))
    y = np.sin(3 * X[:, 0]) + 0.8 * rng.standard_normal(20)
    default = ExactGP({}, 3, torch.device("cpu"), lengthscale_prior=(-1.4, 0.55)).fit(X, y, maxiter=150, seed=0)
    wide = ExactGP({}, 3, torch.device("cpu"), lengthscale_prior=(-1.4, 0.55),
                   noise_prior=(-1.0, 0.5)).fit(X, y, maxiter=150, seed=0)
    assert default.noise_prior == (-4.0, 1.0)
    assert wide.noise_ > 2 * default.noise_


@pytest.mark.parametrize("n", [24, 300])
def test_same_posterior_as_gpytorch_product_kernel_on_mixed_inputs(n: int) -> None:
    """Continuous, discrete and categorical inputs: the posterior is GPyTorch's with the same product kernel.

    doe's kernel is ``exp(-sum_p d_p^2 / (2 l_p^2))`` with ``d_p`` the encoded difference of a
    number (continuous or discrete) and the Hamming distance ``[c != c']`` of a label: an RBF
    ARD kernel on the numbers times BoTorch's ``CategoricalKernel`` on the labels, whose
    ``exp(-mean_p [c != c'] / b_p)`` is the same function for ``b_p = 2 l_p^2 / C`` (``C``
    categorical columns). At n = 300 the hyperparameters come from a 250-row subset and the
    GP conditions on every row.
    """
    from botorch.models import SingleTaskGP
    from botorch.models.kernels.categorical import CategoricalKernel
    from gpytorch.kernels import RBFKernel

    rng = np.random.default_rng(11 + n)
    discrete = rng.integers(0, 5, n) / 4.0  # a discrete parameter with 5 values, encoded
    X = np.column_stack([rng.random(n), discrete, rng.integers(0, 3, n), rng.random(n), rng.integers(0, 2, n)])
    y = np.sin(3 * X[:, 0]) + X[:, 1] + 0.5 * X[:, 2] - 0.3 * X[:, 4] + 0.05 * rng.standard_normal(n)
    cat = {2: 3, 4: 2}
    gp = ExactGP(cat, 5, torch.device("cpu")).fit(X, y, maxiter=60, seed=0)
    assert gp.X_train_.shape[0] == n

    num_dims, cat_dims = [0, 1, 3], [2, 4]
    ls = gp.lengthscale_
    rbf = RBFKernel(ard_num_dims=3, active_dims=num_dims).double()
    rbf.lengthscale = ls[num_dims].reshape(1, -1)
    hamming = CategoricalKernel(ard_num_dims=2, active_dims=cat_dims).double()
    hamming.lengthscale = (2 * ls[cat_dims] ** 2 / len(cat_dims)).reshape(1, -1)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y).unsqueeze(-1)
    reference = SingleTaskGP(Xt, yt, covar_module=rbf * hamming)
    reference.likelihood.noise = torch.tensor([gp.noise_], dtype=torch.float64)
    reference.mean_module.constant = torch.tensor(gp.constant_, dtype=torch.float64)
    reference.eval()

    Xs = torch.as_tensor(np.column_stack([rng.random(7), rng.integers(0, 5, 7) / 4.0, rng.integers(0, 3, 7),
                                          rng.random(7), rng.integers(0, 2, 7)]))
    with torch.no_grad():
        posterior = reference.posterior(Xs)
    mean, cov = gp.mean_cov(Xs)
    assert torch.allclose(mean, posterior.mean.squeeze(-1), atol=1e-6)
    assert torch.allclose(cov, posterior.covariance_matrix, atol=1e-6)
    # and the labels matter: treating them as numbers gives another posterior
    numeric = ExactGP({}, 5, torch.device("cpu")).set_hyperparameters(ls.numpy(), gp.noise_, gp.constant_, X, y)
    assert not torch.allclose(numeric.mean_cov(Xs)[0], mean, atol=1e-3)


def test_fit_that_cannot_be_evaluated_says_so() -> None:
    """No silent fallback: when no hyperparameters can be evaluated the fit raises GPFitError."""
    X = np.random.default_rng(0).random((8, 2))
    X[3, 0] = np.nan
    with pytest.raises(GPFitError, match="hyperparameter fit failed"):
        ExactGP({}, 2, torch.device("cpu")).fit(X, np.arange(8.0), maxiter=20, seed=0)


def test_training_covariance_failure_names_the_largest_jitter() -> None:
    K = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=torch.float64)  # eigenvalues 3 and -1
    with pytest.raises(GPFitError, match=f"jitter of {JITTERS[-1]:g}"):
        ExactGP._chol(K)
    assert JITTERS[-1] == pytest.approx(1e-3)


def test_replicate_scatter_informs_the_cell_noise() -> None:
    # the same means, from three cells each: cells that scatter widely must give a larger
    # fitted noise than cells that agree (the within-experiment term of the likelihood)
    rng = np.random.default_rng(4)
    X = rng.random((12, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] + 0.02 * rng.standard_normal(12)
    cells = np.full(12, 3.0)
    tight = ExactGP({}, 2, torch.device("cpu")).fit(X, y, maxiter=100, seed=0, cells=cells,
                                                      within_ss=np.full(12, 2 * 0.01**2))
    wide = ExactGP({}, 2, torch.device("cpu")).fit(X, y, maxiter=100, seed=0, cells=cells,
                                                     within_ss=np.full(12, 2 * 0.5**2))
    assert wide.noise_ > 10 * tight.noise_
    with pytest.raises(ValueError, match="cells must be >= 1"):
        ExactGP({}, 2, torch.device("cpu")).fit(X, y, maxiter=5, seed=0, cells=np.zeros(12))
