"""Prediction profiler: one slice per parameter through a chosen recipe, with bands (as JMP's
profiler). No fitting here: the predictions come in a table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from doe.domain.config import CampaignConfig
from doe.domain.parameters import CategoricalParameter
from doe.plots.figures import FRONT_COLOR, MEASURED_COLOR, OTHER_COLOR, text


def profiler_figure(slices: pd.DataFrame, outcome: str, recipe: dict[str, object], config: CampaignConfig,
                    columns: int = 3) -> go.Figure:
    """The model's prediction of ``outcome`` along each parameter, the others held at ``recipe``.

    Args:
        slices: one row per predicted point: ``parameter`` (the one varied), ``value`` (its
            value), ``mean`` and ``sd`` (the prediction of ``outcome``).
        outcome: the outcome shown (y axis, with its unit).
        recipe: the recipe the slices go through (a dashed line at its value of each parameter).
        config: the campaign configuration (parameter kinds and units).
        columns: panels per row.

    Returns:
        One panel per parameter, shared y axis: the mean as a line (a numeric parameter) or
        markers (labels), the band mean ± 2 sd.
    """
    names = [p for p in config.parameter_names if p in set(slices["parameter"])]
    rows = max(1, -(-len(names) // columns))
    unit = config.unit_of(outcome)
    fig = make_subplots(rows=rows, cols=columns, shared_yaxes=True, horizontal_spacing=0.04,
                        vertical_spacing=0.18, subplot_titles=[
                            text(f"{n} [{config.unit_of(n)}]" if config.unit_of(n) else n) for n in names])
    for k, name in enumerate(names):
        row, col = k // columns + 1, k % columns + 1
        part = slices[slices["parameter"] == name]
        mean, sd = part["mean"].astype(float).to_numpy(), part["sd"].astype(float).to_numpy()
        first = k == 0
        if isinstance(config.parameter(name), CategoricalParameter):
            labels = [text(v) for v in part["value"].astype(str)]
            fig.add_trace(go.Scatter(x=labels, y=mean, mode="markers", name="prediction", showlegend=first,
                                     legendgroup="mean", marker={"color": MEASURED_COLOR, "size": 9},
                                     error_y={"type": "data", "array": 2 * sd, "color": OTHER_COLOR}),
                          row=row, col=col)
        else:
            x = part["value"].astype(float).to_numpy()
            fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]),
                                     y=np.concatenate([mean + 2 * sd, (mean - 2 * sd)[::-1]]),
                                     fill="toself", fillcolor="rgba(31,119,180,0.15)", line={"width": 0},
                                     name="± 2 sd", showlegend=first, legendgroup="band", hoverinfo="skip"),
                          row=row, col=col)
            fig.add_trace(go.Scatter(x=x, y=mean, mode="lines", name="prediction", showlegend=first,
                                     legendgroup="mean", line={"color": MEASURED_COLOR}),
                          row=row, col=col)
            fig.add_vline(x=float(recipe[name]), line_dash="dash", line_color=FRONT_COLOR,  # type: ignore[arg-type]
                          row=row, col=col)
    fig.update_yaxes(title_text=text(f"{outcome} [{unit}]" if unit else outcome), col=1)
    fig.update_layout(height=240 * rows + 80, margin={"l": 60, "r": 20, "t": 40, "b": 40},
                      legend={"orientation": "h", "y": -0.08})
    return fig
