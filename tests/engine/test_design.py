"""Space-filling designs respect the whole space and fill it."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import assert_in_space, random_config

from doe.domain import CampaignConfig
from doe.engine.design import initial_design, sample_space
from doe.engine.encoding import Encoder
from doe.errors import ProposalError


@pytest.mark.parametrize("seed", range(12))
def test_samples_respect_the_space(seed: int) -> None:
    config = random_config(100 + seed)
    encoder = Encoder(config)
    X = sample_space(encoder, 64, seed)
    assert_in_space(config, encoder.decode(X))
    design = initial_design(encoder, 5, X[:3], seed)
    assert_in_space(config, encoder.decode(design))
    assert not set(encoder.keys(design)) & set(encoder.keys(X[:3]))


def test_tight_constraints_use_the_polytope_sampler() -> None:
    config = CampaignConfig.from_dict({
        "name": "tight", "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": f"x{i}", "type": "continuous", "bounds": [0, 1]} for i in range(6)],
        "constraints": ["x0 + x1 + x2 + x3 + x4 + x5 <= 0.05"],
    })
    encoder = Encoder(config)
    X = sample_space(encoder, 20, 0)
    assert len(X) == 20
    assert_in_space(config, encoder.decode(X))


def test_maximin_spreads_points(hfo2: CampaignConfig) -> None:
    encoder = Encoder(hfo2)
    design = initial_design(encoder, 8, np.zeros((0, 9)), 0)
    F = encoder.to_features(design)
    d = np.sqrt(((F[:, None] - F[None]) ** 2).sum(-1))[np.triu_indices(8, 1)]
    rng = np.random.default_rng(0)
    random = encoder.to_features(sample_space(encoder, 8, 99))
    random = random[rng.permutation(8)]
    d_random = np.sqrt(((random[:, None] - random[None]) ** 2).sum(-1))[np.triu_indices(8, 1)]
    assert d.min() >= d_random.min()


def test_small_space_exhausted() -> None:
    config = CampaignConfig.from_dict({
        "name": "tiny", "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": "a", "type": "categorical", "values": ["p", "q"]}],
    })
    encoder = Encoder(config)
    assert len(initial_design(encoder, 2, np.zeros((0, 1)), 0)) == 2
    with pytest.raises(ProposalError, match="only 1 untested"):
        initial_design(encoder, 2, np.array([[0.0]]), 0)
