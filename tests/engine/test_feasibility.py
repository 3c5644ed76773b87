"""Feasibility model: where runs fail, and its torch version for the acquisition."""

from __future__ import annotations

import math

import numpy as np
import torch

from doe.engine.feasibility import FeasibilityModel


def test_no_failures_means_probability_one() -> None:
    model = FeasibilityModel().fit(np.random.default_rng(0).random((10, 3)), np.zeros(10, dtype=bool))
    assert not model.active_
    assert np.all(model.probability(np.random.default_rng(1).random((5, 3))) == 1.0)
    assert torch.all(model.torch_log_probability(torch.rand(4, 2, 3, dtype=torch.float64)) == 0.0)


def test_learns_the_failing_region_and_torch_matches_sklearn() -> None:
    rng = np.random.default_rng(2)
    X = rng.random((40, 3))
    failed = X[:, 0] > 0.7
    model = FeasibilityModel().fit(X, failed, seed=0)
    assert model.active_
    inside = np.column_stack([np.full(20, 0.9), rng.random((20, 2))])
    outside = np.column_stack([np.full(20, 0.3), rng.random((20, 2))])
    assert model.probability(inside).mean() < 0.2 < 0.8 < model.probability(outside).mean()
    probe = rng.random((7, 3))
    log_p = model.torch_log_probability(torch.as_tensor(probe)).numpy()
    assert np.allclose(np.exp(log_p), model.probability(probe), rtol=1e-6)
    x = torch.as_tensor(probe[:1], dtype=torch.float64).requires_grad_(True)
    model.torch_log_probability(x).sum().backward()
    assert x.grad is not None and float(x.grad[0, 0]) < 0  # moving toward x0 > 0.7 lowers p


def test_all_failed_is_a_constant() -> None:
    model = FeasibilityModel().fit(np.random.default_rng(3).random((4, 2)), np.ones(4, dtype=bool))
    assert not model.active_
    assert np.allclose(model.probability(np.zeros((2, 2))), 1 / 6)
    assert np.allclose(model.torch_log_probability(torch.zeros(2, 2, dtype=torch.float64)).numpy(), math.log(1 / 6))
