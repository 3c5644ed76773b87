"""Insights page: best so far, the Pareto front with the study's recipes marked, how well
the model predicts (leave-one-out), which parameters matter, and a 2-D response surface."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd
import streamlit as st

from doe.campaign import Campaign
from doe.domain.config import CampaignConfig
from doe.domain.ranking import ranking_text
from doe.plots import (
    best_so_far_figure,
    importance_figure,
    pareto_figure,
    parity_figure,
    response_surface_figure,
)
from doe.ui import components, resources, state
from doe.ui.surface import held_recipe, numeric_parameters, surface_grid
from doe.ui.tables import ID_COLUMN

# Experiment ids of the reference study's recipes (doe.datasets.load_recipes) and their labels.
# (No bare strings at module level here: Streamlit's magic would print them on the page.)
STUDY_RECIPES = {
    "study-hfo2": "study: 0.83 wt% HfO2, 400 C, 2 h, O2",
    "study-bare": "study: bare NCM85",
}
SURFACE_POINTS = 25


class _Views:
    """Figures and tables of one campaign revision, each built once (``resources.per_revision``)."""

    def __init__(self, url: str, campaign: Campaign) -> None:
        self.url, self.campaign = url, campaign
        self.revision = campaign.revision()

    def get(self, kind: str, build: Callable[[], Any], *options: Hashable) -> Any:
        return resources.per_revision(kind, self.url, self.campaign.name, self.revision, options, build)


def _best(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    campaign = views.campaign
    st.subheader("Best so far")
    st.plotly_chart(views.get("best-figure", lambda: best_so_far_figure(history, config)), key="insights_best_so_far")
    best = views.get("best-5", lambda: campaign.best(5))
    if best.empty:
        st.caption("No completed experiment meets the thresholds and outcome constraints yet.")
        return
    columns = [ID_COLUMN, *config.objective_names, *config.parameter_names]
    st.markdown("**Best recipes**")
    st.text(ranking_text(config))  # plain text: units are user strings
    st.dataframe(best[[c for c in columns if c in best.columns]], hide_index=True)


def _pareto(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    names = config.outcome_names
    if len(names) < 2:
        return
    st.subheader("Pareto front")
    left, right = st.columns(2)
    x = left.selectbox("x axis", names, index=0, key=state.PARETO_X)
    y = right.selectbox("y axis", names, index=1, key=state.PARETO_Y)
    highlight = {i: label for i, label in STUDY_RECIPES.items() if i in set(history[ID_COLUMN].astype(str))}
    figure = views.get("pareto-figure", lambda: pareto_figure(
        history, views.campaign.pareto_front(), x, y, config=config, highlight=highlight), x, y)
    st.plotly_chart(figure, key="insights_pareto")


def _model(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    url, campaign, revision = views.url, views.campaign, views.revision
    st.subheader("How well the model predicts (leave-one-out)")
    with components.guard("checking the model") as checking:
        cv = resources.cross_validation(url, campaign.name, revision, campaign)
    if not checking.ok:
        return
    st.plotly_chart(views.get("parity-figure", lambda: parity_figure(cv, config)), key="insights_parity")
    st.caption("Each point: the model fitted without that experiment predicts it (bars: ± 1 sd). Points near "
               "the dashed line mean the model can be trusted for that outcome.")

    st.subheader("Which parameters matter")
    with components.guard("computing parameter importance") as ranking:
        importance = resources.importance(url, campaign.name, revision, campaign)
    if ranking.ok:
        st.plotly_chart(views.get("importance-figure", lambda: importance_figure(importance)),
                        key="insights_importance")
    _surface(views, config, history)


def _surface(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    url, campaign, revision = views.url, views.campaign, views.revision
    st.subheader("Response surface")
    axes = numeric_parameters(config)
    if len(axes) < 2:
        st.caption("A response surface needs two numeric parameters.")
        return
    cols = st.columns(3)
    x = cols[0].selectbox("x parameter", axes, index=0, key=state.SURFACE_X)
    y = cols[1].selectbox("y parameter", axes, index=1, key=state.SURFACE_Y)
    outcome = cols[2].selectbox("outcome", config.outcome_names, index=0, key=state.SURFACE_OUTCOME)
    with components.guard("predicting the response surface") as predicting:
        held = views.get("held-recipe", lambda: held_recipe(config, campaign.best(1)))

        def build() -> Any:
            grid = surface_grid(config, x, y, held, points=SURFACE_POINTS)
            predicted = resources.predictions(url, campaign.name, revision, grid.recipes, campaign)
            mean = grid.reshape(predicted[f"{outcome}_mean"].to_numpy())
            done = history[history["status"] == "completed"]
            return response_surface_figure(grid.x_values, grid.y_values, mean, x=x, y=y, outcome=outcome,
                                           measured=done, best=held, config=config)

        figure = views.get("surface-figure", build, x, y, outcome)
    if not predicting.ok:
        return
    st.plotly_chart(figure, key="insights_surface")
    others = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                       for k, v in held.items() if k not in (x, y))
    st.caption(f"Other parameters held at the best recipe: {components.plain(others)}. Measured experiments "
               f"are drawn at their {components.plain(x)} and {components.plain(y)}, whatever their other "
               "parameters.")


def render() -> None:
    page = components.campaign_page("Insights")
    if page is None:
        return
    campaign, config = page.campaign, page.config
    history = campaign.history()
    if not history["status"].eq("completed").any():
        st.info("No completed experiment yet: record results first.")
        return
    views = _Views(resources.database_url(), campaign)
    _best(views, config, history)
    _pareto(views, config, history)
    _model(views, config, history)


if __name__ == "__main__":
    render()
