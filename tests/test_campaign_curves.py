"""Curve outcomes through Campaign: recording cycle points, conflicts, the history's
predicted value at the target cycle, and the acquisition's view of a still-cycling cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe import Campaign
from doe.domain.batches import training_table
from doe.domain.curves import curve_continuations
from doe.domain.ranking import ranking_notes
from doe.engine import Surrogates
from doe.engine.gp import ExactGP
from doe.errors import ConflictError, DataError
from doe.simulate.curves import retention_curve

CONFIG = {
    "name": "curves",
    "parameters": [{"name": "loading_wt_pct", "type": "continuous", "bounds": [0.0, 2.0]}],
    "objectives": [{"name": "retention_pct", "goal": "maximize", "unit": "%", "over": "cycle", "at": 200}],
    "outcomes": [{"name": "ce_pct", "unit": "%"}],
    "seed": 3,
}


def _points(experiment_id: str, retention_at: float, n_cycles: int, seed: int) -> pd.DataFrame:
    curve = retention_curve(retention_at, n_cycles, seed=seed)
    return pd.DataFrame({"experiment_id": experiment_id, "cycle": curve["cycle"],
                         "retention_pct": curve["retention_pct"]})


@pytest.fixture
def campaign(store_url: str) -> Campaign:
    c = Campaign.from_config(CONFIG, storage=store_url, actor="tester")
    recipes = pd.DataFrame({"experiment_id": [f"E{i}" for i in range(6)],
                            "loading_wt_pct": np.linspace(0, 2, 6), "ce_pct": 88.0})
    c.record(recipes)
    return c


def test_points_are_recorded_and_listed(campaign: Campaign) -> None:
    campaign.record(_points("E0", 60.0, 30, 0))
    points = campaign.measurements()
    curve = points[points["outcome"] == "retention_pct"]
    assert sorted(curve["cycle"].tolist()) == list(range(1, 31))
    assert points.loc[points["outcome"] == "ce_pct", "cycle"].isna().all()
    row = campaign.history().set_index("experiment_id").loc["E0"]
    assert row["retention_pct_last_cycle"] == 30
    assert row["retention_pct_pred_sd"] > 0
    assert row["ce_pct"] == 88.0  # curve points do not mix into other outcomes


def test_same_cycle_again(campaign: Campaign) -> None:
    first = _points("E0", 60.0, 5, 0)
    campaign.record(first)
    report = campaign.record(first)  # the same values again: nothing changes
    assert report.measurements_added == 0 and report.measurements_unchanged == 5
    changed = first.iloc[[2]].assign(retention_pct=50.0)
    with pytest.raises(ConflictError, match="cycle 3"):
        campaign.record(changed)
    campaign.record(changed, correct=True)
    points = campaign.measurements()
    assert points.loc[points["cycle"] == 3, "value"].tolist() == [50.0]


def test_a_history_read_back_records_no_predicted_point(campaign: Campaign) -> None:
    campaign.record(_points("E0", 60.0, 30, 0))
    before = campaign.measurements()
    report = campaign.record(campaign.history(status="completed"))  # E0's retention is the value predicted at 200
    assert report.measurements_added == 0 and campaign.measurements().equals(before)
    edited = campaign.history(status="completed")
    edited.loc[edited["experiment_id"] == "E0", "retention_pct"] = 99.0
    with pytest.raises(DataError, match="column 'retention_pct': is the value predicted for E0"):
        campaign.record(edited)
    assert campaign.measurements().equals(before)


def test_a_history_exported_before_new_points_records_back_changing_nothing(campaign: Campaign, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A history exported on Monday and recorded back on Friday, after the cycler sent more
    points, was refused whole: every still-cycling experiment's prediction had moved (the
    fade law's priors are shared), and each was read as a value typed over the prediction."""
    campaign.record(pd.concat([_points("E0", 60.0, 30, 0), _points("E1", 70.0, 30, 1)]))
    path = tmp_path / "history.csv"
    campaign.export_table(path)
    campaign.record(_points("E1", 70.0, 200, 1).iloc[30:])  # E1 reaches cycle 200; E0's prediction moves
    later = campaign.history().set_index("experiment_id")
    exported = pd.read_csv(path).set_index("experiment_id")
    assert later.loc["E0", "retention_pct_pred_sd"] != pytest.approx(exported.loc["E0", "retention_pct_pred_sd"])
    assert later.loc["E0", "retention_pct"] != pytest.approx(exported.loc["E0", "retention_pct [%]"])
    before, revision = campaign.measurements(), campaign.revision()
    report = campaign.import_table(path)
    assert report.measurements_added == 0 and campaign.revision() == revision
    assert campaign.measurements().equals(before)
    # a value typed over a prediction still shown with the stored sd is still refused
    edited = campaign.history(status="completed")
    edited.loc[edited["experiment_id"] == "E0", "retention_pct"] = 99.0
    with pytest.raises(DataError, match="column 'retention_pct': is the value predicted for E0"):
        campaign.record(edited)


