"""Curve outcomes: each cell's measured points (an experiment's cells in one colour, a marker
symbol each) and, for one still cycling, the predicted
continuation to the target cycle with its 90 % band (tables from :mod:`doe.domain.curves`)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from doe.plots.figures import text

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
"""One colour per experiment: its cells' points, its predicted continuation and band."""
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x"]
"""One marker symbol per cell (``replicate`` label) of an experiment."""


def curves_figure(points: pd.DataFrame, continuations: pd.DataFrame, *, outcome: str, at: int,
                  unit: str | None = None) -> go.Figure:
    """Measured curves and predicted continuations of ``outcome``.

    Args:
        points: :meth:`doe.Campaign.measurements` (rows of ``outcome`` with a ``cycle`` are drawn).
        continuations: :func:`doe.domain.curves.curve_continuations` of ``outcome``.
        outcome: the curve outcome.
        at: its target cycle (a vertical line).
        unit: the outcome's unit, for the axis title.
    """
    fig = go.Figure()
    mine = points[(points["outcome"] == outcome) & points["cycle"].notna()]
    labels = (mine["replicate"].astype(object).where(mine["replicate"].notna(), "").astype(str)
              if "replicate" in mine.columns else pd.Series("", index=mine.index))
    ids = list(dict.fromkeys(mine["experiment_id"].astype(str))) + [
        i for i in dict.fromkeys(continuations["experiment_id"].astype(str)) if i not in set(mine["experiment_id"].astype(str))]
    colors = {i: COLORS[k % len(COLORS)] for k, i in enumerate(ids)}
    for (experiment_id, label), group in mine.assign(_cell=labels).groupby(["experiment_id", "_cell"], sort=False):
        group = group.sort_values("cycle")
        cells = labels[mine["experiment_id"] == experiment_id].unique()
        symbol = SYMBOLS[list(cells).index(label) % len(SYMBOLS)]
        fig.add_trace(go.Scatter(x=group["cycle"].astype(int), y=group["value"], mode="markers",
                                 marker={"size": 5, "symbol": symbol, "color": colors[str(experiment_id)]},
                                 name=text(f"{experiment_id} cell {label}" if label else experiment_id),
                                 legendgroup=str(experiment_id)))
    for experiment_id, group in continuations.groupby("experiment_id", sort=False):
        name = f"{text(experiment_id)} (predicted)"
        color = colors[str(experiment_id)]
        fig.add_trace(go.Scatter(x=list(group["cycle"]) + list(group["cycle"])[::-1],
                                 y=list(group["upper"]) + list(group["lower"])[::-1], fill="toself",
                                 line={"width": 0}, fillcolor=color, opacity=0.25, name=f"{text(experiment_id)} 90 % band",
                                 legendgroup=str(experiment_id), showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=group["cycle"], y=group["mean"], mode="lines", line={"dash": "dash", "color": color},
                                 name=name, legendgroup=str(experiment_id)))
    fig.add_vline(x=at, line={"dash": "dot", "color": "grey"})
    fig.update_layout(xaxis_title="cycle", yaxis_title=text(f"{outcome} ({unit})" if unit else outcome),
                      title=text(f"{outcome}: measured points and predicted continuation to cycle {at}"),
                      template="plotly_white")
    return fig
