"""Plotly figures of a campaign (see :mod:`doe.plots`)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from doe.domain.config import CampaignConfig
from doe.domain.ranking import ranking_notes

ID_COLUMN = "experiment_id"
MEASURED_COLOR = "#1f77b4"
FRONT_COLOR = "#d62728"
OTHER_COLOR = "#9aa5b1"
HIGHLIGHT_COLOR = "#2ca02c"


def text(value: object) -> str:
    """User text (an id, a unit, a label) for a plotly title, label or hover text: plotly reads
    a few HTML tags there (``<a href>``, ``<b>``, ``<br>``, ``<span style>``) and entities, so
    ``&``, ``<`` and ``>`` are written as entities and the text shows literally."""
    return html.escape(str(value), quote=False)


def _texts(values: pd.Series) -> list[str]:
    return [text(v) for v in values.astype(str)]


def _label(config: CampaignConfig | None, name: str) -> str:
    """Axis title: the column name with its unit, e.g. ``anneal_temperature_c [C]`` (plain text)."""
    unit = config.unit_of(name) if config is not None else None
    return text(f"{name} [{unit}]" if unit else name)


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=260, margin={"l": 20, "r": 20, "t": 30, "b": 20})
    return fig


def best_so_far_figure(history: pd.DataFrame, config: CampaignConfig) -> go.Figure:
    """Each objective's measured value per experiment and the best so far.

    Args:
        history: ``Campaign.history()`` rows in the order the experiments were created.
        config: the campaign configuration (objective names, goals, thresholds, units).

    Returns:
        One panel per objective: x is the experiment's position among the completed ones (1,
        2, ...; the same in every panel), markers the measured values, a step line the best so
        far (maximum or minimum after the goal, from the first value that counts to the latest
        experiment) and a dotted line the objective's threshold if it has one. A
        curve objective's value still predicted (``<objective>_pred_sd`` above 0: its cells
        still cycle) is an open diamond with its 90 % interval, never the best so far.
    """
    objectives = config.objectives
    fig = make_subplots(rows=len(objectives), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[text(f"{o.name} ({o.goal_text()})") for o in objectives])
    done = history[history["status"] == "completed"] if "status" in history.columns else history
    notes = ranking_notes(done, config) if len(done) else pd.Series(dtype=object)
    legend: set[str] = set()  # each kind of marker once, in the first panel that has it
    for row, objective in enumerate(objectives, start=1):
        values = done[objective.name].astype(float) if objective.name in done.columns else pd.Series(dtype=float)
        measured = done[values.notna()]
        values = values[values.notna()]
        x = np.flatnonzero(done.index.isin(values.index)) + 1  # its place among the completed: one x per experiment
        ids = _texts(measured[ID_COLUMN]) if ID_COLUMN in measured.columns else [""] * len(values)
        counts = (notes.reindex(values.index) == "").to_numpy(dtype=bool)
        pred_sd = pd.to_numeric(measured.get(objective.name + "_pred_sd", pd.Series(0.0, index=measured.index)),
                                errors="coerce").fillna(0.0).to_numpy(dtype=float)
        predicted = (pred_sd > 0) & ~counts  # a curve still cycling: ranking_notes says it does not count yet
        low, high = config.valid_range_of(objective.name) or (None, None)
        band = 1.6449 * pred_sd  # its 90 % interval, inside the outcome's valid range (as on the Insights page)
        above = np.minimum(band, (np.inf if high is None else high) - values.to_numpy())
        below = np.minimum(band, values.to_numpy() - (-np.inf if low is None else low))
        for mask, name, color, symbol in ((counts, "measured", MEASURED_COLOR, "circle"),
                                          (predicted, "predicted, still cycling (90 % interval)", MEASURED_COLOR,
                                           "diamond-open"),
                                          (~counts & ~predicted, "does not count (hover: why)", OTHER_COLOR, "x")):
            fig.add_trace(go.Scatter(
                x=x[mask], y=values.to_numpy()[mask], mode="markers", name=name,
                error_y={"type": "data", "array": above[mask], "arrayminus": below[mask], "visible": True}
                if symbol == "diamond-open" else None,
                marker={"color": color, "size": 8, "symbol": symbol},
                text=[f"{i}: {text(n)}" if n else i for i, n in zip(
                    np.asarray(ids, dtype=object)[mask], notes.reindex(values.index).to_numpy()[mask], strict=True)],
                hovertemplate="%{text}<br>%{y:.4g}<extra></extra>",
                showlegend=bool(mask.any()) and name not in legend, legendgroup=name,
            ), row=row, col=1)
            if mask.any():
                legend.add(name)
        if counts.any():  # the one feasibility rule: only recipes that count can be the best so far
            counted = values.where(counts)
            if objective.goal == "target":  # the measured value closest to the set point so far
                score = pd.Series(objective.score(counted.to_numpy()), index=values.index).fillna(-np.inf)
                best = counted.where(score >= score.cummax()).ffill()
            else:
                best = (counted.cummax() if objective.goal == "maximize" else counted.cummin()).ffill()
            first = int(np.argmax(best.notna().to_numpy()))  # from the first that counts to the latest experiment
            steps_x = [*x[first:], len(done)] if x[-1] < len(done) else list(x[first:])
            steps_y = [*best.to_numpy()[first:], best.iloc[-1]] if x[-1] < len(done) else list(best.to_numpy()[first:])
            fig.add_trace(go.Scatter(
                x=steps_x, y=steps_y, mode="lines", line={"shape": "hv", "color": FRONT_COLOR, "width": 2},
                name="best so far", showlegend=row == 1, legendgroup="best",
            ), row=row, col=1)
        if objective.threshold is not None:
            fig.add_hline(y=objective.threshold, line_dash="dot", line_color=OTHER_COLOR, row=row, col=1)
        if objective.target is not None:
            fig.add_hline(y=objective.target, line_dash="dash", line_color=FRONT_COLOR, row=row, col=1)
        fig.update_yaxes(title_text=_label(config, objective.name), row=row, col=1)
    fig.update_xaxes(title_text="completed experiment (in order)", row=len(objectives), col=1)
    if len(done) <= 20:
        fig.update_xaxes(dtick=1)
    fig.update_layout(height=260 * len(objectives) + 60, margin={"l": 60, "r": 20, "t": 40, "b": 40},
                      legend={"orientation": "h", "y": -0.12})
    return fig


def pareto_figure(
    history: pd.DataFrame,
    front: pd.DataFrame,
    x: str,
    y: str,
    *,
    config: CampaignConfig | None = None,
    highlight: Mapping[str, str] | None = None,
    predicted_front: pd.DataFrame | None = None,
    proposed: pd.DataFrame | None = None,
) -> go.Figure:
    """Two outcomes of every completed experiment with the Pareto front drawn over them.

    With ``config``, the recipes that do not count (:func:`doe.domain.ranking.ranking_notes`,
    the rule of the best-recipes table) are drawn as crosses with their reason on hover, and
    each axis's threshold or outcome-constraint bound as a dotted line.

    Args:
        history: ``Campaign.history()`` (only rows with both ``x`` and ``y`` measured are drawn).
        front: ``Campaign.pareto_front()`` rows.
        x, y: outcome columns for the axes (e.g. CE and retention).
        config: for units and goals (the front line is sorted along ``x``).
        highlight: ``experiment_id -> label`` of experiments to mark with a star, e.g. the
            study's recipes ``{"study-hfo2": "study: 0.83 wt% HfO2", "study-bare": "bare NCM85"}``.
        predicted_front: recipes on the front the model predicts (``<x>_mean``, ``<y>_mean``
            columns), drawn as a dashed line.
        proposed: the experiments proposed or running, at their predicted ``<x>_mean`` and
            ``<y>_mean`` with ``<x>_sd``/``<y>_sd`` error bars (open diamonds).
    """
    fig = go.Figure()
    rows = history.dropna(subset=[x, y]) if {x, y} <= set(history.columns) else history.iloc[0:0]
    if rows.empty:
        return _empty(f"no experiment has both {x} and {y} measured yet")
    front_ids = set(front[ID_COLUMN].astype(str)) if ID_COLUMN in front.columns else set()
    is_front = rows[ID_COLUMN].astype(str).isin(front_ids)
    notes = ranking_notes(rows, config) if config is not None else pd.Series("", index=rows.index, dtype=object)
    others = rows[~is_front & (notes == "")]
    fig.add_trace(go.Scatter(
        x=others[x], y=others[y], mode="markers", name="dominated",
        marker={"color": OTHER_COLOR, "size": 8}, text=_texts(others[ID_COLUMN]),
        hovertemplate="%{text}<br>%{x:.4g}, %{y:.4g}<extra></extra>",
    ))
    excluded = rows[notes != ""]
    if len(excluded):
        fig.add_trace(go.Scatter(
            x=excluded[x], y=excluded[y], mode="markers", name="does not count (hover: why)",
            marker={"color": OTHER_COLOR, "size": 9, "symbol": "x"},
            text=[f"{i}: {text(n)}" for i, n in zip(_texts(excluded[ID_COLUMN]), notes[notes != ""], strict=True)],
            hovertemplate="%{text}<br>%{x:.4g}, %{y:.4g}<extra></extra>",
        ))
    if predicted_front is not None and {f"{x}_mean", f"{y}_mean"} <= set(predicted_front.columns):
        line = predicted_front.sort_values(f"{x}_mean")
        fig.add_trace(go.Scatter(
            x=line[f"{x}_mean"], y=line[f"{y}_mean"], mode="lines", name="front the model predicts",
            line={"color": FRONT_COLOR, "dash": "dash", "width": 1.5}, hoverinfo="skip",
        ))
    for axis, name in (("x", x), ("y", y)):
        for value in _limits(config, name):
            (fig.add_vline if axis == "x" else fig.add_hline)(value, line_dash="dot", line_color=OTHER_COLOR)
    on_front = rows[is_front].sort_values(x)
    if len(on_front):
        fig.add_trace(go.Scatter(
            x=on_front[x], y=on_front[y], mode="lines+markers", name="Pareto front",
            line={"color": FRONT_COLOR, "shape": "linear"}, marker={"color": FRONT_COLOR, "size": 10},
            text=_texts(on_front[ID_COLUMN]), hovertemplate="%{text}<br>%{x:.4g}, %{y:.4g}<extra></extra>",
        ))
    _add_proposed(fig, proposed, f"{x}_mean", f"{y}_mean", f"{x}_sd", f"{y}_sd")
    for exp_id, label in (highlight or {}).items():
        mark = rows[rows[ID_COLUMN].astype(str) == exp_id]
        if mark.empty:
            continue
        fig.add_trace(go.Scatter(
            x=mark[x], y=mark[y], mode="markers+text", name=text(label), text=[text(label)] * len(mark),
            textposition="top center", marker={"symbol": "star", "size": 16, "color": HIGHLIGHT_COLOR,
                                               "line": {"color": "black", "width": 1}},
            hovertemplate=f"{text(exp_id)}<br>%{{x:.4g}}, %{{y:.4g}}<extra>{text(label)}</extra>",
        ))
    fig.update_layout(xaxis_title=_label(config, x), yaxis_title=_label(config, y), height=460,
                      margin={"l": 60, "r": 20, "t": 30, "b": 50}, legend={"orientation": "h", "y": -0.18})
    return fig


def _add_proposed(fig: go.Figure, proposed: pd.DataFrame | None, x: str, y: str, x_sd: str | None = None,
                  y_sd: str | None = None) -> None:
    """The proposed or running experiments (columns ``x``, ``y``, optional sds) as open diamonds."""
    if proposed is None or not {x, y} <= set(proposed.columns):
        return
    rows = proposed.dropna(subset=[x, y])
    if rows.empty:
        return

    def bars(column: str | None) -> dict[str, Any] | None:
        if column is None or column not in rows.columns:
            return None
        return {"type": "data", "array": rows[column].astype(float).fillna(0.0), "visible": True, "thickness": 1}

    fig.add_trace(go.Scatter(
        x=rows[x], y=rows[y], mode="markers", name="proposed or running (predicted ± sd)",
        marker={"symbol": "diamond-open", "size": 12, "color": HIGHLIGHT_COLOR, "line": {"width": 2}},
        error_x=bars(x_sd), error_y=bars(y_sd), text=_texts(rows[ID_COLUMN]),
        hovertemplate="%{text} (proposed)<br>%{x:.4g}, %{y:.4g}<extra></extra>",
    ))


def _limits(config: CampaignConfig | None, name: str) -> list[float]:
    """An outcome's threshold and outcome-constraint bounds (the lines a recipe must be beyond)."""
    if config is None:
        return []
    limits = [float(o.threshold) for o in config.objectives if o.name == name and o.threshold is not None]
    limits += [float(c.bound) for c in config.outcome_constraints if c.outcome == name]
    return limits


