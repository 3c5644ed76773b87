"""Long-lived objects of the web app: the database URL, the campaigns, cached model results.

A :class:`~doe.Campaign` keeps its fitted models (cached by the data's content), so the app
keeps one Campaign per (database URL, campaign name) in ``st.cache_resource``: a rerun never
refits, a fit happens once after the data changed, in a background thread (when the campaign is
opened, after every change made through the app, and for the most recently changed campaigns
when the server starts: :func:`warm_up`). The leave-one-out check and importance live on the
:class:`CampaignHandle` keyed by the campaign's stored state (``Campaign.state()``: its revision
and a token that every write sets anew, so a restored backup or a campaign made again under its
name is a new state even where its revision number is one seen before), so every session of the
process shares them; predictions and figures are cached in ``st.cache_data`` by that state.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from doe.campaign import Campaign, list_campaigns
from doe.demo import seed_demo_campaign
from doe.engine.settings import EngineSettings
from doe.errors import DataError, DoeError
from doe.paths import data_home, default_database_url
from doe.storage.snapshot import CampaignState

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


WARM_CAMPAIGNS = 3
"""How many of the most recently changed campaigns :func:`warm_up` prepares after the server starts."""


@dataclass
class CampaignHandle:
    """One shared Campaign, the lock that serialises writes and model computations on it, and
    the model results of its current state (shared by every page and session of the process)."""

    campaign: Campaign
    lock: threading.RLock = field(default_factory=threading.RLock)
    results: dict[tuple[str, CampaignState], Any] = field(default_factory=dict)
    warming: threading.Thread | None = None
    """The latest background :meth:`warm` (None before the first)."""

    @contextmanager
    def acting(self, actor: str) -> Iterator[Campaign]:
        """The campaign with ``actor`` recorded as the person acting, for one change; after the
        change the models of the new data are prepared in the background."""
        with self.lock:
            self.campaign.actor = actor
            yield self.campaign
        self.warm_in_background()

    def derived(self, kind: str, build: Callable[[Campaign], Any]) -> Any:
        """``build(campaign)`` for the campaign's current state, computed once per process
        (a second caller waits for the first instead of fitting again)."""
        key = (kind, self.campaign.state())
        if key in self.results:
            return self.results[key]
        with self.lock:
            if key not in self.results:
                value = build(self.campaign)
                self.results = {k: v for k, v in self.results.items() if k[1] == key[1]} | {key: value}
        return self.results[key]

    def cross_validation(self) -> pd.DataFrame:
        """``Campaign.cross_validate()`` of the current state."""
        return self.derived("cross-validation", Campaign.cross_validate)  # type: ignore[no-any-return]

    def importance(self) -> pd.DataFrame:
        """``Campaign.feature_importance()`` of the current state."""
        return self.derived("importance", Campaign.feature_importance)  # type: ignore[no-any-return]

    def warm(self) -> None:
        """Fit the models and compute the leave-one-out check and importance now (nothing
        when the campaign has no finished experiment)."""
        try:
            # one model computation at a time per campaign (torch's first calls are not thread-safe)
            with self.lock:
                if self.campaign.history(status="completed").empty:
                    return
                self.cross_validation()
                self.importance()
        except DoeError as err:  # e.g. too little data: the page says so when it is opened
            logger.info("warming campaign %r: %s", self.campaign.name, err)
        except Exception:
            logger.exception("warming campaign %r failed", self.campaign.name)

    def warm_in_background(self) -> threading.Thread:
        """:meth:`warm` in a background thread (the page that started it does not wait)."""
        # not a daemon: the interpreter waits for a fit to end rather than abort inside torch at exit
        thread = threading.Thread(target=self.warm, name=f"doe-warm-{self.campaign.name}", daemon=False)
        thread.start()
        self.warming = thread
        return thread


@st.cache_resource(show_spinner=False)
def campaign_handle(url: str, name: str) -> CampaignHandle:
    """The shared Campaign ``name`` in the database ``url`` (opened once per process; its
    models are fitted in the background straight away)."""
    logger.info("opening campaign %r", name)
    handle = CampaignHandle(Campaign.load(name, storage=url, actor="web", settings=engine_settings()))
    handle.warm_in_background()
    return handle


@st.cache_resource(show_spinner=False)
def warm_up(url: str) -> list[str]:
    """Once per server process: open the :data:`WARM_CAMPAIGNS` most recently changed
    campaigns and fit their models in the background; their names."""
    table = list_campaigns(url)
    if table.empty:
        return []
    order = table.sort_values("updated_at", ascending=False) if "updated_at" in table.columns else table
    names = order["name"].astype(str).head(WARM_CAMPAIGNS).tolist()
    for name in names:
        campaign_handle(url, name)
    return names


def warm_up_and_wait(url: str, timeout_s: float) -> list[str]:
    """:func:`warm_up`, then wait up to ``timeout_s`` in all for those campaigns' models (the rest
    goes on in the background); the names of the campaigns that are ready."""
    deadline = time.monotonic() + timeout_s
    ready = []
    for name in warm_up(url):
        thread = campaign_handle(url, name).warming
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        if thread is None or not thread.is_alive():
            ready.append(name)
    return ready


@st.cache_resource(show_spinner="Preparing the demo campaign ...")
def demo_campaign(url: str) -> str | None:
    """The demo campaign's name, made first in a database without campaigns (:mod:`doe.demo`)."""
    return seed_demo_campaign(url)


def campaigns(url: str, include_archived: bool = False) -> pd.DataFrame:
    """The campaigns of the database (a quick query, not cached)."""
    return list_campaigns(url, include_archived=include_archived)


# ------------------------------------------------------------------ model results, cached by stored state
@st.cache_data(show_spinner="Predicting the response surface ...", max_entries=64)
def predictions(url: str, name: str, stored: CampaignState, recipes: pd.DataFrame,
                _campaign: Campaign) -> pd.DataFrame:
    """``Campaign.predict(recipes)`` for this stored state (``Campaign.state()``) of the campaign."""
    return _campaign.predict(recipes)


@st.cache_data(show_spinner=False, max_entries=128)
def per_state(kind: str, url: str, name: str, stored: CampaignState, options: tuple[Hashable, ...],
              _build: Callable[[], Any]) -> Any:
    """``_build()`` cached by (kind, database, campaign, stored state, options): figures and tables
    that depend only on the stored data are built once per change of the campaign (plotly
    figures take a few hundred ms to build)."""
    return _build()
