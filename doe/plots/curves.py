"""Curve outcomes: each experiment's measured points and, for one still cycling, the predicted
continuation to the target cycle with its 90 % band (tables from :mod:`doe.domain.curves`)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from doe.plots.figures import text


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
    for experiment_id, group in mine.groupby("experiment_id", sort=False):
        group = group.sort_values("cycle")
        fig.add_trace(go.Scatter(x=group["cycle"].astype(int), y=group["value"], mode="markers",
                                 marker={"size": 4}, name=text(experiment_id), legendgroup=str(experiment_id)))
    for experiment_id, group in continuations.groupby("experiment_id", sort=False):
        name = f"{text(experiment_id)} (predicted)"
        fig.add_trace(go.Scatter(x=list(group["cycle"]) + list(group["cycle"])[::-1],
                                 y=list(group["upper"]) + list(group["lower"])[::-1], fill="toself",
                                 line={"width": 0}, opacity=0.25, name=f"{text(experiment_id)} 90 % band",
                                 legendgroup=str(experiment_id), showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=group["cycle"], y=group["mean"], mode="lines", line={"dash": "dash"},
                                 name=name, legendgroup=str(experiment_id)))
    fig.add_vline(x=at, line={"dash": "dot", "color": "grey"})
    fig.update_layout(xaxis_title="cycle", yaxis_title=text(f"{outcome} ({unit})" if unit else outcome),
                      title=text(f"{outcome}: measured points and predicted continuation to cycle {at}"),
                      template="plotly_white")
    return fig
