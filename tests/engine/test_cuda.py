"""The engine on a GPU: every test runs on the CPU and, marked ``cuda``, on CUDA (skipped
without a CUDA device; ``scripts/gpu_check.sh`` runs the CUDA half with ``-m cuda``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch

from doe import Campaign
from doe.engine import EngineSettings
from doe.engine.gp import ExactGP

CUDA = pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(),
                                                                          reason="needs a CUDA device")])


def _history(n: int) -> Any:
    from doe.simulate import VirtualLab

    recipes = VirtualLab.random_recipes(n, seed=n)
    table = recipes.join(VirtualLab(n).run(recipes))
    table["failure_reason"] = table["failure_reason"].astype(object).where(table["failed"], None)
    return table


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("device", ["cpu", CUDA])
def test_suggest_on_the_device(device: str, dtype: str) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=":memory:", actor="gpu",
                                    settings=replace(EngineSettings.fast(), device=device, dtype=dtype))  # type: ignore[arg-type]
    campaign.record(_history(40))
    batch = campaign.suggest(3)
    assert len(batch) == 3 and batch["strategy"].iloc[0] == "qlognehvi"
    settings = campaign.proposals()["model_settings"].iloc[-1]
    assert str(settings["device"]).startswith(device) and settings["dtype"] == dtype


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("device", ["cpu", CUDA])
@pytest.mark.parametrize("max_exact", [None, 100])
def test_device_predictions_match_the_cpu_in_float64(device: str, dtype: torch.dtype, max_exact: int | None) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((300, 4))
    y = np.sin(3 * X[:, 0]) + X[:, 1] - X[:, 2] * X[:, 3]
    reference = ExactGP({}, 4, torch.device("cpu"), max_exact=max_exact, n_inducing=150).fit(X, y, maxiter=50, seed=0)
    gp = ExactGP({}, 4, torch.device(device), dtype=dtype, max_exact=max_exact, n_inducing=150)
    gp.set_hyperparameters(np.exp(reference.theta_[:4]), reference.noise_, reference.constant_, X, y)
    Xq = torch.as_tensor(rng.random((2, 6, 4)))
    m1, c1 = reference.mean_cov(Xq)
    m2, c2 = gp.mean_cov(Xq.to(device))
    assert m2.device.type == device and m2.dtype == torch.float64
    # float32 on a nearly noiseless outcome (noise at its floor) is the hard case: a few 1e-3 of the spread
    relative = 5e-3 if dtype == torch.float32 else 1e-6
    assert torch.allclose(m1, m2.cpu(), atol=relative * float(np.std(y)))
    assert torch.allclose(c1, c2.cpu(), atol=relative * float(np.var(y)))
