"""Fixtures of the engine tests."""

from __future__ import annotations

import pytest

from doe import load_config
from doe.domain import CampaignConfig
from doe.engine import EngineSettings


@pytest.fixture
def fast() -> EngineSettings:
    return EngineSettings.fast()


@pytest.fixture(scope="session")
def hfo2() -> CampaignConfig:
    return load_config("hfo2-ncm85")