def parity_figure(cross_validation: pd.DataFrame, config: CampaignConfig | None = None) -> go.Figure:
    """Measured vs predicted (leave-one-out), one panel per outcome.

    Args:
        cross_validation: ``Campaign.cross_validate()``: experiment_id, outcome, measured,
            predicted_mean, predicted_sd (one row per experiment and outcome).
        config: for units.

    Returns:
        Scatter of predicted mean (+- 1 sd as error bars) against the measured value with the
        line ``predicted = measured``; a tight cloud around the line means a trustworthy model.
    """
    cv = cross_validation.dropna(subset=["measured", "predicted_mean"])
    outcomes = list(dict.fromkeys(cv["outcome"].astype(str)))
    if not outcomes:
        return _empty("not enough measured experiments for a leave-one-out check")
    cols = min(3, len(outcomes))
    nrows = math.ceil(len(outcomes) / cols)
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=[text(o) for o in outcomes], horizontal_spacing=0.08,
                        vertical_spacing=0.16)
    for k, outcome in enumerate(outcomes):
        r, c = divmod(k, cols)
        part = cv[cv["outcome"] == outcome]
        measured = part["measured"].astype(float).to_numpy()
        predicted = part["predicted_mean"].astype(float).to_numpy()
        sd = part["predicted_sd"].astype(float).to_numpy() if "predicted_sd" in part.columns else None
        fig.add_trace(go.Scatter(
            x=measured, y=predicted, mode="markers", name=text(outcome), showlegend=False,
            marker={"color": MEASURED_COLOR, "size": 7},
            error_y={"type": "data", "array": sd, "visible": sd is not None, "thickness": 1},
            text=_texts(part[ID_COLUMN]) if ID_COLUMN in part.columns else None,
            hovertemplate="%{text}<br>measured %{x:.4g}<br>predicted %{y:.4g}<extra></extra>",
        ), row=r + 1, col=c + 1)
        both = np.concatenate([measured, predicted])
        lo, hi = float(np.min(both)), float(np.max(both))
        pad = 0.05 * (hi - lo or abs(hi) or 1.0)
        fig.add_trace(go.Scatter(x=[lo - pad, hi + pad], y=[lo - pad, hi + pad], mode="lines", showlegend=False,
                                 line={"color": OTHER_COLOR, "dash": "dash"}, hoverinfo="skip"),
                      row=r + 1, col=c + 1)
        unit = config.unit_of(outcome) if config is not None else None
        suffix = text(f" [{unit}]") if unit else ""
        fig.update_xaxes(title_text=f"measured{suffix}", row=r + 1, col=c + 1)
        fig.update_yaxes(title_text=f"predicted{suffix}", row=r + 1, col=c + 1)
    fig.update_layout(height=320 * nrows + 40, margin={"l": 60, "r": 20, "t": 40, "b": 40})
    return fig


