"""Insights page: whether the model can be trusted (leave-one-out R² and RMSE in words) on top,
then one section at a time: best so far, the Pareto front with the study's recipes and the
proposed runs marked, the leave-one-out check, and, from a minimum number of experiments on,
which parameters matter, a 2-D response surface and a prediction profiler; curves where the
campaign has them.

One section at a time because the browser's drawing of the plots, not the server, is what takes
the time (Streamlit's tabs would render every section's plots on each visit)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd
import streamlit as st

from doe.domain.config import CampaignConfig
from doe.domain.curves import curve_continuations, still_cycling
from doe.domain.diagnostics import min_experiments, model_trust
from doe.domain.ranking import ranking_text
from doe.domain.replicates import CELLS_NOTE, N_SUFFIX, with_summaries
from doe.plots import (
    best_so_far_figure,
    curves_figure,
    importance_figure,
    pareto_figure,
    parity_figure,
    response_surface_figure,
)
from doe.plots.profiler import profiler_figure
from doe.ui import components, resources, state
from doe.ui.shown_numbers import number_table
from doe.ui.surface import (
    candidate_recipes,
    held_recipe,
    numeric_parameters,
    predicted_front,
    profile_slices,
    surface_grid,
)
from doe.ui.tables import ID_COLUMN, proposals_with_predictions

# Experiment ids of the reference study's recipes (doe.datasets.load_recipes) and their labels.
# (No bare strings at module level here: Streamlit's magic would print them on the page.)
STUDY_RECIPES = {
    "study-hfo2": "study: 0.83 wt% HfO2, 400 C, 2 h, O2",
    "study-bare": "study: bare NCM85",
}
SURFACE_POINTS = 25
# The sections of the page and their labels (also in the URL: ?section=Response+surface), in the order
# offered.
SECTIONS = {
    "best": "Best so far",
    "pareto": "Pareto front",
    "importance": "Which parameters matter",
    "surface": "Response surface",
    "profiler": "Prediction profiler",
    "check": "Leave-one-out check",
    "curves": "Curves",
}


class _Views:
    """Figures and tables of one stored state of the campaign, each built once (``resources.per_state``)."""

    def __init__(self, url: str, handle: resources.CampaignHandle) -> None:
        self.url, self.handle, self.campaign = url, handle, handle.campaign
        self.stored = handle.campaign.state()

    def get(self, kind: str, build: Callable[[], Any], *options: Hashable) -> Any:
        with self.handle.lock:  # model predictions one at a time per campaign, never beside a fit
            return resources.per_state(kind, self.url, self.campaign.name, self.stored, options, build)


def _best(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    campaign = views.campaign
    st.subheader("Best so far")
    st.plotly_chart(views.get("best-figure", lambda: best_so_far_figure(history, config)), key="insights_best_so_far")
    best = views.get("best-5", lambda: campaign.best(5))
    if best.empty:
        st.caption("No completed experiment meets the thresholds and outcome constraints yet.")
        return
    columns = [ID_COLUMN, *with_summaries(config.objective_names, best.columns), *config.parameter_names]
    st.markdown("**Best recipes**")
    st.text(ranking_text(config))  # plain text: units are user strings
    shown = best[[c for c in columns if c in best.columns]]
    if any(c.endswith(N_SUFFIX) for c in shown.columns):
        st.caption(CELLS_NOTE)
    data, formats = number_table(shown, config)  # display only, as on History
    st.dataframe(data, hide_index=True, column_config=formats)


def _pareto(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    names = config.outcome_names
    if len(names) < 2:
        return
    st.subheader("Pareto front")
    left, right = st.columns(2)
    x = left.selectbox("x axis", names, index=0, key=state.PARETO_X)
    y = right.selectbox("y axis", names, index=1, key=state.PARETO_Y)
    highlight = {i: label for i, label in STUDY_RECIPES.items() if i in set(history[ID_COLUMN].astype(str))}
    front = None
    if _enough(config, history):
        with components.guard("predicting the front") as predicting:
            front = views.get("predicted-front", lambda: _predicted_front(views, config))
        front = front if predicting.ok else None
    figure = views.get("pareto-figure", lambda: pareto_figure(
        history, views.campaign.pareto_front(), x, y, config=config, highlight=highlight, predicted_front=front,
        proposed=proposals_with_predictions(history, views.campaign.proposals())), x, y)
    st.plotly_chart(figure, key="insights_pareto")
    st.caption("Crosses: recipes that do not count (failed, an objective not measured, a constraint broken; "
               "hover for the reason), by the same rule as the best-recipes table and the exports. Dotted lines: "
               "thresholds and outcome limits. Dashed line: the front the model predicts over the whole space. "
               "Open diamonds: the experiments proposed or running, at the outcomes predicted when they were "
               "proposed (bars: ± 1 sd).")


def _predicted_front(views: _Views, config: CampaignConfig) -> pd.DataFrame:
    recipes = candidate_recipes(config, n=256, seed=views.campaign.seed)
    prediction = resources.predictions(views.url, views.campaign.name, views.stored, recipes, views.campaign)
    return predicted_front(config, recipes, prediction)


def _enough(config: CampaignConfig, history: pd.DataFrame) -> bool:
    return int((history["status"] == "completed").sum()) >= min_experiments(config)


def _trust(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> pd.DataFrame | None:
    """The trust statement and its table, always on top; the leave-one-out predictions (None on an error)."""
    st.subheader("Can the model be trusted?")
    with components.guard("checking the model") as checking, st.spinner("Checking the model (leave-one-out) ..."):
        cv = views.handle.cross_validation()
    if not checking.ok:
        return None
    trust = model_trust(cv, config)
    st.text("\n".join(trust["verdict"]))  # plain text: outcome names and units are user strings
    st.dataframe(trust.drop(columns=["verdict"]), hide_index=True, key="insights_trust_table", column_config={
        "r2": st.column_config.NumberColumn("R² (leave-one-out)", format="%.2f",
                                            help="1: predicts perfectly; 0: no better than the average"),
        "rmse": st.column_config.NumberColumn("typical error (RMSE)", format="%.3g",
                                              help="root-mean-square error of the leave-one-out predictions, "
                                                   "in the outcome's unit")})
    done, minimum = int((history["status"] == "completed").sum()), min_experiments(config)
    if done < minimum:
        st.info(f"Parameter importance, the response surface, the prediction profiler and the predicted front "
                f"appear from {minimum} completed experiments on ({done} so far): with fewer, they would mostly "
                "show the model's assumptions.")
    return cv


def _too_few(config: CampaignConfig, history: pd.DataFrame, what: str) -> bool:
    """True (and says so) below the minimum number of experiments for the model's views."""
    done, minimum = int((history["status"] == "completed").sum()), min_experiments(config)
    if done >= minimum:
        return False
    st.info(f"The {what} appears from {minimum} completed experiments on ({done} so far).")
    return True


