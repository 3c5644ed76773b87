"""A lean exact Gaussian process for the mixed model space, and its BoTorch ``Model`` view.

Why not GPyTorch's ``SingleTaskGP``: for the small tables of a lab campaign (10 to 1000
experiments) its lazy-tensor machinery costs ~15 ms per likelihood evaluation even at 30
points, which made a batch of 3 take minutes on a 2-core laptop. This GP is the same model
written directly in torch (a few 100 microseconds per evaluation); BoTorch's acquisition
functions and optimisers use it through :class:`GPModel`, a ``botorch.models.model.Model``.

Model (per outcome, on standardised values ``z = (y - mean) / sd``):

    z(x) ~ GP(c, k(x, x')) + N(0, noise)
    k(x, x') = exp(-r^2 / 2)                              (RBF, BoTorch's default), or
    k(x, x') = (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)  (Matern-5/2)
    r^2 = sum_p d_p(x, x')^2 / l_p^2

with one lengthscale ``l_p`` per parameter (ARD): ``d_p`` is the difference of the encoded
values for a numeric parameter and the Hamming distance ``[c != c']`` for a categorical one
(unordered labels: every pair of labels is equally far apart, one full range). Priors have
the form of BoTorch's current ``SingleTaskGP`` defaults: ``l_p ~ LogNormal(loc + log(D) / 2,
scale)`` (D = number of parameters; BoTorch's ``(loc, scale)`` is ``(sqrt(2), sqrt(3))``,
doe's default is tighter and shorter, see ``EngineSettings.lengthscale_prior``),
``noise ~ LogNormal(-4, 1)``, lengthscales >= 0.025, noise >= 1e-4.
Hyperparameters are the MAP estimate (scipy L-BFGS-B from the prior mode, iterations capped);
above :data:`FIT_SUBSET` rows they are fitted on a seeded subset and the GP conditions on all
rows. All computation is float64.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

FIT_SUBSET = 250
MIN_LENGTHSCALE = 0.025
MIN_NOISE = 1e-4
MAX_NOISE = 10.0
NOISE_PRIOR = (-4.0, 1.0)
KERNELS = ("rbf", "matern52")
BOTORCH_LENGTHSCALE_PRIOR = (math.sqrt(2.0), math.sqrt(3.0))
_POSTERIOR: Any = None


class ExactGP:
    """Exact GP of one outcome on model-space inputs.

    Args:
        cat_dims: model-space column -> number of labels, for the categorical columns.
        dim: number of model-space columns (= parameters).
        device: torch device.
        kernel: ``"rbf"`` (squared exponential) or ``"matern52"`` (Matern, nu = 5/2).
        lengthscale_prior: ``(loc, scale)``: each lengthscale ~ LogNormal(loc + log(D) / 2, scale).
    """

    def __init__(self, cat_dims: dict[int, int], dim: int, device: Any, kernel: str = "rbf",
                 lengthscale_prior: tuple[float, float] = BOTORCH_LENGTHSCALE_PRIOR) -> None:
        import torch

        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        self.kernel_name = kernel
        self.cat_dims = sorted(cat_dims)
        self.cat_sizes = [int(cat_dims[i]) for i in self.cat_dims]
        self.num_dims = [i for i in range(dim) if i not in self.cat_dims]
        self.dim = dim
        self.device = device
        # LogNormal(loc + log(D) / 2, scale): lengthscales grow like sqrt(D), as in BoTorch
        self.ls_prior = (lengthscale_prior[0] + 0.5 * math.log(max(dim, 1)), lengthscale_prior[1])
        # feature columns: the numbers, then a one-hot block per categorical parameter
        column_param = list(self.num_dims)
        column_factor = [1.0] * len(self.num_dims)
        for j, size in zip(self.cat_dims, self.cat_sizes, strict=True):
            column_param += [j] * size
            column_factor += [1.0 / math.sqrt(2.0)] * size
        self._column_param = torch.tensor(column_param, dtype=torch.long, device=device)
        self._column_factor = torch.tensor(column_factor, dtype=torch.float64, device=device)
        self._levels = {size: torch.arange(size, dtype=torch.float64, device=device) for size in set(self.cat_sizes)}

    # ------------------------------------------------------------------ kernel
    def features(self, A: Any) -> Any:
        """Unscaled features ``(..., F)``: numbers as encoded, one-hot (0/1) labels."""
        import torch

        if not self.cat_dims:
            return A[..., self.num_dims] if len(self.num_dims) != A.shape[-1] else A
        parts = [A[..., self.num_dims]] if self.num_dims else []
        for j, size in zip(self.cat_dims, self.cat_sizes, strict=True):
            parts.append((A[..., j : j + 1].round() == self._levels[size].to(A.dtype)).to(A.dtype))
        return torch.cat(parts, dim=-1)

    def _scale(self, lengthscale: Any) -> Any:
        """Per-feature factor so that squared distances are ``sum_p d_p^2 / l_p^2``.

        A one-hot block is divided by ``sqrt(2) * l_p``: two different labels are at squared
        distance ``1 / l_p^2``, like a full-range change of a number.
        """
        return self._column_factor.to(lengthscale.dtype) / lengthscale[self._column_param]

    def _k(self, a: Any, b: Any, a_sq: Any | None = None, b_sq: Any | None = None) -> Any:
        """Kernel of scaled features ``a (..., m, F)``, ``b (..., n, F)`` (row norms optional)."""
        import torch

        a_sq = (a**2).sum(-1) if a_sq is None else a_sq
        b_sq = (b**2).sum(-1) if b_sq is None else b_sq
        sq = (a_sq.unsqueeze(-1) + b_sq.unsqueeze(-2) - 2.0 * (a @ b.transpose(-1, -2))).clamp_min(0.0)
        if self.kernel_name == "rbf":
            return torch.exp(-0.5 * sq)
        # Matern-5/2; the clamp keeps the gradient of sqrt finite at r = 0 (where dk/dr = 0)
        r5 = (5.0 * sq).clamp_min(1e-30).sqrt()
        return (1.0 + r5 + r5**2 / 3.0) * torch.exp(-r5)

    def kernel(self, A: Any, B: Any, lengthscale: Any | None = None) -> Any:
        """``k(A, B)`` for model-space ``A (..., a, d)`` and ``B (..., b, d)``; shape ``(..., a, b)``."""
        scale = self._scale(self.lengthscale_ if lengthscale is None else lengthscale)
        return self._k(self.features(A) * scale, self.features(B) * scale)

    # ------------------------------------------------------------------ fit
    @staticmethod
    def _chol(K: Any) -> Any:
        import torch

        eye = torch.eye(K.shape[-1], dtype=K.dtype, device=K.device)
        jitter = 0.0
        for _ in range(8):
            L, info = torch.linalg.cholesky_ex(K + jitter * eye)
            if not bool(info.any()):
                return L
            jitter = 1e-9 if jitter == 0.0 else jitter * 10.0
        raise RuntimeError("covariance matrix is not positive definite even with jitter 1e-2")

    def _neg_log_posterior(self, theta: Any, X: Any, z: Any) -> Any:
        import torch

        d = self.dim
        log_ls, log_noise, const = theta[:d], theta[d], theta[d + 1]
        ls = log_ls.exp()
        n = len(z)
        f = X * self._scale(ls)  # X holds features here
        K = self._k(f, f) + log_noise.exp() * torch.eye(n, dtype=X.dtype, device=X.device)
        L = self._chol(K)
        r = (z - const).unsqueeze(-1)
        a = torch.linalg.solve_triangular(L, r, upper=False)
        nll = 0.5 * (a**2).sum() + L.diagonal().log().sum() + 0.5 * n * math.log(2 * math.pi)
        mu, sigma = self.ls_prior
        # log-normal priors on the values (MAP in the parameters' own units)
        lp = (-((log_ls - mu) ** 2) / (2 * sigma**2) - log_ls).sum()
        lp = lp + (-((log_noise - NOISE_PRIOR[0]) ** 2) / (2 * NOISE_PRIOR[1] ** 2) - log_noise)
        return (nll - lp) / n

    def fit(self, X_np: np.ndarray, y_np: np.ndarray, maxiter: int, seed: int, noise_floor: float = MIN_NOISE) -> ExactGP:
        """MAP hyperparameters, then condition on all rows.

        Args:
            X_np: model-space inputs ``(n, d)``.
            y_np: measured values ``(n,)`` (engineer units; standardised here).
            maxiter: L-BFGS-B iterations.
            seed: picks the fitting subset when ``n`` > :data:`FIT_SUBSET`.
            noise_floor: lower bound of the standardised noise variance.
        """
        import torch
        from scipy.optimize import minimize

        kw = {"dtype": torch.float64, "device": self.device}
        y_np = np.asarray(y_np, dtype=float)
        self.y_mean_ = float(y_np.mean())
        sd = float(y_np.std(ddof=1)) if len(y_np) > 1 else 0.0
        self.y_sd_ = sd if sd > 1e-12 * max(1.0, abs(self.y_mean_)) else 1.0
        z_np = (y_np - self.y_mean_) / self.y_sd_
        fit_rows = np.arange(len(y_np))
        if len(fit_rows) > FIT_SUBSET:
            fit_rows = np.sort(np.random.default_rng(seed).choice(len(y_np), FIT_SUBSET, replace=False))
        X_fit = self.features(torch.as_tensor(X_np[fit_rows], **kw))
        z_fit = torch.as_tensor(z_np[fit_rows], **kw)
        mu, sigma = self.ls_prior
        d = self.dim
        theta0 = np.concatenate([
            np.full(d, max(mu - sigma**2, math.log(MIN_LENGTHSCALE))),
            [max(NOISE_PRIOR[0] - NOISE_PRIOR[1] ** 2, math.log(noise_floor))],
            [0.0],
        ])
        bounds = [(math.log(MIN_LENGTHSCALE), math.log(1e4))] * d + [(math.log(noise_floor), math.log(MAX_NOISE))] + [(-10.0, 10.0)]

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            t = torch.as_tensor(theta, **kw).requires_grad_(True)
            try:
                loss = self._neg_log_posterior(t, X_fit, z_fit)
                loss.backward()
            except RuntimeError:
                return 1e10, np.zeros_like(theta)
            value = float(loss.detach())
            grad = t.grad.detach().cpu().numpy()
            if not (math.isfinite(value) and np.isfinite(grad).all()):
                return 1e10, np.zeros_like(theta)
            return value, grad

        result = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": maxiter})
        theta = result.x if np.isfinite(result.fun) and result.fun < 1e9 else theta0
        self.theta_ = theta
        self.lengthscale_ = torch.as_tensor(np.exp(theta[:d]), **kw)
        self.noise_ = float(np.exp(theta[d]))
        self.constant_ = float(theta[d + 1])
        self._condition(torch.as_tensor(X_np, **kw), torch.as_tensor(z_np, **kw))
        return self

    def set_hyperparameters(self, lengthscale: np.ndarray, noise: float, constant: float,
                            X_np: np.ndarray, y_np: np.ndarray) -> ExactGP:
        """Use given hyperparameters (standardised units) and condition on ``(X_np, y_np)``."""
        import torch

        kw = {"dtype": torch.float64, "device": self.device}
        y_np = np.asarray(y_np, dtype=float)
        self.y_mean_ = float(y_np.mean())
        sd = float(y_np.std(ddof=1)) if len(y_np) > 1 else 0.0
        self.y_sd_ = sd if sd > 1e-12 * max(1.0, abs(self.y_mean_)) else 1.0
        self.lengthscale_ = torch.as_tensor(np.asarray(lengthscale, dtype=float), **kw)
        self.noise_ = float(noise)
        self.constant_ = float(constant)
        self.theta_ = np.concatenate([np.log(np.asarray(lengthscale, dtype=float)), [math.log(noise)], [constant]])
        z = (y_np - self.y_mean_) / self.y_sd_
        self._condition(torch.as_tensor(np.asarray(X_np, dtype=float), **kw), torch.as_tensor(z, **kw))
        return self

    def _condition(self, X: Any, z: Any) -> None:
        import torch

        n = len(z)
        self._scale_fitted = self._scale(self.lengthscale_)
        self._train_scaled = self.features(X) * self._scale_fitted
        self._train_sq = (self._train_scaled**2).sum(-1)
        K = self._k(self._train_scaled, self._train_scaled, self._train_sq, self._train_sq)
        K = K + self.noise_ * torch.eye(n, dtype=X.dtype, device=X.device)
        self.L_ = self._chol(K)
        eye = torch.eye(n, dtype=X.dtype, device=X.device)
        # explicit inverse factor: every prediction is then one matrix product (GEMM)
        self._L_inv_T = torch.linalg.solve_triangular(self.L_, eye, upper=False).transpose(-1, -2).contiguous()
        self._prefix_cache = None
        self.X_train_ = X
        self.z_train_ = z
        self.alpha_ = torch.cholesky_solve((z - self.constant_).unsqueeze(-1), self.L_).squeeze(-1)

    # ------------------------------------------------------------------ predict
    def mean_cov(self, X: Any, full_cov: bool = True, features: Any | None = None) -> tuple[Any, Any]:
        """Posterior mean ``(..., q)`` and covariance ``(..., q, q)`` (or variance ``(..., q)``), engineer units.

        Args:
            X: model-space recipes ``(..., q, d)``.
            full_cov: joint covariance, else the variances only.
            features: ``self.features(X)`` if already computed (shared by several GPs).
        """

        a = (self.features(X) if features is None else features) * self._scale_fitted
        a_sq = (a**2).sum(-1)
        Kxt = self._k(a, self._train_scaled, a_sq, self._train_sq)  # (..., q, n)
        mean = self.constant_ + Kxt @ self.alpha_
        V = (Kxt @ self._L_inv_T).transpose(-1, -2)  # (..., n, q) = L^-1 k(X_train, X)
        if full_cov:
            cov = self._k(a, a, a_sq, a_sq) - V.transpose(-1, -2) @ V
            return mean * self.y_sd_ + self.y_mean_, cov * self.y_sd_**2
        var = (1.0 - (V**2).sum(-2)).clamp_min(0.0)
        return mean * self.y_sd_ + self.y_mean_, var * self.y_sd_**2

    def mean_cov_shared_prefix(self, X: Any, p: int, features: Any) -> tuple[Any, Any]:
        """:meth:`mean_cov` (full) for ``X (b, q, d)`` whose first ``p`` rows are the same in every batch.

        Acquisitions evaluate new recipes jointly with the same baseline recipes thousands of
        times; the baseline's part (``L^-1 k(X_train, prefix)``) is computed once and cached,
        so each call costs ``O(n^2 b (q - p))`` instead of ``O(n^2 b q)``.
        """
        import torch

        a = features * self._scale_fitted
        prefix = X[0, :p].detach()
        key = (p, prefix.cpu().numpy().tobytes())
        cache = self._prefix_cache
        if cache is None or cache[0] != key:
            ap = a[0, :p].detach()
            ap_sq = (ap**2).sum(-1)
            Kp = self._k(ap, self._train_scaled, ap_sq, self._train_sq)  # (p, n)
            Vp = (Kp @ self._L_inv_T).transpose(-1, -2)  # (n, p)
            cov_pp = self._k(ap, ap, ap_sq, ap_sq) - Vp.transpose(-1, -2) @ Vp
            cache = (key, ap, ap_sq, Vp, self.constant_ + Kp @ self.alpha_, cov_pp)
            self._prefix_cache = cache
        _, ap, ap_sq, Vp, mean_p, cov_pp = cache
        an = a[:, p:]
        an_sq = (an**2).sum(-1)
        Kn = self._k(an, self._train_scaled, an_sq, self._train_sq)  # (b, qn, n)
        mean_n = self.constant_ + Kn @ self.alpha_
        Vn = (Kn @ self._L_inv_T).transpose(-1, -2)  # (b, n, qn)
        cov_pn = self._k(ap, an, ap_sq, an_sq) - Vp.transpose(-1, -2) @ Vn  # (b, p, qn)
        cov_nn = self._k(an, an, an_sq, an_sq) - Vn.transpose(-1, -2) @ Vn  # (b, qn, qn)
        b = an.shape[0]
        top = torch.cat([cov_pp.expand(b, p, p), cov_pn], dim=-1)
        bottom = torch.cat([cov_pn.transpose(-1, -2), cov_nn], dim=-1)
        cov = torch.cat([top, bottom], dim=-2)
        mean = torch.cat([mean_p.expand(b, p), mean_n], dim=-1)
        return mean * self.y_sd_ + self.y_mean_, cov * self.y_sd_**2

    def loo(self) -> tuple[np.ndarray, np.ndarray]:
        """Closed-form leave-one-out mean and sd (of a new measurement), engineer units."""
        import torch

        K_inv = torch.cholesky_inverse(self.L_)
        diag = K_inv.diagonal()
        mean = self.z_train_ - (K_inv @ (self.z_train_ - self.constant_)) / diag
        sd = diag.reciprocal().sqrt()
        return (mean * self.y_sd_ + self.y_mean_).cpu().numpy(), (sd * self.y_sd_).cpu().numpy()


def _posterior_class() -> Any:
    import torch
    from botorch.posteriors.posterior import Posterior

    class IndependentGaussianPosterior(Posterior):
        """Joint Gaussian over ``q`` points for each of ``m`` independent outputs.

        ``mean`` ``(batch, q, m)``; ``scale_tril`` ``(batch, m, q, q)``. Base samples have the
        shape ``(sample, batch, q, m)`` like BoTorch's multi-output GPyTorch posteriors, so
        BoTorch's QMC samplers and cached baseline samples work unchanged.
        """

        def __init__(self, mean: Any, scale_tril: Any, variance: Any) -> None:
            self._mean = mean
            self._scale_tril = scale_tril
            self._variance = variance

        @property
        def mean(self) -> Any:
            return self._mean

        @property
        def variance(self) -> Any:
            return self._variance

        @property
        def device(self) -> Any:
            return self._mean.device

        @property
        def dtype(self) -> Any:
            return self._mean.dtype

        @property
        def batch_shape(self) -> Any:
            return self._mean.shape[:-2]

        @property
        def base_sample_shape(self) -> Any:
            return self._mean.shape

        @property
        def batch_range(self) -> tuple[int, int]:
            return (0, -2)

        def _extended_shape(self, sample_shape: Any = torch.Size()) -> Any:  # noqa: B008
            return torch.Size(sample_shape) + self._mean.shape

        def rsample_from_base_samples(self, sample_shape: Any, base_samples: Any) -> Any:
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

        def rsample(self, sample_shape: Any = None) -> Any:
            shape = torch.Size(sample_shape or torch.Size([1]))
            eps = torch.randn(shape + self._mean.shape, dtype=self.dtype, device=self.device)
            return self.rsample_from_base_samples(shape, eps)

    from botorch.sampling.get_sampler import GetSampler
    from botorch.sampling.normal import IIDNormalSampler, SobolQMCNormalSampler
    from torch.quasirandom import SobolEngine

    @GetSampler.register(IndependentGaussianPosterior)
    def _get_sampler(posterior: Any, sample_shape: Any, *, seed: int | None = None) -> Any:
        sampler = SobolQMCNormalSampler(sample_shape=sample_shape, seed=seed)
        collapsed = sampler._get_collapsed_shape(posterior=posterior)[len(sample_shape) :]
        if collapsed.numel() > SobolEngine.MAXDIM:
            return IIDNormalSampler(sample_shape=sample_shape, seed=seed)
        return sampler

    return IndependentGaussianPosterior


def _shared_prefix(X: Any) -> int:
    """Leading rows shared by every batch of ``X (b, q, d)`` (0 unless worth caching)."""
    if X.dim() != 3 or X.shape[0] < 2 or X.shape[1] < 3:
        return 0
    same = (X[:1] == X).all(-1).all(0)
    if bool(same.all()):
        return 0
    p = int(torch_argmin_false(same))
    return p if 2 <= p < X.shape[1] else 0


def torch_argmin_false(mask: Any) -> int:
    """Index of the first False in a 1-d bool tensor (its length if none)."""

    false = (~mask).nonzero()
    return int(false[0, 0]) if len(false) else int(mask.shape[0])


def _safe_cholesky(cov: Any) -> Any:
    import torch

    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    scale = cov.diagonal(dim1=-2, dim2=-1).mean(-1, keepdim=True).unsqueeze(-1).clamp_min(1e-30)
    L, info = torch.linalg.cholesky_ex(cov)
    jitter = 1e-10
    while bool(info.any()) and jitter < 1.0:
        L, info = torch.linalg.cholesky_ex(cov + jitter * scale * eye)
        jitter *= 10.0
    return L


def gp_model(gps: list[ExactGP]) -> Any:
    """A BoTorch ``Model`` whose outputs are the given independent GPs (in order)."""
    from botorch.models.model import Model

    global _POSTERIOR
    if _POSTERIOR is None:
        _POSTERIOR = _posterior_class()

    class GPModel(Model):
        """Independent exact GPs as one multi-output BoTorch model (no fantasies)."""

        def __init__(self, gps: list[ExactGP]) -> None:
            super().__init__()
            self.gps = gps

        @property
        def num_outputs(self) -> int:
            return len(self.gps)

        @property
        def batch_shape(self) -> Any:
            import torch

            return torch.Size([])

        def posterior(self, X: Any, output_indices: list[int] | None = None,
                      observation_noise: bool | Any = False, posterior_transform: Any = None,
                      **kwargs: Any) -> Any:
            import torch

            chosen = [self.gps[i] for i in output_indices] if output_indices is not None else self.gps
            means, trils, variances = [], [], []
            features = chosen[0].features(X)
            p = _shared_prefix(X)
            for gp in chosen:
                if p:
                    mean, cov = gp.mean_cov_shared_prefix(X, p, features)
                else:
                    mean, cov = gp.mean_cov(X, features=features)
                extra = gp.noise_ * gp.y_sd_**2 if observation_noise is True else 0.0
                if extra:
                    cov = cov + extra * torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
                cov = 0.5 * (cov + cov.transpose(-1, -2))
                means.append(mean)
                variances.append(cov.diagonal(dim1=-2, dim2=-1).clamp_min(0.0))
                trils.append(_safe_cholesky(cov))
            posterior = _POSTERIOR(
                torch.stack(means, dim=-1), torch.stack(trils, dim=-3), torch.stack(variances, dim=-1)
            )
            if posterior_transform is not None:
                return posterior_transform(posterior)
            return posterior

    return GPModel(gps)
