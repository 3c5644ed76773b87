"""Figures of a campaign, built from DataFrames with plotly.

No fitting happens here and nothing is drawn on screen: each function takes tables that
:class:`doe.Campaign` returns (history, Pareto front, leave-one-out predictions, parameter
importance, predictions on a grid; an instrument file's curves and spectrum) and returns a ``plotly.graph_objects.Figure`` that the
web page, a notebook or a report shows.
"""

from __future__ import annotations

from doe.plots.curves import curves_figure
from doe.plots.figures import (
    best_so_far_figure,
    importance_figure,
    pareto_figure,
    parity_figure,
    response_surface_figure,
)
from doe.plots.instruments import capacity_cycle_figure, capacity_voltage_figure, nyquist_figure

__all__ = [
    "best_so_far_figure",
    "capacity_cycle_figure",
    "capacity_voltage_figure",
    "curves_figure",
    "importance_figure",
    "nyquist_figure",
    "pareto_figure",
    "parity_figure",
    "response_surface_figure",
]
