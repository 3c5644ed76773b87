"""The virtual lab's retention curves (:mod:`doe.simulate.curves`)."""

from __future__ import annotations

import pandas as pd

from doe import Campaign
from doe.simulate.calendar import calendar_config
from doe.simulate.curves import retention_curve
from doe.simulate.virtual_lab import VirtualLab


def test_noisy_points_of_a_dead_or_fadeless_cell_stay_within_0_and_100_pct() -> None:
    for retention_at in (0.0, 100.0):  # the virtual lab clips a cell's retention to these
        for seed in range(5):
            curve = retention_curve(retention_at, 200, seed=seed)
            assert curve["retention_pct"].between(0.0, 100.0).all()
            assert (curve["retention_pct"] - curve["true_retention_pct"]).abs().max() > 0  # the noise is still there


def test_a_dead_cells_curve_records_into_a_curve_campaign() -> None:
    campaign = Campaign.from_config(calendar_config(VirtualLab().config), storage=":memory:")
    curve = retention_curve(0.0, 200, seed=0)  # unclipped, some of its points read below 0 %
    rows = pd.DataFrame({"experiment_id": "E1", "cycle": curve["cycle"], "capacity_retention_pct": curve["retention_pct"]})
    recipe = VirtualLab.random_recipes(1, seed=1).iloc[0].to_dict()
    report = campaign.record(pd.concat([pd.DataFrame([{"experiment_id": "E1", **recipe}]), rows], ignore_index=True))
    assert report.measurements_added == 200  # none refused as outside capacity_retention_pct's valid_range
