"""Plotly figures from campaign tables."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe.domain import ranking
from doe.domain.config import CampaignConfig
from doe.domain.exports import export_view
from doe.plots import (
    best_so_far_figure,
    importance_figure,
    pareto_figure,
    parity_figure,
    response_surface_figure,
)
from doe.templates import resolve_config

CONFIG = resolve_config("hfo2-ncm85")


def _history() -> pd.DataFrame:
    return pd.DataFrame({
        "experiment_id": ["study-bare", "study-hfo2", "E0001", "E0002", "E0003"],
        "status": ["completed", "completed", "completed", "failed", "completed"],
        "first_cycle_ce_pct": [79.0, 90.0, 85.0, np.nan, 92.0],
        "capacity_retention_pct": [58.0, 70.0, 75.0, np.nan, 60.0],
    })


def test_best_so_far_is_the_running_best_per_objective() -> None:
    fig = best_so_far_figure(_history(), CONFIG)
    lines = [t for t in fig.data if t.name == "best so far"]
    assert list(lines[0].y) == [79.0, 90.0, 90.0, 92.0]
    assert list(lines[1].y) == [58.0, 70.0, 75.0, 75.0]
    assert fig.layout.yaxis.title.text == "first_cycle_ce_pct [%]"


def test_pareto_front_and_the_study_recipe_are_marked() -> None:
    history = _history()
    front = history[history["experiment_id"].isin(["E0001", "E0003"])]
    fig = pareto_figure(history, front, "first_cycle_ce_pct", "capacity_retention_pct", config=CONFIG,
                        highlight={"study-hfo2": "study recipe"})
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["Pareto front"].x) == [85.0, 92.0]
    assert list(by_name["dominated"].text) == ["study-bare", "study-hfo2"]
    assert by_name["study recipe"].marker.symbol == "star" and list(by_name["study recipe"].y) == [70.0]
    empty = pareto_figure(history.iloc[:0], front, "first_cycle_ce_pct", "capacity_retention_pct")
    assert "no experiment" in empty.layout.annotations[0].text


def test_feasibility_agrees_across_best_so_far_pareto_best_table_and_export() -> None:
    # E0004 has the highest CE and retention but is 20 nm thick (the template allows <= 15 nm)
    history = pd.concat([_history(), pd.DataFrame({
        "experiment_id": ["E0004"], "status": ["completed"], "first_cycle_ce_pct": [95.0],
        "capacity_retention_pct": [80.0], "coating_thickness_nm": [20.0]})], ignore_index=True)
    history["coating_thickness_nm"] = history["coating_thickness_nm"].fillna(10.0)
    reason = "coating_thickness_nm = 20 breaks coating_thickness_nm <= 15"

    best_table = ranking.best(history, CONFIG, 10)
    front = ranking.pareto_front(history, CONFIG)
    assert "E0004" not in set(best_table["experiment_id"]) and "E0004" not in set(front["experiment_id"])

    fig = best_so_far_figure(history, CONFIG)
    lines = [t for t in fig.data if t.name == "best so far"]
    assert max(lines[0].y) == 92.0 and max(lines[1].y) == 75.0  # the line does not climb to E0004
    crosses = [t for t in fig.data if t.name.startswith("does not count")]
    shown = f"E0004: {html.escape(reason)}"  # plotly reads entities: the hover shows the reason literally
    assert [list(t.text) for t in crosses] == [[shown]] * 2

    pareto = {t.name: t for t in pareto_figure(history, front, "first_cycle_ce_pct", "capacity_retention_pct",
                                               config=CONFIG).data}
    assert list(pareto["does not count (hover: why)"].text) == [shown]
    assert set(pareto["Pareto front"].text) == set(front["experiment_id"])
    thresholds = sorted(s.x0 if s.x0 == s.x1 else s.y0 for s in pareto_figure(
        history, front, "first_cycle_ce_pct", "capacity_retention_pct", config=CONFIG).layout.shapes)
    assert thresholds == [55.0, 80.0]

    exported = export_view(history, pd.DataFrame(), CONFIG)
    notes = dict(zip(exported["experiment_id"], exported["ranking_note"], strict=True))
    assert notes["E0004"] == reason and notes["E0002"] == "failed run"
    assert {i for i, n in notes.items() if n == ""} == set(ranking.feasible_completed(history, CONFIG)["experiment_id"])


def test_parity_has_one_panel_per_outcome_with_the_identity_line() -> None:
    cv = pd.DataFrame({"experiment_id": ["a", "b", "a", "b"], "outcome": ["x", "x", "y", "y"],
                       "measured": [1.0, 2.0, 3.0, 5.0], "predicted_mean": [1.1, 1.8, 3.5, 4.0],
                       "predicted_sd": [0.1, 0.2, 0.3, 0.4]})
    fig = parity_figure(cv)
    assert [a.text for a in fig.layout.annotations] == ["x", "y"]
    points = [t for t in fig.data if t.mode == "markers"]
    assert list(points[1].error_y.array) == [0.3, 0.4]


def test_importance_bars_sorted_by_mean_importance() -> None:
    table = pd.DataFrame({"ce": [0.7, 0.2, 0.1], "retention": [0.5, 0.1, 0.4]},
                         index=pd.Index(["loading", "time", "temperature"], name="parameter"))
    fig = importance_figure(table)
    assert [t.name for t in fig.data] == ["ce", "retention"]
    assert list(fig.data[0].y) == ["time", "temperature", "loading"]


def test_response_surface_contour_with_measured_points() -> None:
    xs, ys = np.linspace(0, 3, 4), np.linspace(250, 750, 3)
    z = np.arange(12.0).reshape(3, 4)
    z[0, 0] = np.nan
    measured = pd.DataFrame({"experiment_id": ["E1"], "hfo2_loading_wt_pct": [1.0],
                             "anneal_time_h": [2.0], "first_cycle_ce_pct": [20.0]})
    fig = response_surface_figure(xs, ys, z, x="hfo2_loading_wt_pct", y="anneal_time_h",
                                  outcome="first_cycle_ce_pct", measured=measured,
                                  best={"hfo2_loading_wt_pct": 0.83, "anneal_time_h": 2.0}, config=CONFIG)
    contour, points, star = fig.data
    assert contour.type == "contour" and contour.zmax == 20.0 and contour.zmin == 1.0
    assert list(points.marker.color) == [20.0]
    assert star.name == "held recipe"
    assert fig.layout.yaxis.type == "log"  # anneal time is searched on a log scale


def test_user_text_in_titles_and_hover_text_is_shown_literally() -> None:
    """Plotly reads <a href>, <b>, <br> and entities in text: user text is written as entities."""
    from doe.domain.config import CampaignConfig

    data = CONFIG.to_dict()
    outcome = next(o for o in data["objectives"] if o["name"] == "first_cycle_ce_pct")
    outcome["unit"] = "<a href=//e.x>%</a>&<img src=x>"  # a unit is at most 32 characters
    config = CampaignConfig.from_dict(data)
    history = _history()
    history["experiment_id"] = ["<b>x</b>", *history["experiment_id"].iloc[1:]]
    fig = best_so_far_figure(history, config)
    shown = [fig.layout.yaxis.title.text, *fig.data[0].text]
    assert "&lt;a href=//e.x&gt;%&lt;/a&gt;&amp;&lt;img src=x&gt;" in shown[0]
    assert "&lt;b&gt;x&lt;/b&gt;" in shown
    assert not any("<a" in s or "<b>" in s or "<img" in s for s in shown)


def test_proposed_experiments_are_drawn_on_the_pareto_plot_and_the_surface(tmp_path: Path) -> None:
    # the next batch, where the model expects it (Pareto plot, with its sd as bars) and where
    # it sits in the parameter space (response surface)
    from doe import Campaign, VirtualLab
    from doe.engine import EngineSettings
    from doe.ui.tables import proposals_with_predictions

    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'p.sqlite3'}",
                                    settings=EngineSettings.fast())
    lab = VirtualLab(seed=2)
    for _ in range(3):
        batch = campaign.suggest(3)
        campaign.record(lab.run(batch[["experiment_id", *campaign.config.parameter_names]]))
    batch = campaign.suggest(2)
    history = campaign.history()
    proposed = proposals_with_predictions(history, campaign.proposals())
    assert proposed["experiment_id"].tolist() == batch["experiment_id"].tolist()
    x, y = "first_cycle_ce_pct", "capacity_retention_pct"
    assert proposed[f"{x}_mean"].tolist() == pytest.approx(batch[f"{x}_mean"].tolist())
    figure = pareto_figure(history, campaign.pareto_front(), x, y, config=campaign.config, proposed=proposed)
    trace = next(t for t in figure.data if t.name.startswith("proposed"))
    assert list(trace.x) == pytest.approx(batch[f"{x}_mean"].tolist())
    assert list(trace.error_y.array) == pytest.approx(batch[f"{y}_sd"].tolist())
    surface = response_surface_figure([0.0, 3.0], [250.0, 750.0], np.zeros((2, 2)), x="hfo2_loading_wt_pct",
                                      y="anneal_temperature_c", outcome=x, proposed=proposed)
    marks = next(t for t in surface.data if t.name.startswith("proposed"))
    assert list(marks.x) == pytest.approx(batch["hfo2_loading_wt_pct"].tolist())
    assert list(marks.text) == batch["experiment_id"].tolist()


def test_best_so_far_shows_a_still_cycling_curve_as_predicted_with_its_interval() -> None:
    """A curve's value predicted at its cycle was a grey cross 'does not count' on an axis of
    'measured experiments'; it is a prediction with its 90 % interval, never the best so far."""
    config = CampaignConfig.model_validate({
        "name": "curves", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
        "objectives": [{"name": "ce_pct", "goal": "maximize"},
                       {"name": "retention_pct", "goal": "maximize", "over": "cycle", "at": 200}]})
    history = pd.DataFrame({"experiment_id": ["E1", "E2", "E3"], "status": "completed", "x": [0.1, 0.5, 0.9],
                            "ce_pct": [80.0, 85.0, 90.0], "retention_pct": [60.0, 95.0, 65.0],
                            "retention_pct_pred_sd": [0.0, 10.0, 0.0]})
    fig = best_so_far_figure(history, config)
    panel = {t.name: t for t in fig.data if t.yaxis == "y2"}
    predicted = panel["predicted, still cycling (90 % interval)"]
    assert list(predicted.text) == ["E2: retention_pct at cycle 200 predicted, not measured yet"] and list(predicted.y) == [95.0]
    assert list(predicted.error_y.array) == pytest.approx([16.449])
    assert list(predicted.error_y.arrayminus) == pytest.approx([16.449])
    bounded = CampaignConfig.model_validate({**config.model_dump(exclude_none=True), "objectives": [
        {"name": "ce_pct", "goal": "maximize"},
        {"name": "retention_pct", "goal": "maximize", "over": "cycle", "at": 200, "valid_range": [0.0, 100.0]}]})
    clipped = next(t for t in best_so_far_figure(history, bounded).data
                   if t.name.startswith("predicted") and t.yaxis == "y2")
    assert list(clipped.error_y.array) == pytest.approx([5.0])  # 95 + 5 = 100, the top of the valid range
    assert list(panel["best so far"].y) == [60.0, 60.0, 65.0]  # the prediction of 95 is not the best
    assert len(panel["does not count (hover: why)"].x) == 0 and predicted.showlegend
    assert fig.layout.xaxis2.title.text == "completed experiment (in order)"


def test_best_so_far_panels_share_each_experiments_place_and_the_line_reaches_the_latest() -> None:
    """An experiment sat at x = 4 in the CE panel and x = 1 in the retention panel below it (each
    panel counted only its own values), and a single value that counts drew no line."""
    history = pd.DataFrame({"experiment_id": ["E1", "E2", "E3", "E4"], "status": "completed",
                            "first_cycle_ce_pct": [80.0, 85.0, 83.0, 90.0],
                            "capacity_retention_pct": [np.nan, 65.0, np.nan, np.nan]})
    fig = best_so_far_figure(history, CONFIG)
    ce = {t.name: t for t in fig.data if t.yaxis == "y"}
    retention = {t.name: t for t in fig.data if t.yaxis == "y2"}
    assert sorted(x for t in ce.values() if t.mode == "markers" for x in t.x) == [1, 2, 3, 4]
    assert list(retention["measured"].x) == [2] and list(retention["measured"].text) == ["E2"]
    assert list(retention["best so far"].x) == [2, 4] and list(retention["best so far"].y) == [65.0, 65.0]
    assert fig.layout.xaxis2.title.text == "completed experiment (in order)"


def test_the_curves_figure_shows_ids_and_the_unit_literally() -> None:
    """Found in a browser walk: ids '<a href=...>E2</a>' were a clickable link in the legend of the
    curves plot, and the unit '<b>%</b><br>y' was bold over two lines."""
    from doe.plots import curves_figure

    points = pd.DataFrame({"experiment_id": ["<b>E1</b>"] * 3 + ["<a href='https://evil.example'>E2</a>"] * 3,
                           "outcome": "retention_pct", "cycle": [1, 2, 3] * 2, "value": [99.0, 98.0, 97.0] * 2})
    continuations = pd.DataFrame({"experiment_id": "<a href='https://evil.example'>E2</a>", "cycle": [3, 200],
                                  "mean": [97.0, 70.0], "lower": [96.0, 60.0], "upper": [98.0, 80.0]})
    fig = curves_figure(points, continuations, outcome="retention_pct", at=200, unit="<b>%</b><br>y")
    shown = [fig.layout.yaxis.title.text, fig.layout.title.text, *(trace.name for trace in fig.data)]
    assert "&lt;b&gt;E1&lt;/b&gt;" in shown and "retention_pct (&lt;b&gt;%&lt;/b&gt;&lt;br&gt;y)" in shown
    assert not any("<a" in s or "<b>" in s or "<br>" in s for s in shown)


def test_the_curves_figure_draws_each_cell_of_an_experiment_apart() -> None:
    """The curves plot drew two cells of one experiment as one set of markers, so two cells at
    70 and 50 % read as one zig-zag curve. Each cell is its own trace, named by its label, in
    its experiment's colour (shared with the predicted continuation) with a symbol of its own."""
    from doe.plots import curves_figure

    points = pd.DataFrame({"experiment_id": ["E1"] * 6 + ["E2"] * 3, "outcome": "retention_pct",
                           "replicate": ["A"] * 3 + ["<b>B</b>"] * 3 + [None] * 3,
                           "cycle": [1, 2, 3] * 3, "value": [99.0, 98.0, 97.0, 95.0, 93.0, 91.0, 99.0, 99.0, 98.0]})
    continuations = pd.DataFrame({"experiment_id": "E1", "cycle": [3, 200], "mean": [94.0, 60.0],
                                  "lower": [93.0, 50.0], "upper": [95.0, 70.0]})
    fig = curves_figure(points, continuations, outcome="retention_pct", at=200)
    markers = {t.name: t for t in fig.data if t.mode == "markers"}
    assert sorted(markers) == ["E1 cell &lt;b&gt;B&lt;/b&gt;", "E1 cell A", "E2"]
    assert list(markers["E1 cell A"].y) == [99.0, 98.0, 97.0] and list(markers["E2"].y) == [99.0, 99.0, 98.0]
    a, b = markers["E1 cell A"], markers["E1 cell &lt;b&gt;B&lt;/b&gt;"]
    assert a.marker.color == b.marker.color != markers["E2"].marker.color and a.marker.symbol != b.marker.symbol
    predicted = next(t for t in fig.data if t.name == "E1 (predicted)")
    assert predicted.line.color == a.marker.color