def importance_figure(importance: pd.DataFrame) -> go.Figure:
    """Relative importance of each parameter for each outcome as grouped horizontal bars.

    Args:
        importance: ``Campaign.feature_importance()``: one row per parameter (index or a
            ``parameter`` column), one column per outcome, each column summing to 1.
    """
    table = importance.set_index("parameter") if "parameter" in importance.columns else importance
    table = table.select_dtypes(include="number")
    if table.empty:
        return _empty("no fitted model yet")
    order = table.mean(axis=1).sort_values().index
    table = table.loc[order]
    fig = go.Figure()
    for outcome in table.columns:
        fig.add_trace(go.Bar(y=[text(p) for p in table.index], x=table[outcome].to_numpy(), name=text(outcome),
                             orientation="h", hovertemplate="%{y}: %{x:.2f}<extra>" + text(outcome) + "</extra>"))
    fig.update_layout(barmode="group", xaxis_title="relative importance (sums to 1 per outcome)",
                      height=max(320, 28 * len(table) * max(1, min(len(table.columns), 3)) + 80),
                      margin={"l": 20, "r": 20, "t": 30, "b": 50}, legend={"orientation": "h", "y": -0.15})
    return fig


def response_surface_figure(
    x_values: Sequence[float] | np.ndarray,
    y_values: Sequence[float] | np.ndarray,
    mean: np.ndarray,
    *,
    x: str,
    y: str,
    outcome: str,
    measured: pd.DataFrame | None = None,
    best: Mapping[str, float] | None = None,
    config: CampaignConfig | None = None,
    proposed: pd.DataFrame | None = None,
) -> go.Figure:
    """A 2-D response surface: predicted ``outcome`` over two parameters, measured points on top.

    Args:
        x_values: grid values of parameter ``x``, shape ``(nx,)``.
        y_values: grid values of parameter ``y``, shape ``(ny,)``.
        mean: predicted mean on the grid, shape ``(ny, nx)``; NaN where the recipe is not
            allowed (linear constraints), drawn blank.
        x, y: the two parameters; outcome: the predicted outcome (for titles).
        measured: experiments with columns ``x``, ``y`` and ``outcome`` (NaN rows skipped),
            drawn as markers coloured on the same scale as the surface.
        best: the recipe the other parameters are held at; its ``x``, ``y`` drawn as a star.
        config: for units.
        proposed: the experiments proposed or running (``x``, ``y`` columns), drawn as open
            diamonds at their recipe.
    """
    z = np.asarray(mean, dtype=float)
    finite = z[np.isfinite(z)]
    zmin = float(finite.min()) if finite.size else 0.0
    zmax = float(finite.max()) if finite.size else 1.0
    points = None
    if measured is not None and {x, y, outcome} <= set(measured.columns):
        points = measured.dropna(subset=[x, y, outcome])
        if len(points):
            zmin = min(zmin, float(points[outcome].min()))
            zmax = max(zmax, float(points[outcome].max()))
    fig = go.Figure()
    fig.add_trace(go.Contour(
        x=np.asarray(x_values, dtype=float), y=np.asarray(y_values, dtype=float), z=z, zmin=zmin, zmax=zmax,
        colorscale="Viridis", contours={"showlabels": True}, name="predicted mean",
        colorbar={"title": {"text": _label(config, outcome), "side": "right"}},
        hovertemplate=f"{text(x)} %{{x:.4g}}<br>{text(y)} %{{y:.4g}}<br>predicted %{{z:.4g}}<extra></extra>",
    ))
    if points is not None and len(points):
        fig.add_trace(go.Scatter(
            x=points[x], y=points[y], mode="markers", name="measured",
            marker={"color": points[outcome], "colorscale": "Viridis", "cmin": zmin, "cmax": zmax, "size": 11,
                    "line": {"color": "white", "width": 1.5}},
            text=_texts(points[ID_COLUMN]) if ID_COLUMN in points.columns else None,
            hovertemplate="%{text}<br>measured %{marker.color:.4g}<extra></extra>",
        ))
    _add_proposed(fig, proposed, x, y)
    if best is not None and x in best and y in best:
        fig.add_trace(go.Scatter(x=[best[x]], y=[best[y]], mode="markers", name="held recipe",
                                 marker={"symbol": "star", "size": 16, "color": FRONT_COLOR,
                                         "line": {"color": "black", "width": 1}}))
    if config is not None:
        for axis, name in (("xaxis", x), ("yaxis", y)):
            if name in config.parameter_names and getattr(config.parameter(name), "log_scale", False):
                fig.update_layout({axis: {"type": "log"}})
    fig.update_layout(xaxis_title=_label(config, x), yaxis_title=_label(config, y), height=480,
                      title={"text": text(f"predicted {outcome}"), "x": 0.0},
                      margin={"l": 60, "r": 20, "t": 50, "b": 50}, legend={"orientation": "h", "y": -0.18})
    return fig