def _check(views: _Views, config: CampaignConfig, cv: pd.DataFrame | None) -> None:
    st.subheader("Leave-one-out check")
    if cv is None:
        return
    st.plotly_chart(views.get("parity-figure", lambda: parity_figure(cv, config)), key="insights_parity")
    st.caption("Each point: the model fitted without that experiment predicts it (bars: ± 1 sd). Points "
               "near the dashed line mean the model can be trusted for that outcome.")


def _importance(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    st.subheader("Which parameters matter")
    if _too_few(config, history, "parameter importance"):
        return
    with components.guard("computing parameter importance") as ranking, st.spinner("Parameter importance ..."):
        importance = views.handle.importance()
    if ranking.ok:
        st.plotly_chart(views.get("importance-figure", lambda: importance_figure(importance)),
                        key="insights_importance")
        st.caption("Share of each outcome's predicted variation that comes from each parameter, over the values "
                   "measured so far; a parameter that never varied scores 0.")


def _profiler(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    url, campaign, stored = views.url, views.campaign, views.stored
    st.subheader("Prediction profiler")
    if _too_few(config, history, "prediction profiler"):
        return
    done = history[history["status"] == "completed"]
    best = views.get("best-1", lambda: campaign.best(1))
    ids = done[ID_COLUMN].astype(str).tolist()
    first = str(best[ID_COLUMN].iloc[0]) if len(best) else ids[-1]
    cols = st.columns(2)
    outcome = cols[0].selectbox("outcome", config.outcome_names, index=0, key=state.PROFILE_OUTCOME)
    chosen = cols[1].selectbox("through the recipe of", ids, index=ids.index(first) if first in ids else 0,
                               key=state.PROFILE_RECIPE)
    row = done[done[ID_COLUMN].astype(str) == chosen]
    held = held_recipe(config, row)
    with components.guard("predicting the profiler") as predicting:
        def build() -> Any:
            slices = profile_slices(config, held)
            prediction = resources.predictions(url, campaign.name, stored, slices.recipes, campaign)
            return profiler_figure(slices.table(prediction, outcome), outcome, held, config)

        figure = views.get("profiler-figure", build, outcome, chosen)
    if predicting.ok:
        st.plotly_chart(figure, key="insights_profiler")
        st.caption(f"Each panel varies one parameter, the others held at {components.plain(chosen)} (dashed "
                   "line); the band is the prediction ± 2 sd.")


def _surface(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    url, campaign, stored = views.url, views.campaign, views.stored
    st.subheader("Response surface")
    if _too_few(config, history, "response surface"):
        return
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
            predicted = resources.predictions(url, campaign.name, stored, grid.recipes, campaign)
            mean = grid.reshape(predicted[f"{outcome}_mean"].to_numpy())
            done = history[history["status"] == "completed"]
            return response_surface_figure(grid.x_values, grid.y_values, mean, x=x, y=y, outcome=outcome,
                                           measured=done, best=held, config=config,
                                           proposed=proposals_with_predictions(history, campaign.proposals()))

        figure = views.get("surface-figure", build, x, y, outcome)
    if not predicting.ok:
        return
    st.plotly_chart(figure, key="insights_surface")
    others = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                       for k, v in held.items() if k not in (x, y))
    st.caption(f"Other parameters held at the best recipe: {components.plain(others)}. Measured experiments "
               f"are drawn at their {components.plain(x)} and {components.plain(y)}, whatever their other "
               "parameters; open diamonds are the experiments proposed or running.")


def _curves(views: _Views, config: CampaignConfig, history: pd.DataFrame) -> None:
    if not config.curve_outcomes:
        return
    points = views.get("measurements", views.campaign.measurements)
    cycling = history.loc[still_cycling(history, config), ID_COLUMN].tolist()
    st.subheader("Curves")
    st.text("Still cycling: " + (", ".join(map(str, cycling)) if cycling else "none"))  # ids are user strings
    for outcome, at in config.curve_outcomes.items():
        def build(o: str = outcome, a: int = at) -> Any:
            continuation = curve_continuations(points, o, a, valid_range=config.valid_range_of(o))
            return curves_figure(points, continuation, outcome=o, at=a, unit=config.unit_of(o))

        st.plotly_chart(views.get("curves-figure", build, outcome), key=f"insights_curves_{outcome}")


def sections(config: CampaignConfig) -> list[str]:
    """The sections this campaign's Insights page offers (keys of :data:`SECTIONS`)."""
    return [key for key in SECTIONS
            if (key != "pareto" or len(config.outcome_names) >= 2) and (key != "curves" or config.curve_outcomes)]


def render() -> None:
    page = components.campaign_page("Insights")
    if page is None:
        return
    campaign, config = page.campaign, page.config
    history = campaign.history()
    if not history["status"].eq("completed").any():
        st.info("No completed experiment yet: record results first.")
        return
    views = _Views(resources.database_url(), page.handle)
    cv = _trust(views, config, history)
    offered = sections(config)
    chosen = st.segmented_control("Show", offered, default=offered[0], required=True, format_func=SECTIONS.__getitem__,
                                  key=state.INSIGHTS_SECTION, bind="query-params")
    show: dict[str, Callable[[], None]] = {
        "best": lambda: _best(views, config, history),
        "pareto": lambda: _pareto(views, config, history),
        "importance": lambda: _importance(views, config, history),
        "surface": lambda: _surface(views, config, history),
        "profiler": lambda: _profiler(views, config, history),
        "check": lambda: _check(views, config, cv),
        "curves": lambda: _curves(views, config, history),
    }
    show[chosen]()

if __name__ == "__main__":
    render()
