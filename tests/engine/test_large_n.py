"""Large histories and devices: sparse GP, float32, warm starts, baseline pre-pruning (issue 19)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from doe.engine import baseline
from doe.engine.gp import ExactGP
from doe.engine.settings import CUDA_AUTO_MIN_ROWS, EngineSettings
from doe.errors import ProposalError

CAT = {3: 3}


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, 4))
    X[:, 3] = rng.integers(0, 3, n)
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2] + 0.5 * (X[:, 3] == 1) + 0.05 * rng.standard_normal(n)
    return X, y


def _gp(**kw: object) -> ExactGP:
    return ExactGP(CAT, 4, torch.device("cpu"), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_predictions_keep_the_callers_dtype_and_device(dtype: torch.dtype) -> None:
    X, y = _data(60)
    gp = _gp(dtype=dtype).fit(X, y, maxiter=30, seed=0)
    assert gp._train_scaled.dtype == dtype and gp.alpha_.dtype == dtype
    for x_dtype in (torch.float32, torch.float64):
        mean, cov = gp.mean_cov(torch.as_tensor(X[None, :5], dtype=x_dtype))
        assert mean.dtype == x_dtype and cov.dtype == x_dtype
        assert mean.device.type == "cpu"


def test_float32_predictions_match_float64() -> None:
    X, y = _data(200)
    gp64 = _gp().fit(X, y, maxiter=50, seed=0)
    gp32 = _gp(dtype=torch.float32)
    gp32.set_hyperparameters(np.exp(gp64.theta_[:4]), gp64.noise_, gp64.constant_, X, y)
    Xq = torch.as_tensor(_data(50, seed=1)[0])
    m64, v64 = gp64.mean_cov(Xq, full_cov=False)
    m32, v32 = gp32.mean_cov(Xq, full_cov=False)
    spread = float(np.std(y))
    assert float((m64 - m32).abs().max()) < 1e-3 * spread
    assert float((v64.sqrt() - v32.sqrt()).abs().max()) < 1e-3 * spread


def test_sparse_gp_with_every_row_inducing_is_the_exact_gp() -> None:
    X, y = _data(120)
    exact = _gp(max_exact=None).fit(X, y, maxiter=40, seed=0)
    sparse = _gp(max_exact=10, n_inducing=120).fit(X, y, maxiter=40, seed=0)
    assert exact.approximation_ == "exact" and sparse.approximation_ == "dtc(120)"
    Xq = torch.as_tensor(_data(30, seed=2)[0][None])
    (m1, c1), (m2, c2) = exact.mean_cov(Xq), sparse.mean_cov(Xq)
    assert torch.allclose(m1, m2, atol=1e-6) and torch.allclose(c1, c2, atol=1e-6)


def test_sparse_gp_is_close_to_exact_on_held_out_recipes() -> None:
    X, y = _data(600)
    Xh, yh = _data(200, seed=3)
    exact = _gp(max_exact=None).fit(X, y, maxiter=40, seed=0)
    sparse = _gp(max_exact=100, n_inducing=200).fit(X, y, maxiter=40, seed=0)
    rmse = [float(np.sqrt(((gp.mean_cov(torch.as_tensor(Xh), full_cov=False)[0].numpy() - yh) ** 2).mean()))
            for gp in (exact, sparse)]
    assert rmse[1] < 1.5 * rmse[0] + 0.02
    assert sparse.loo()[0].shape == (600,)


def test_warm_started_fit_equals_cold_fit() -> None:
    X, y = _data(300)
    cold = _gp().fit(X, y, maxiter=200, seed=0)
    earlier = _gp().fit(X[:250], y[:250], maxiter=200, seed=0)
    warm = _gp().fit(X, y, maxiter=200, seed=0, theta0=earlier.theta_)
    Xq = torch.as_tensor(_data(40, seed=4)[0])
    mc, vc = cold.mean_cov(Xq, full_cov=False)
    mw, vw = warm.mean_cov(Xq, full_cov=False)
    spread = float(np.std(y))
    assert float((mc - mw).abs().max()) < 0.02 * spread
    assert float((vc.sqrt() - vw.sqrt()).abs().max()) < 0.02 * spread
    # the warm start really starts elsewhere: from a bad start and one iteration it differs
    bad = _gp().fit(X, y, maxiter=1, seed=0, theta0=np.full(6, 2.0))
    assert not np.allclose(bad.theta_, cold.theta_, atol=0.1)


def test_pre_pruning_drops_only_surely_dominated_recipes() -> None:
    lower = torch.tensor([[5.0, 5.0], [0.0, 0.0], [4.0, 9.0], [6.0, 1.0]])
    upper = torch.tensor([[6.0, 6.0], [4.9, 4.9], [4.5, 9.5], [7.0, 2.0]])
    certain = torch.tensor([True, True, True, True])
    assert baseline.dominated(lower, upper, certain).tolist() == [False, True, False, False]
    # only recipes that surely meet the constraints may dominate
    assert not baseline.dominated(lower, upper, torch.tensor([False, True, True, True])).any()
    keep = baseline.keep_rows(lower, upper, certain, max_kept=2)
    assert keep.tolist() == [0, 2]


def test_auto_device_and_dtype_settings() -> None:
    settings = EngineSettings(dtype="float32")
    assert settings.torch_dtype() == torch.float32
    assert EngineSettings().torch_device(10).type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert EngineSettings().torch_device(CUDA_AUTO_MIN_ROWS + 1).type == expected
    with pytest.raises(ProposalError, match=r"EngineSettings\.dtype"):
        EngineSettings(dtype="float16")  # type: ignore[arg-type]


def test_exact_gp_max_rows_from_text_and_validation() -> None:
    assert EngineSettings().with_text({"exact_gp_max_rows": "none"}).exact_gp_max_rows is None
    assert EngineSettings().with_text({"exact_gp_max_rows": "5000"}).exact_gp_max_rows == 5000
    with pytest.raises(ProposalError, match="exact_gp_max_rows"):
        EngineSettings(exact_gp_max_rows=100)  # below inducing_points


def test_surrogates_warm_start_from_the_previous_fit_above_the_threshold() -> None:
    from engine_helpers import random_config, random_recipes, smooth_outcomes

    from doe.engine import Surrogates
    from doe.engine.surrogates import WARM_START_MIN_ROWS

    config = random_config(3)
    recipes = random_recipes(config, WARM_START_MIN_ROWS + 40, seed=1)
    table = smooth_outcomes(config, recipes, seed=1)
    settings = EngineSettings.fast()
    outcome = config.objective_names[0]
    earlier = Surrogates(config, settings).fit(table.iloc[:-10], seed=0)
    cold = Surrogates(config, settings).fit(table, seed=0)
    warm = Surrogates(config, settings).fit(table, seed=0, previous=earlier)
    cold_gp, warm_gp = cold.model(outcome), warm.model(outcome)
    assert cold_gp is not None and warm_gp is not None
    assert warm_gp.fit_iterations_ < cold_gp.fit_iterations_
    X = earlier.X_[:20]
    spread = float(table[outcome].std())
    assert np.abs(cold.predict_encoded(X)[f"{outcome}_mean"] - warm.predict_encoded(X)[f"{outcome}_mean"]).max() < 0.02 * spread
    # a small history ignores the previous fit: its batches do not depend on what came before
    small = Surrogates(config, settings).fit(table.iloc[:50], seed=0, previous=earlier).model(outcome)
    again = Surrogates(config, settings).fit(table.iloc[:50], seed=0).model(outcome)
    assert small is not None and again is not None
    assert np.array_equal(small.theta_, again.theta_)
