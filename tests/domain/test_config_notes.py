"""Notes on settings a configuration accepts but does not apply: a log scale under a linear constraint."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from doe.domain.config import CampaignConfig
from doe.domain.config_notes import config_notes

README_CONFIG = """
name: my-coating-line
parameters:
  - {name: hfo2_loading_wt_pct, type: continuous, bounds: [0, 3], unit: wt%, resolution: 0.01}
  - {name: anneal_time_h, type: continuous, bounds: [0.5, 6], unit: h, log_scale: true}
  - {name: bath_time_min, type: continuous, bounds: [1, 100], log_scale: true}
objectives:
  - {name: first_cycle_ce_pct, goal: maximize, threshold: 80, unit: '%'}
constraints:
  - hfo2_loading_wt_pct + 0.5 * anneal_time_h <= 5
"""


def _config() -> CampaignConfig:
    return CampaignConfig.from_dict(yaml.safe_load(README_CONFIG))


def test_a_log_scale_under_a_linear_constraint_is_noted_naming_both() -> None:
    # the README's own example asks for both; the log scale was dropped with an INFO log only
    notes = config_notes(_config())
    assert notes == ["anneal_time_h: log_scale is not applied, because the parameter is in the linear constraint "
                     "'hfo2_loading_wt_pct + 0.5 * anneal_time_h <= 5'; the designs, the model and the search treat "
                     "anneal_time_h on a linear scale (drop it from the constraint to keep the log scale)"]
    data = yaml.safe_load(README_CONFIG)
    data["constraints"] = []
    assert config_notes(CampaignConfig.from_dict(data)) == []  # bath_time_min, unconstrained, keeps its log scale


def test_the_engine_warns_of_it_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    from doe.engine.encoding import Encoder

    data = yaml.safe_load(README_CONFIG)
    data["constraints"] = ["hfo2_loading_wt_pct + 0.5 * anneal_time_h <= 4.75"]  # a note of this test's own
    config = CampaignConfig.from_dict(data)
    with caplog.at_level(logging.DEBUG, logger="doe.engine.encoding"):
        encoder = Encoder(config)
        Encoder(config)
    assert encoder.log_dims == {2}  # anneal_time_h on a linear scale, bath_time_min on its log scale
    said = [(r.levelname, r.getMessage()) for r in caplog.records if "log_scale is not applied" in r.getMessage()]
    assert [level for level, _ in said] == ["WARNING", "DEBUG"], said
    assert said[0][1] == config_notes(config)[0]


def test_doe_init_prints_the_note(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "line.yaml").write_text(README_CONFIG, encoding="utf-8")
    done = doe_cmd("init", "--config", "line.yaml")
    assert "  note: anneal_time_h: log_scale is not applied, because the parameter is in the linear constraint" \
        in done.stdout
    assert "bath_time_min" not in done.stdout
