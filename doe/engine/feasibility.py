"""Feasibility model: the probability that a run at a recipe gives a result at all.

Failed runs (``failed`` true, or no outcome measured) are information: a kernel logistic
regression (scikit-learn) on the recipes learns where runs fail. Features are the encoded
recipe itself (so a half-space such as "too hot fails" needs no kernel) plus Nystroem RBF
features of it (for a pocket of failures). The fitted weights are reused in torch, so the
probability is differentiable in the continuous parameters and enters the acquisition as
``log p(success | x)`` added to the log-acquisition.

With no failure the model is inactive and the probability is 1 everywhere. With no success
at all it is a constant (Laplace's rule ``(s + 1) / (n + 2)``), which does not change where
the engine proposes.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MIN_PROBABILITY = 1e-4
"""Floor on the success probability, so the log stays finite."""


class FeasibilityModel:
    """Kernel logistic regression of run success on the encoded recipe.

    Args:
        n_features_max: most Nystroem components (the training set is smaller for most campaigns).
        regularisation_c: inverse L2 strength of :class:`sklearn.linear_model.LogisticRegression`
            when there are fewer than 3 failures (or successes).
        c_grid: candidates for the inverse L2 strength, chosen by cross-validated log-loss
            (stratified, up to 5 folds) when both classes have at least 3 runs.
    """

    def __init__(self, n_features_max: int = 200, regularisation_c: float = 10.0,
                 c_grid: tuple[float, ...] = (1.0, 10.0, 100.0, 1000.0)) -> None:
        self.n_features_max = n_features_max
        self.regularisation_c = regularisation_c
        self.c_grid = c_grid

    def fit(self, features: np.ndarray, failed: np.ndarray, seed: int = 0) -> FeasibilityModel:
        """Fit on ``features`` ``(n, D)`` (from ``Encoder.to_features``) and ``failed`` ``(n,)`` bool."""
        from sklearn.kernel_approximation import Nystroem
        from sklearn.linear_model import LogisticRegression

        features = np.asarray(features, dtype=float)
        failed = np.asarray(failed, dtype=bool)
        n = len(failed)
        self.n_failed_ = int(failed.sum())
        self.n_train_ = n
        self.active_ = False
        self.constant_ = 1.0
        if self.n_failed_ == 0:
            return self
        if self.n_failed_ == n:
            self.constant_ = 1.0 / (n + 2)
            logger.warning(
                "all %d finished experiments failed; the feasibility model cannot tell where runs "
                "succeed (success probability %.2f everywhere)", n, self.constant_,
            )
            return self
        dim = features.shape[1]
        # RBF length scale ~ a quarter of the cube's diagonal: local enough for a pocket of failures
        lengthscale = 0.25 * math.sqrt(max(dim, 1))
        self.gamma_ = 1.0 / (2.0 * lengthscale**2)
        self.nystroem_ = Nystroem(
            kernel="rbf", gamma=self.gamma_, n_components=min(n, self.n_features_max), random_state=seed
        ).fit(features)
        design = self._design(features)
        minority = min(self.n_failed_, n - self.n_failed_)
        C = self.regularisation_c
        if minority >= 3 and self.c_grid:
            # choose the regularisation by cross-validated log-loss: sharp where failures are clear
            from sklearn.linear_model import LogisticRegressionCV
            from sklearn.model_selection import StratifiedKFold

            folds = StratifiedKFold(n_splits=min(5, minority), shuffle=True, random_state=seed)
            search = LogisticRegressionCV(Cs=list(self.c_grid), cv=folds, scoring="neg_log_loss", max_iter=2000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                C = float(search.fit(design, ~failed).C_[0])
        self.c_ = C
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.classifier_ = LogisticRegression(C=C, max_iter=2000).fit(design, ~failed)
        self.active_ = True
        logger.info(
            "feasibility model: %d of %d finished experiments failed; kernel logistic regression fitted",
            self.n_failed_, n,
        )
        return self

    def _design(self, features: np.ndarray) -> np.ndarray:
        return np.hstack([features, self.nystroem_.transform(features)])

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Success probability ``(n,)`` at ``features`` ``(n, D)``."""
        features = np.asarray(features, dtype=float)
        if not self.active_:
            return np.full(len(features), self.constant_)
        p = self.classifier_.predict_proba(self._design(features))[:, 1]
        return np.clip(p, MIN_PROBABILITY, 1.0)

    def torch_weights(self, device: Any, dtype: Any) -> tuple[Any, Any, Any, float]:
        """Nystroem centres, normalisation, coefficients and intercept as tensors on ``device``:
        moved there once per (device, dtype) and kept, not uploaded on every acquisition call."""
        import torch

        key = (str(device), dtype)
        cache: dict[Any, tuple[Any, Any, Any, float]] = self.__dict__.setdefault("torch_weights_", {})
        if key not in cache:
            kw = {"dtype": dtype, "device": device}
            cache[key] = (torch.as_tensor(self.nystroem_.components_, **kw),
                          torch.as_tensor(self.nystroem_.normalization_, **kw),
                          torch.as_tensor(self.classifier_.coef_[0], **kw),
                          float(self.classifier_.intercept_[0]))
        return cache[key]

    def torch_log_probability(self, features: Any) -> Any:
        """``log p(success)`` of torch ``features`` ``(..., D)``, differentiable; shape ``(...)``."""
        import torch

        if not self.active_:
            return torch.full(features.shape[:-1], math.log(self.constant_), dtype=features.dtype,
                              device=features.device)
        centres, normalisation, coef, intercept = self.torch_weights(features.device, features.dtype)
        sq = ((features.unsqueeze(-2) - centres) ** 2).sum(-1)
        kernel_features = torch.exp(-self.gamma_ * sq) @ normalisation.T
        design = torch.cat([features, kernel_features], dim=-1)
        logit = design @ coef + intercept
        return torch.nn.functional.logsigmoid(logit).clamp_min(math.log(MIN_PROBABILITY))