def test_a_predicted_value_refused_by_another_campaign_is_not_to_be_kept_by_dropping_its_sd(
        campaign: Campaign, store_url: str) -> None:
    """The refusal of a history's predicted curve value by a campaign without its experiment
    advised "or drop this column": without <outcome>_pred_sd the prediction records as a
    measured point at cycle 200, which the advice led to."""
    campaign.record(_points("E0", 60.0, 30, 0))
    history = campaign.history(status="completed")
    other = Campaign.from_config({**CONFIG, "name": "other"}, storage=store_url, actor="tester")
    with pytest.raises(DataError, match="column 'retention_pct_pred_sd'") as refused:
        other.record(history)
    assert "drop this column" not in str(refused.value) and "empty this row's retention_pct" in str(refused.value)
    other.record(history.assign(retention_pct=None))  # as the message says: the other values are recorded
    recorded = other.measurements()
    assert "retention_pct" not in set(recorded["outcome"]) and len(recorded) == len(history)


def _exported_while_cycling(url: str, path: Path) -> Campaign:
    """A campaign of E0-E3, E0 still cycling (its retention_pct at 200 predicted), its history
    exported to ``path`` then."""
    campaign = Campaign.from_config(CONFIG, storage=url, actor="me")
    campaign.record(pd.DataFrame({"experiment_id": [f"E{i}" for i in range(4)], "loading_wt_pct": np.linspace(0, 2, 4),
                                  "ce_pct": 88.0}))
    campaign.record(_points("E0", 60.0, 30, 0))
    campaign.export_table(path)
    return campaign


def _trimmed(exported: pd.DataFrame, keep: list[str] | None) -> pd.DataFrame:
    """An exported history as a spreadsheet trims it: the derived columns of the curve outcome
    (``retention_pct_pred_sd`` among them) and ``ranking_note`` deleted, or only ``keep`` left."""
    if keep is not None:
        return exported[keep]
    return exported.drop(columns=[c for c in exported.columns if c.startswith("retention_pct_")] + ["ranking_note"])


@pytest.mark.parametrize("keep", [None, ["experiment_id", "status", "batch_id", "loading_wt_pct", "retention_pct [%]",
                                         "ce_pct [%]"]])
def test_a_trimmed_history_export_records_no_prediction_as_measured(tmp_path, keep: list[str] | None) -> None:  # type: ignore[no-untyped-def]
    """A history exported while E0 still cycled, its derived columns deleted in a spreadsheet,
    recorded back: E0's value predicted at cycle 200 was stored as a point measured at cycle
    200 (nothing in the row said it was predicted). Now an exported history without a curve
    outcome's ``_pred_sd`` column gives its value only where it is the one stored (unchanged);
    any other is refused naming the column and the experiment, nothing stored changed."""
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    campaign = _exported_while_cycling(url, tmp_path / "history.csv")
    exported = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")
    assert exported.set_index("experiment_id").loc["E0", "retention_pct_pred_sd"] > 0
    _trimmed(exported, keep).to_csv(tmp_path / "trimmed.csv", index=False)
    before, revision = campaign.measurements(), campaign.revision()
    report = campaign.import_table(tmp_path / "trimmed.csv")  # E0's value is still the stored prediction
    assert report.measurements_added == 0 and report.measurements_unchanged >= 1
    assert campaign.revision() == revision and campaign.measurements().equals(before)

    campaign.record(_points("E1", 70.0, 200, 1))  # E1 reaches cycle 200: E0's prediction moves
    assert campaign.history().set_index("experiment_id").loc["E0", "retention_pct"] != pytest.approx(
        exported.set_index("experiment_id").loc["E0", "retention_pct [%]"])
    before, revision = campaign.measurements(), campaign.revision()
    with pytest.raises(DataError, match=r"column 'retention_pct': retention_pct of E0 in this exported history has "
                                        r"no retention_pct_pred_sd column") as refused:
        campaign.import_table(tmp_path / "trimmed.csv")
    assert len(refused.value.problems) == 1
    assert campaign.revision() == revision and campaign.measurements().equals(before)
    points = campaign.measurements()
    assert points.loc[(points["experiment_id"] == "E0") & (points["outcome"] == "retention_pct"), "cycle"].max() == 30

    other = Campaign.from_config({**CONFIG, "name": "other"}, storage=url, actor="me")  # E0 new to it
    with pytest.raises(DataError, match=r"column 'retention_pct': retention_pct of E0 in this exported history"):
        other.import_table(tmp_path / "trimmed.csv")
    assert other.history().empty

    # a results table of the lab's own (no column only an export writes) gives a value measured at 200
    campaign.record(pd.DataFrame({"experiment_id": ["E2"], "retention_pct": [80.0]}))
    points = campaign.measurements()
    assert points.loc[(points["experiment_id"] == "E2") & (points["outcome"] == "retention_pct"),
                      ["cycle", "value"]].values.tolist() == [[200, 80.0]]


