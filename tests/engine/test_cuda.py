"""CUDA: the engine on a GPU (skipped without one; ``scripts/gpu_check.sh`` runs these)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from doe import Campaign
from doe.engine import EngineSettings
from doe.engine.gp import ExactGP

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _history(n: int) -> object:
    from doe.simulate import VirtualLab

    recipes = VirtualLab.random_recipes(n, seed=n)
    table = recipes.join(VirtualLab(n).run(recipes))
    table["failure_reason"] = table["failure_reason"].astype(object).where(table["failed"], None)
    return table


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_suggest_on_cuda(dtype: str) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=":memory:", actor="gpu",
                                    settings=replace(EngineSettings.fast(), device="cuda", dtype=dtype))
    campaign.record(_history(40))
    batch = campaign.suggest(3)
    assert len(batch) == 3
    settings = campaign.proposals()["model_settings"].iloc[-1]
    assert str(settings["device"]).startswith("cuda") and settings["dtype"] == dtype


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cuda_predictions_match_cpu(dtype: torch.dtype) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((300, 4))
    y = np.sin(3 * X[:, 0]) + X[:, 1] - X[:, 2] * X[:, 3]
    cpu = ExactGP({}, 4, torch.device("cpu")).fit(X, y, maxiter=50, seed=0)
    gpu = ExactGP({}, 4, torch.device("cuda"), dtype=dtype)
    gpu.set_hyperparameters(np.exp(cpu.theta_[:4]), cpu.noise_, cpu.constant_, X, y)
    Xq = rng.random((50, 4))
    m1, v1 = cpu.mean_cov(torch.as_tensor(Xq), full_cov=False)
    m2, v2 = gpu.mean_cov(torch.as_tensor(Xq, device="cuda"), full_cov=False)
    assert m2.device.type == "cuda"
    assert torch.allclose(m1, m2.cpu(), atol=1e-3 * float(np.std(y)))
    assert torch.allclose(v1.sqrt(), v2.cpu().sqrt(), atol=1e-3 * float(np.std(y)))
