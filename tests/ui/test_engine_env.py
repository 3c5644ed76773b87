"""The app's engine settings come from DOE_ENGINE_SETTINGS (set by ``doe app --engine``)."""

from __future__ import annotations

import pytest

from doe.engine import EngineSettings
from doe.errors import DoeError
from doe.ui.resources import engine_settings


@pytest.mark.parametrize(("text", "expected"), [
    ("", None), ("default", None), ("fast", EngineSettings.fast()),
    ("fast;trust_region=adaptive; explore_untried=2",
     EngineSettings.fast().with_text({"trust_region": "adaptive", "explore_untried": "2"})),
    ("kernel=matern52;lengthscale_prior=-1.0,0.5",
     EngineSettings(kernel="matern52", lengthscale_prior=(-1.0, 0.5))),
])
def test_profile_and_settings(monkeypatch: pytest.MonkeyPatch, text: str, expected: EngineSettings | None) -> None:
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", text)
    assert engine_settings() == expected


@pytest.mark.parametrize(("text", "message"), [
    ("turbo", "profile must be 'fast' or 'default'"), ("fast;kernel", "NAME=VALUE"),
    ("fast;restarts=3", "'restarts' does not exist"), ("best_guess=maybe", "best_guess"),
])
def test_a_bad_setting_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", text)
    with pytest.raises(DoeError, match=message):
        engine_settings()