def test_a_trimmed_history_export_still_records_a_value_typed_where_it_had_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two false refusals of the trimmed-export rule: a value typed into an empty cell of an
    experiment with no point yet (nothing was predicted there), and a lab's own table in a
    campaign whose parameter is named like a column only an export writes (``evidence_files``,
    a name reserved since 64fc0c5 that an older stored campaign may still have)."""
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    campaign = Campaign.from_config(CONFIG, storage=url, actor="me")
    campaign.record(pd.DataFrame({"experiment_id": ["E0", "E1"], "loading_wt_pct": [0.5, 1.5], "ce_pct": 88.0}))
    campaign.record(_points("E0", 60.0, 30, 0))  # still cycling: predicted at 200
    campaign.export_table(tmp_path / "history.csv")
    exported = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig").set_index("experiment_id")
    assert np.isnan(exported.loc["E1", "retention_pct [%]"])  # no point of E1: nothing shown
    exported.loc["E1", "retention_pct [%]"] = 81.5
    _trimmed(exported.reset_index(), None).to_csv(tmp_path / "trimmed.csv", index=False)
    campaign.import_table(tmp_path / "trimmed.csv")
    points = campaign.measurements()
    assert points.loc[(points["outcome"] == "retention_pct") & (points["experiment_id"] == "E1"),
                      ["cycle", "value"]].values.tolist() == [[200, 81.5]]
    assert points.loc[(points["outcome"] == "retention_pct") & (points["experiment_id"] == "E0"), "cycle"].max() == 30

    from doe.domain.config import CampaignConfig

    # a campaign stored before 64fc0c5 reserved the name (a new configuration is refused it)
    sourced = Campaign.from_config(CampaignConfig.from_dict({**CONFIG, "name": "sourced", "parameters": [
        *CONFIG["parameters"], {"name": "evidence_files", "type": "categorical", "values": ["lot A", "lot B"]}]},
        stored=True), storage=url, actor="me")
    sourced.record(pd.DataFrame({"experiment_id": ["S0"], "loading_wt_pct": [1.0], "evidence_files": ["lot A"],
                                 "ce_pct": [87.0], "retention_pct": [77.0]}))
    points = sourced.measurements()
    assert points.loc[points["outcome"] == "retention_pct", ["cycle", "value"]].values.tolist() == [[200, 77.0]]


def test_bad_cycles_name_the_cell(campaign: Campaign) -> None:
    bad = pd.DataFrame({"experiment_id": ["E0", "E0", "E1"], "cycle": [0, 2.5, 3],
                        "retention_pct": [99.0, 98.0, 97.0], "ce_pct": [None, None, 80.0]})
    with pytest.raises(DataError) as err:
        campaign.record(bad)
    assert {(p.row, p.column) for p in err.value.problems} >= {(0, "cycle"), (1, "cycle")}
    assert campaign.measurements()["cycle"].isna().all()


def test_valid_rows_only_leaves_out_a_bad_cycle_row_found_after_other_bad_rows(campaign: Campaign) -> None:
    # a cycle row with a non-curve value is checked only on an otherwise valid table: with a row
    # out of bounds beside it, valid_rows_only used to refuse everything on the second pass
    table = pd.DataFrame([{"experiment_id": "Q0", "loading_wt_pct": 9.0, "ce_pct": 91.0},
                          {"experiment_id": "E1", "cycle": 50, "retention_pct": 95.0, "ce_pct": 91.0},
                          {"experiment_id": "Q2", "loading_wt_pct": 1.0, "ce_pct": 92.0}])
    report = campaign.record(table, valid_rows_only=True)
    assert [(p.row, p.column) for p in report.rejected] == [(0, "loading_wt_pct"), (1, "ce_pct")]
    assert campaign.history()["experiment_id"].tolist()[-1] == "Q2" and "Q0" not in report.experiment_ids
    assert campaign.measurements()["cycle"].isna().all()


def test_predictions_tighten_as_cycles_arrive(campaign: Campaign) -> None:
    for i in range(1, 6):  # a population of finished curves
        campaign.record(_points(f"E{i}", 55.0 + 4 * i, 200, i))
    sds = []
    for n in (20, 50, 100, 200):
        campaign.record(_points("E0", 62.0, n, 99))
        sds.append(campaign.history().set_index("experiment_id").loc["E0", "retention_pct_pred_sd"])
    assert sds[0] > sds[1] > sds[2] > sds[3] == 0.0


def test_still_cycling_counts_with_its_uncertainty(campaign: Campaign) -> None:
    for i in range(1, 6):
        campaign.record(_points(f"E{i}", 55.0 + 4 * i, 200, i))
    missing = training_table(campaign.history(), campaign.config)
    assert np.isnan(missing.loc["E0", "retention_pct"])  # no point yet: not in the retention model
    campaign.record(_points("E0", 62.0, 40, 7))
    cycling = training_table(campaign.history(), campaign.config)
    assert np.isfinite(cycling.loc["E0", "retention_pct"])
    assert cycling.loc["E0", "retention_pct_pred_sd"] > 0.3  # weighed by its uncertainty
    campaign.record(_points("E0", 62.0, 200, 7))
    finished = training_table(campaign.history(), campaign.config)
    assert finished.loc["E0", "retention_pct_pred_sd"] == 0.0
    def gp(training: pd.DataFrame) -> ExactGP:
        model = Surrogates(campaign.config).fit(training.reset_index(drop=True)).model("retention_pct")
        assert model is not None
        return model

    assert gp(cycling).extra_var_.max() > 0.09  # the predicted variance is that row's extra noise
    assert gp(finished).extra_var_.max() == 0.0


def test_export_import_keeps_cycles(campaign: Campaign, store_url: str) -> None:
    campaign.record(_points("E0", 60.0, 10, 0))
    copy = Campaign.import_json(campaign.export_json(), storage=store_url, name="curves-copy")
    assert sorted(copy.measurements()["cycle"].dropna().tolist()) == list(range(1, 11))


def test_clone_and_the_cells_file_keep_every_point(campaign: Campaign, store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    campaign.record(_points("E0", 60.0, 10, 0))

    def cells(c: Campaign) -> list[tuple[object, ...]]:
        m = c.measurements()
        return sorted((e, o, None if pd.isna(k) else int(k), v)
                      for e, o, k, v in zip(m["experiment_id"], m["outcome"], m["cycle"], m["value"], strict=True))

    campaign.export_table(tmp_path / "cells.csv", cells=True)
    from_file = Campaign.from_config(CONFIG, storage=store_url, name="from-cells", actor="tester")
    from_file.import_table(tmp_path / "cells.csv")
    clone = campaign.clone("curves-clone", with_history=True)
    expected = cells(campaign)
    assert len(expected) == 16  # six CE values and ten points
    for copy in (clone, from_file):
        assert cells(copy) == expected
        assert copy.history()["retention_pct"].tolist() == pytest.approx(campaign.history()["retention_pct"].tolist(),
                                                                       nan_ok=True)
    revision = campaign.revision()
    campaign.import_table(tmp_path / "cells.csv")  # back into its own campaign: nothing changes
    assert campaign.revision() == revision


def test_insights_figure_shows_continuation_of_cycling_cells(campaign: Campaign) -> None:
    from doe.domain.curves import still_cycling
    from doe.plots import curves_figure

    for i in range(1, 6):
        campaign.record(_points(f"E{i}", 55.0 + 4 * i, 200, i))
    campaign.record(_points("E0", 62.0, 50, 5))
    history = campaign.history()
    assert history.loc[still_cycling(history, campaign.config), "experiment_id"].tolist() == ["E0"]
    continuation = curve_continuations(campaign.measurements(), "retention_pct", 200)
    assert set(continuation["experiment_id"]) == {"E0"}
    assert continuation["cycle"].min() == 50 and continuation["cycle"].max() == 200
    band = continuation["upper"] - continuation["lower"]
    assert band.iloc[-1] > band.iloc[0]  # the band widens towards cycle 200
    figure = curves_figure(campaign.measurements(), continuation, outcome="retention_pct", at=200)
    assert "E0 (predicted)" in [trace.name for trace in figure.data]


def test_an_exported_history_recorded_back_adds_no_cell_to_a_curve(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A curve measured in one labelled cell: its history value at the target cycle was read back
    as a second, unlabelled cell holding the same value (the model then counted it twice)."""
    campaign = Campaign.from_config(CONFIG, storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", actor="me")
    campaign.record(pd.DataFrame({"experiment_id": [f"E{i}" for i in range(5)], "loading_wt_pct": np.linspace(0, 2, 5),
                                  "ce_pct": [86.0, 87.0, 88.0, 89.0, 90.0]}))
    curve = retention_curve(75.0, 200, seed=2)
    campaign.record(pd.DataFrame({"experiment_id": "E1", "replicate": "A", "cycle": curve["cycle"],
                                  "retention_pct": curve["retention_pct"]}))
    campaign.suggest(1)
    campaign.export_table(tmp_path / "history.csv")
    before = campaign.measurements()
    report = campaign.import_table(tmp_path / "history.csv")
    assert report.measurements_added == 0
    assert campaign.measurements().equals(before)


def test_a_curves_later_points_without_a_label_are_its_one_cells_or_refused(campaign: Campaign) -> None:
    """Cycles 21-40 sent without the label of the one cell that gave cycles 1-20 were stored as
    another, unlabelled cell beside it (the check compared labels cycle by cycle, and these
    cycles were new). They are now that cell's, as is the whole export sent again without the
    label; beside two cells, or beside labelled points of the same table, they are refused;
    labelled points beside a curve stored without labels are a conflict that correct=True
    resolves only when they give every cycle of it. Nothing is written when refused."""
    def labels_of(exp_id: str) -> dict[str, int]:
        points = campaign.measurements()
        curve = points[(points["outcome"] == "retention_pct") & (points["experiment_id"] == exp_id)]
        return curve["replicate"].fillna("").value_counts().to_dict()

    one = _points("E0", 60.0, 40, 0)
    campaign.record(one.iloc[:20].assign(replicate="A"))
    campaign.record(one.iloc[20:])
    assert labels_of("E0") == {"A": 40}
    assert campaign.record(one).measurements_unchanged == 40 and labels_of("E0") == {"A": 40}

    two = _points("E1", 60.0, 40, 1)
    campaign.record(pd.concat([two.iloc[:20].assign(replicate="A"), two.iloc[:20].assign(replicate="B")]))
    revision = campaign.revision()
    with pytest.raises(DataError, match=r"E1 retention_pct: points without a replicate label beside the curves of "
                                        r"the cells \['A', 'B'\]"):
        campaign.record(two.iloc[20:])
    mixed = _points("E3", 60.0, 40, 3)
    with pytest.raises(DataError, match="E3 retention_pct: points without a replicate label beside points of"):
        campaign.record(pd.concat([mixed.iloc[:20].assign(replicate="A"), mixed.iloc[20:]]))
    assert campaign.revision() == revision
    assert labels_of("E1") == {"A": 20, "B": 20} and labels_of("E3") == {}

    unlabelled = _points("E2", 60.0, 40, 2)
    campaign.record(unlabelled.iloc[:20])
    revision = campaign.revision()
    with pytest.raises(ConflictError, match=r"E2 retention_pct: a curve recorded without a replicate label \(cycles 1-20, "
                                            r"recorded by tester on [-\d]+ [:\d]+ UTC\), now points of the cells"):
        campaign.record(unlabelled.iloc[20:].assign(replicate="A"))
    with pytest.raises(DataError, match=r"'A' lacks cycles 1-9"):
        campaign.record(unlabelled.iloc[9:].assign(replicate="A"), correct=True)
    with pytest.raises(DataError, match=r"'A' lacks cycles 11-20; 'B' lacks cycles 1-10"):  # together, not each
        campaign.record(pd.concat([unlabelled.iloc[:10].assign(replicate="A"), unlabelled.iloc[10:20].assign(
            replicate="B")]), correct=True)
    assert campaign.revision() == revision and labels_of("E2") == {"": 20}
    # the two cells behind that curve, each with every cycle: they replace it (kept as history)
    cells = pd.concat([unlabelled.iloc[:20].assign(replicate="A"),
                       unlabelled.iloc[:20].assign(replicate="B", retention_pct=unlabelled["retention_pct"].iloc[:20] - 1)])
    campaign.record(cells, correct=True)
    assert labels_of("E2") == {"A": 20, "B": 20}
    every = campaign.measurements(include_superseded=True)
    assert ((every["experiment_id"] == "E2") & every["replicate"].isna() & every["superseded"]).sum() == 20


def test_an_exported_history_records_back_once_labelled_cells_reach_the_target_cycle(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Three labelled cells cycled to 200: the history's value there (their mean) was read back as
    an unlabelled point at cycle 200 beside them and refused, so the export did not record back.
    It is the cells' mean: unchanged when the same, refused naming it when edited."""
    campaign = Campaign.from_config(CONFIG, storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", actor="me")
    campaign.record(pd.DataFrame({"experiment_id": [f"E{i}" for i in range(4)], "loading_wt_pct": np.linspace(0, 2, 4),
                                  "ce_pct": 88.0}))
    for label, seed in zip("ABC", (1, 2, 3), strict=True):
        curve = retention_curve(70.0, 200, seed=seed)
        campaign.record(pd.DataFrame({"experiment_id": "E1", "replicate": label, "cycle": curve["cycle"],
                                      "retention_pct": curve["retention_pct"]}))
    campaign.export_table(tmp_path / "history.csv")
    before, revision = campaign.measurements(), campaign.revision()
    report = campaign.import_table(tmp_path / "history.csv")
    assert report.measurements_added == 0 and campaign.measurements().equals(before)
    assert campaign.revision() == revision
    edited = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")
    column = next(c for c in edited.columns if c.startswith("retention_pct ["))
    edited.loc[edited["experiment_id"] == "E1", column] = 50.0
    edited.to_csv(tmp_path / "edited.csv", index=False)
    with pytest.raises(DataError, match=r"is the mean of E1's cells at its cycle in the history"):
        campaign.import_table(tmp_path / "edited.csv")
    assert campaign.revision() == revision


def test_best_ranks_a_curve_only_once_it_is_measured_at_its_cycle(campaign: Campaign) -> None:
    """A curve of 12 cycles had its value at cycle 200 predicted above what a finished curve
    measured, and best() (the 'best measured experiments') returned the prediction first."""
    campaign.record(_points("E1", 60.0, 200, 1))  # finished: 60 % at cycle 200
    campaign.record(_points("E2", 90.0, 12, 2))  # 12 cycles of a curve heading for 90 %
    history = campaign.history().set_index("experiment_id")
    assert history.loc["E2", "retention_pct_pred_sd"] > 0
    assert campaign.best(6)["experiment_id"].tolist() == ["E1"]
    notes = ranking_notes(campaign.history(), campaign.config)
    assert notes[campaign.history()["experiment_id"] == "E2"].tolist() == [
        "retention_pct at cycle 200 predicted, not measured yet (cycled to 12 so far)"]
    campaign.record(_points("E2", 90.0, 200, 2).iloc[12:])  # it reaches cycle 200: ranked, first
    assert campaign.best(6)["experiment_id"].tolist() == ["E2", "E1"]


def test_a_curves_cells_are_counted_in_the_history(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The history showed ``retention_pct_n`` 0 and ``_sd`` NaN for a curve whatever its cells:
    they count the cells behind its value (those measured at the cycle once reached, else every
    cell with points), and a campaign whose only replicates are curve cells gets the columns."""
    campaign = Campaign.from_config(CONFIG, storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", actor="me")
    campaign.record(pd.DataFrame({"experiment_id": [f"E{i}" for i in range(4)], "loading_wt_pct": np.linspace(0, 2, 4),
                                  "ce_pct": 88.0}))
    campaign.record(_points("E3", 55.0, 200, 9))  # one unlabelled curve
    assert "retention_pct_n" not in campaign.history().columns  # one cell each: no replicate columns
    cells = [_points("E0", 60.0 + 4 * k, 200, k).assign(replicate=label) for k, label in enumerate("AB")]
    cells += [_points("E1", 70.0, n, 5 + n).assign(replicate=label) for n, label in ((40, "A"), (30, "B"), (12, "C"))]
    campaign.record(pd.concat(cells))
    history = campaign.history().set_index("experiment_id")
    at_200 = pd.concat(cells[:2]).query("cycle == 200")["retention_pct"]
    assert history.loc["E0", "retention_pct"] == pytest.approx(at_200.mean())
    assert history.loc["E0", "retention_pct_sd"] == pytest.approx(at_200.std(ddof=1))
    assert history["retention_pct_n"].to_dict() == {"E0": 2, "E1": 3, "E2": 0, "E3": 1}
    assert np.isnan(history.loc["E1", "retention_pct_sd"])  # predicted: its uncertainty is retention_pct_pred_sd
    assert np.isnan(history.loc["E3", "retention_pct_sd"])
    assert history["ce_pct_n"].tolist() == [1, 1, 1, 1]
    campaign.record(_points("E1", 70.0, 200, 7).iloc[40:].assign(replicate="A"))  # A reaches cycle 200 alone
    history = campaign.history().set_index("experiment_id")
    assert history.loc["E1", "retention_pct_n"] == 1 and history.loc["E1", "retention_pct_pred_sd"] == 0


def test_a_history_with_predicted_or_pooled_curves_is_refused_by_another_campaign(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A cycling curve's value at its cycle (a prediction) and the mean of several cells at its
    cycle were recorded as one measured cell by a campaign without these experiments."""
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    campaign = Campaign.from_config(CONFIG, storage=url, actor="me")
    campaign.record(pd.DataFrame({"experiment_id": ["E0", "E1", "E2"], "loading_wt_pct": [0.0, 1.0, 2.0],
                                  "ce_pct": 88.0}))
    campaign.record(_points("E0", 60.0, 30, 0))  # still cycling
    campaign.export_table(tmp_path / "cycling.csv")
    other = Campaign.from_config(CONFIG, storage=url, name="other", actor="me")
    with pytest.raises(DataError, match=r"column 'retention_pct_pred_sd'.*retention_pct of E0 is predicted at its cycle"):
        other.import_table(tmp_path / "cycling.csv")
    assert other.history().empty
    campaign.record(pd.concat([_points("E1", 70.0 + k, 200, k).assign(replicate=label) for k, label in enumerate("AB")]))
    campaign.export_table(tmp_path / "pooled.csv")
    history = pd.read_csv(tmp_path / "pooled.csv", encoding="utf-8-sig")
    history = history[history["experiment_id"] != "E0"]
    history.to_csv(tmp_path / "pooled.csv", index=False)
    with pytest.raises(DataError, match=r"column 'retention_pct_n'.*retention_pct is the mean of 2 cells"):
        other.import_table(tmp_path / "pooled.csv")
    assert other.history().empty
    campaign.export_table(tmp_path / "cells.csv", cells=True)  # each cell and point: recorded as they are
    other.import_table(tmp_path / "cells.csv")
    assert other.history()["retention_pct"].tolist() == pytest.approx(campaign.history()["retention_pct"].tolist(),
                                                                     nan_ok=True)


def test_a_curves_prediction_stays_in_the_outcomes_valid_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With no curve at cycle 200 yet, 12 cycles of a cell heading for 30 % were predicted at
    -50 % in the history and the Insights band; the objective's valid_range bounds both."""
    config = {**CONFIG, "objectives": [{**CONFIG["objectives"][0], "valid_range": [0.0, 150.0]}]}  # type: ignore[dict-item]
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", actor="me")
    campaign.record(pd.DataFrame({"experiment_id": ["E0"], "loading_wt_pct": [1.0], "ce_pct": [88.0]}))
    campaign.record(_points("E0", 30.0, 12, 0))
    row = campaign.history().iloc[0]
    assert 0 < row["retention_pct"] < row["retention_pct_last_value"] and row["retention_pct_pred_sd"] > 0
    band = curve_continuations(campaign.measurements(), "retention_pct", 200, valid_range=(0.0, 150.0))
    assert band["lower"].min() >= 0 and band["upper"].max() <= 150
    assert band["mean"].iloc[-1] == pytest.approx(row["retention_pct"])
    assert curve_continuations(campaign.measurements(), "retention_pct", 200)["mean"].iloc[-1] < 0  # the law alone


def test_a_still_cycling_prediction_does_not_reorder_the_weighted_ranking() -> None:
    """Found by a probe: in weighted mode a cell still cycling (its value at cycle 200 predicted,
    not ranked) moved the desirability's anchors, and the measured experiments changed order."""
    config = {"name": "w", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "ce", "goal": "maximize", "unit": "%"},
                             {"name": "ret", "goal": "maximize", "unit": "%", "over": "cycle", "at": 200,
                              "valid_range": [0, 150]}],
              "objective_mode": "weighted", "seed": 3}
    campaign = Campaign.from_config(config, storage=":memory:")
    campaign.record(pd.DataFrame({"experiment_id": ["M1", "M2", "M3"], "x": [0.1, 0.2, 0.3],
                                  "ce": [90.0, 81.0, 70.0], "ret": [60.0, 70.0, 50.0]}))
    before = campaign.best(3)["experiment_id"].tolist()
    curve = retention_curve(80.0, 100, seed=4)  # still cycling at 100 of 200, heading above every measured
    campaign.record(pd.DataFrame({"experiment_id": ["P"], "x": [0.9], "ce": [85.0]}))
    campaign.record(pd.DataFrame({"experiment_id": "P", "cycle": curve["cycle"], "ret": curve["retention_pct"]}))
    assert campaign.history().set_index("experiment_id").loc["P", "ret"] > 70.0  # predicted, shown
    assert campaign.best(3)["experiment_id"].tolist() == before == ["M2", "M1", "M3"]


def test_a_curve_logged_past_its_cycle_without_a_point_there_is_measured_by_interpolation(campaign: Campaign) -> None:
    """A cell logged every 7th cycle up to 210 (no point at 200) stayed 'predicted, not measured
    yet' for good: never ranked, and, no longer cycling, never early-stopped or compared. Its
    value at 200 is the linear interpolation between cycles 196 and 203, in history(), best(),
    the replicate counts and the early stop alike."""
    from doe.domain.early_stop import EarlyStop, cells_to_stop, stop_cells

    for i in range(4):
        campaign.record(_points(f"E{i}", 60.0 + 3 * i, 200, i))  # finished at 60-69 %
    beyond = _points("E4", 75.0, 210, 6)
    beyond = beyond[beyond["cycle"] % 7 == 0]
    campaign.record(beyond)
    campaign.record(_points("E5", 60.0, 80, 7))  # still cycling, heading below E4
    history = campaign.history().set_index("experiment_id")
    y196, y203 = beyond.set_index("cycle").loc[[196, 203], "retention_pct"]
    assert history.loc["E4", "retention_pct"] == pytest.approx(y196 + (y203 - y196) * 4 / 7)
    assert history.loc["E4", "retention_pct_pred_sd"] == 0 and history.loc["E4", "retention_pct_last_cycle"] == 210
    assert campaign.best(6)["experiment_id"].tolist() == ["E4", "E3", "E2", "E1", "E0"]
    assert ranking_notes(campaign.history(), campaign.config).tolist() == [""] * 5 + [
        "retention_pct at cycle 200 predicted, not measured yet (cycled to 80 so far)"]
    # the early stop compares E5 with E4's measured value (75 %, sd 0), not with E3's 69 %
    assert cells_to_stop(campaign.history(), campaign.config, EarlyStop()) == ["E5"]
    assert [s.experiment_id for s in stop_cells(campaign.history(), campaign.measurements(), campaign.config,
                                                EarlyStop())] == ["E5"]
    # two labelled cells, one logged past 200 and one with a point there: both measured, as cells
    cells = [beyond.assign(experiment_id="E6", replicate="A"), _points("E6", 73.0, 200, 8).assign(replicate="B")]
    campaign.record(pd.concat(cells).assign(loading_wt_pct=1.5))
    row = campaign.history().set_index("experiment_id").loc["E6"]
    assert row["retention_pct_n"] == 2 and row["retention_pct_pred_sd"] == 0
    assert row["retention_pct"] == pytest.approx(np.mean([history.loc["E4", "retention_pct"],
                                                          cells[1]["retention_pct"].iloc[-1]]))


def test_a_long_gap_around_the_target_cycle_is_bridged_by_the_fade_law_not_a_straight_line(campaign: Campaign) -> None:
    """A cell logged at cycles 1-20 and then 250-260 (a long pause in the export) counted as
    measured at 200 by a straight line from cycle 20 to cycle 250, which misses the curve's
    bend by a few points. Points further apart than a tenth of ``at`` are bridged by the cell's
    fade law through its points on both sides: measured (pred_sd 0), near the true value."""
    for i in range(4):
        campaign.record(_points(f"E{i}", 60.0 + 3 * i, 200, i))
    curve = retention_curve(62.0, 260, seed=4, noise_sd=0.05)
    gap = curve[(curve["cycle"] <= 20) | (curve["cycle"] >= 250)]
    campaign.record(pd.DataFrame({"experiment_id": "E4", "cycle": gap["cycle"], "retention_pct": gap["retention_pct"]}))
    row = campaign.history().set_index("experiment_id").loc["E4"]
    truth = float(curve.set_index("cycle").loc[200, "true_retention_pct"])
    y20, y250 = gap.set_index("cycle").loc[[20, 250], "retention_pct"]
    line = y20 + (y250 - y20) * 180 / 230
    assert abs(line - truth) > 1.5  # the straight line is off by almost two points here
    assert abs(row["retention_pct"] - truth) < abs(line - truth) / 3
    assert row["retention_pct_pred_sd"] == 0 and row["retention_pct_last_cycle"] == 260
    assert "E4" in campaign.best(6)["experiment_id"].tolist()
    # a short gap (cycles 195 and 205) is still the straight line between its two points
    near = curve[(curve["cycle"] <= 195) | (curve["cycle"] >= 205)]
    campaign.record(pd.DataFrame({"experiment_id": "E5", "cycle": near["cycle"], "retention_pct": near["retention_pct"]}))
    y195, y205 = near.set_index("cycle").loc[[195, 205], "retention_pct"]
    assert campaign.history().set_index("experiment_id").loc["E5", "retention_pct"] == pytest.approx((y195 + y205) / 2)


def test_another_outcome_on_a_row_with_a_cycle_is_refused_naming_its_value(campaign: Campaign) -> None:
    """Found by a probe: a CE of 86.8 typed on a cycling row was refused as '(got None)', so the
    engineer could not tell which value the message was about."""
    before = campaign.measurements()
    table = pd.DataFrame({"experiment_id": ["E1", "E1"], "cycle": [1, 2], "retention_pct": [100.0, 99.5],
                          "ce_pct": [86.8, None]})
    with pytest.raises(DataError) as refused:
        campaign.record(table)
    assert ("row 0, column 'ce_pct': a row with a cycle records points of the curve outcomes ['retention_pct']; "
            "give the other outcomes in a row without a cycle (got 86.8)") in str(refused.value)
    pd.testing.assert_frame_equal(campaign.measurements(), before)


def test_a_history_cut_to_ids_recipes_and_outcomes_records_no_prediction_as_measured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A history exported while E0 still cycled, cut in a spreadsheet to its ids, recipes and
    outcomes (no status, no column only an export writes), recorded back: E0's prediction at cycle
    200 was stored as a point measured there. Now the value that is the stored prediction records
    nothing. Another value in such a table is a measurement at cycle 200, as a value typed in the
    Record page's grid for a cell that reached it is (a review: refusing it refused the grid's)."""
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    campaign = _exported_while_cycling(url, tmp_path / "history.csv")
    cut = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")[
        ["experiment_id", "loading_wt_pct", "retention_pct [%]", "ce_pct [%]"]]
    cut.to_csv(tmp_path / "cut.csv", index=False)
    before, revision = campaign.measurements(), campaign.revision()
    report = campaign.import_table(tmp_path / "cut.csv")  # the stored prediction, read back
    assert report.measurements_added == 0 and campaign.revision() == revision
    assert campaign.measurements().equals(before)

    campaign.record(pd.DataFrame({"experiment_id": ["E0"], "retention_pct": [55.0]}))  # measured at 200
    points = campaign.measurements()
    e0 = points[(points["experiment_id"] == "E0") & (points["outcome"] == "retention_pct")]
    assert e0["cycle"].max() == 200 and e0.loc[e0["cycle"] == 200, "value"].tolist() == [55.0]
