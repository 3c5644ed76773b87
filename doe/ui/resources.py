"""Long-lived objects of the web app: the database URL, the campaigns, cached model results.

A :class:`~doe.Campaign` keeps its fitted models (cached by the data's content), so the app
keeps one Campaign per (database URL, campaign name) in ``st.cache_resource``: a rerun never
refits, a fit happens once after the data changed. Results derived from the model (leave-one-out
check, importance, response surfaces) are cached in ``st.cache_data`` keyed by the campaign's
revision, which changes with every write.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from doe.campaign import Campaign, ensure_demo_campaign, list_campaigns
from doe.engine.settings import EngineSettings
from doe.errors import DataError
from doe.paths import data_home, default_database_url

logger = logging.getLogger(__name__)

ENGINE_SETTINGS_ENV = "DOE_ENGINE_SETTINGS"
"""Separated by ``;``: an optional profile first (``fast``: small optimiser settings for tests and
demos; ``default``: the tuned defaults), then ``NAME=VALUE`` engine settings (``doe app --engine``)."""


def database_url() -> str:
    """``DOE_DATABASE_URL`` or the default SQLite file (its folder created), read on every run."""
    if not os.environ.get("DOE_DATABASE_URL"):
        data_home().mkdir(parents=True, exist_ok=True)
    return default_database_url()


def engine_settings() -> EngineSettings | None:
    """Engine settings from ``DOE_ENGINE_SETTINGS`` (e.g. ``fast`` or ``default;trust_region=adaptive``)."""
    items = [item.strip() for item in os.environ.get(ENGINE_SETTINGS_ENV, "").split(";") if item.strip()]
    profile = items.pop(0).lower() if items and "=" not in items[0] else "default"
    if profile not in ("fast", "default"):
        raise DataError(f"{ENGINE_SETTINGS_ENV}: the profile must be 'fast' or 'default', got {profile!r}")
    if profile == "default" and not items:
        return None
    base = EngineSettings.fast() if profile == "fast" else EngineSettings()
    texts = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise DataError(f"{ENGINE_SETTINGS_ENV}: expected NAME=VALUE after the profile, got {item!r}")
        texts[name.strip()] = value
    return base.with_text(texts)


@dataclass
class CampaignHandle:
    """One shared Campaign and the lock that serialises writes and fits on it."""

    campaign: Campaign
    lock: threading.RLock = field(default_factory=threading.RLock)

    @contextmanager
    def acting(self, actor: str) -> Iterator[Campaign]:
        """The campaign with ``actor`` recorded as the person acting, for one change."""
        with self.lock:
            self.campaign.actor = actor
            yield self.campaign


@st.cache_resource(show_spinner=False)
def campaign_handle(url: str, name: str) -> CampaignHandle:
    """The shared Campaign ``name`` in the database ``url`` (opened once per process)."""
    logger.info("opening campaign %r", name)
    return CampaignHandle(Campaign.load(name, storage=url, actor="web", settings=engine_settings()))


@st.cache_resource(show_spinner="Preparing the demo campaign ...")
def demo_campaign(url: str) -> str:
    """Make sure the HfO2-NCM85 demo campaign exists in ``url``; its name."""
    return ensure_demo_campaign(url).name


def campaigns(url: str, include_archived: bool = False) -> pd.DataFrame:
    """The campaigns of the database (a quick query, not cached)."""
    return list_campaigns(url, include_archived=include_archived)


# ------------------------------------------------------------------ model results, cached by revision
@st.cache_data(show_spinner="Leave-one-out check of the model ...", max_entries=16)
def cross_validation(url: str, name: str, revision: int, _campaign: Campaign) -> pd.DataFrame:
    """``Campaign.cross_validate()`` for this revision of the campaign."""
    return _campaign.cross_validate()


@st.cache_data(show_spinner="Parameter importance ...", max_entries=16)
def importance(url: str, name: str, revision: int, _campaign: Campaign) -> pd.DataFrame:
    """``Campaign.feature_importance()`` for this revision of the campaign."""
    return _campaign.feature_importance()


@st.cache_data(show_spinner="Predicting the response surface ...", max_entries=64)
def predictions(url: str, name: str, revision: int, recipes: pd.DataFrame, _campaign: Campaign) -> pd.DataFrame:
    """``Campaign.predict(recipes)`` for this revision of the campaign."""
    return _campaign.predict(recipes)


@st.cache_data(show_spinner=False, max_entries=128)
def per_revision(kind: str, url: str, name: str, revision: int, options: tuple[Hashable, ...],
                 _build: Callable[[], Any]) -> Any:
    """``_build()`` cached by (kind, database, campaign, revision, options): figures and tables
    that depend only on the stored data are built once per change of the campaign (plotly
    figures take a few hundred ms to build)."""
    return _build()
