"""Suggestions and records made at the same time on one campaign (several people, robots or app
replicas): each batch or recorded table is planned from the data stored when it is written, so
batch ids never repeat, no batch ignores another and no table is stored twice (SQLite file and
PostgreSQL)."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from doe.campaign import Campaign
from doe.domain.records import NewExperiment
from doe.engine import EngineSettings
from doe.errors import ConcurrentChangeError, DataError
from doe.storage.backup import backup, restore


def test_a_write_computed_from_stale_data_is_refused_and_nothing_is_written(store_url: str) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, name="stale", actor="a")
    seen = campaign.state()
    campaign.suggest(1)  # someone else writes meanwhile
    recipe = campaign.config.reference_recipe()
    assert recipe is not None
    before = (campaign.revision(), len(campaign.history()))
    with pytest.raises(ConcurrentChangeError, match="changed"):
        campaign.store.write("stale", actor="b", expect_state=seen, new_experiments=[
            NewExperiment(parameters=recipe, status="proposed", config_version=1, batch_id="B0002")])
    assert (campaign.revision(), len(campaign.history())) == before
    campaign.store.write("stale", actor="b", expect_state=campaign.state(), new_experiments=[
        NewExperiment(parameters=recipe, status="proposed", config_version=1, batch_id="B0002")])
    assert len(campaign.history()) == 2


def test_simultaneous_suggestions_get_their_own_batches(store_url: str) -> None:
    Campaign.from_config("hfo2-ncm85", storage=store_url, name="busy", actor="lead")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def engineer(k: int) -> None:
        try:
            campaign = Campaign.load("busy", storage=store_url, actor=f"engineer-{k}", settings=EngineSettings.fast())
            start.wait()
            campaign.suggest(2)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=engineer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    history = Campaign.load("busy", storage=store_url).history()
    assert len(history) == 8
    assert sorted(history["batch_id"].value_counts().to_dict().items()) == [
        ("B0001", 2), ("B0002", 2), ("B0003", 2), ("B0004", 2)]
    recipes = history[Campaign.load("busy", storage=store_url).config.parameter_names].round(9)
    assert not recipes.duplicated().any()  # every batch saw the ones before it as pending


def _one_request_from_three_clients(store_url: str, name: str, request_id: str) -> None:
    """Three clients send ``request_id`` at once: each gets the one batch, and only it is stored."""
    Campaign.from_config("hfo2-ncm85", storage=store_url, name=name, actor="lead")
    got: list[list[str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def client(k: int) -> None:
        try:
            campaign = Campaign.load(name, storage=store_url, actor=f"robot-{k}", settings=EngineSettings.fast())
            start.wait()
            got.append(campaign.suggest(2, request_id=request_id)["experiment_id"].tolist())
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert len(Campaign.load(name, storage=store_url).history()) == 2
    assert got == [["E0001", "E0002"]] * 3


def test_one_request_sent_at_once_by_several_clients_is_one_batch(store_url: str) -> None:
    """A robot retrying a timed-out request (or a client that gave up on a paused worker) and
    the first attempt wrote two batches tagged with one request id; the README promises that
    each request is done once."""
    _one_request_from_three_clients(store_url, "retry", "REQ-42")


def test_a_request_whose_batch_another_client_wrote_during_the_last_try_returns_that_batch(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client whose write lost the race on its last try raised ConcurrentChangeError,
    though the write that beat it was this very request's batch. One try makes every race the
    last one."""
    import doe.campaign

    monkeypatch.setattr(doe.campaign, "SUGGEST_ATTEMPTS", 1)  # (5 in use)
    _one_request_from_three_clients(store_url, "last-try", "REQ-7")


def test_two_campaigns_whose_names_differ_only_in_case_cannot_both_be_created_at_once(store_url: str) -> None:
    """Created at the same moment, 'coat-line' and 'Coat-Line' both passed the twin check (a read,
    then an insert; the unique constraint catches only the exact name): 5 of 5 tries."""
    from doe.errors import StorageError
    from doe.templates import resolve_config

    for attempt in range(5):
        names = [f"coat-line-{attempt}", f"Coat-Line-{attempt}"]
        start = threading.Barrier(2)
        made: list[str] = []
        refused: list[str] = []

        def create(name: str, start: threading.Barrier, made: list[str], refused: list[str]) -> None:
            start.wait()
            try:
                Campaign.from_config(resolve_config("hfo2-ncm85").replace(name=name), storage=store_url, actor="a")
                made.append(name)
            except StorageError as err:
                refused.append(str(err))

        threads = [threading.Thread(target=create, args=(name, start, made, refused)) for name in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(made) == 1 and len(refused) == 1, (made, refused)
        assert "only in upper and lower case" in refused[0] or "exists already" in refused[0], refused


@pytest.mark.postgres
def test_a_lock_held_by_another_session_is_waited_for_a_bounded_time(postgres_database: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A transaction left open in psql on the campaign's row made every client wait forever, in
    silence; now the change is refused after the lock timeout, naming the cause, and nothing is
    written."""
    import time

    import pandas as pd
    import psycopg

    from doe.errors import StorageError
    from doe.storage import engine

    monkeypatch.setattr(engine, "LOCK_TIMEOUT_S", 2)  # (60 s in use; read as each connection opens)
    campaign = Campaign.from_config("hfo2-ncm85", storage=postgres_database, name="held", actor="a")
    recipe = dict(campaign.config.reference_recipe() or {})
    with psycopg.connect(postgres_database.replace("postgresql+psycopg://", "postgresql://", 1)) as other:
        other.execute("SELECT id FROM campaigns WHERE name = 'held' FOR UPDATE")  # and left open
        began = time.monotonic()
        with pytest.raises(StorageError, match="another database session has held what this change needs for over "
                                               r"2 s .*nothing was written"):
            campaign.record(pd.DataFrame([{**recipe, "first_cycle_ce_pct": 88.0}]))
        assert time.monotonic() - began < 30
        other.rollback()
    assert campaign.history().empty
    campaign.record(pd.DataFrame([{**recipe, "first_cycle_ce_pct": 88.0}]))
    assert len(campaign.history()) == 1


class _EditedWhileComputing(Campaign):
    """A robot's campaign whose configuration an engineer edits (``edit``) while its first
    suggestion is being computed: between the history it reads and the batch it writes."""

    edit: dict | None = None

    def history(self, status=None):  # type: ignore[no-untyped-def]
        out = super().history(status)
        if self.edit is not None:
            other = Campaign.load(self.name, storage=self.storage_url, actor="engineer")
            other.update_config(self.edit)
            self.edit = None
        return out


@pytest.mark.parametrize("change", ["narrow a range", "add a parameter"])
def test_a_configuration_edited_while_a_batch_is_computed_is_the_one_the_batch_obeys(store_url: str,
                                                                                     change: str) -> None:
    """The batch was computed and stamped from configurations read at different times: with a
    range narrowed meanwhile it was stored as version 2 at 750 C outside version 2's 250-400 C;
    with a parameter added meanwhile suggest() failed with KeyError."""
    from doe.simulate import VirtualLab

    robot = _EditedWhileComputing.from_config("hfo2-ncm85", storage=store_url, name="line", actor="robot",
                                              settings=EngineSettings.fast())
    first = robot.suggest(6)
    robot.record(VirtualLab(0).run(first[["experiment_id", *robot.config.parameter_names]]))
    config = robot.config.to_dict()
    if change == "narrow a range":
        next(p for p in config["parameters"] if p["name"] == "anneal_temperature_c")["bounds"] = [250, 400]
    else:
        config["parameters"].append({"name": "stir_rpm", "type": "continuous", "bounds": [100, 500], "reference": 300})
    robot.edit = config
    batch = robot.suggest(2)
    stored = robot.history().set_index("experiment_id").loc[batch["experiment_id"]]
    assert (stored["config_version"] == 2).all() and robot.config_version == 2
    if change == "narrow a range":
        assert batch["anneal_temperature_c"].between(250, 400).all(), batch["anneal_temperature_c"]
    else:
        assert batch["stir_rpm"].between(100, 500).all()


class _RecordedMeanwhile(Campaign):
    """A robot's campaign; while it plans a table, another process records ``meanwhile``."""

    meanwhile: pd.DataFrame | None = None

    def history(self, status=None):  # type: ignore[no-untyped-def]
        out = super().history(status)
        if self.meanwhile is not None:
            table, self.meanwhile = self.meanwhile, None
            Campaign.load(self.name, storage=self.storage_url, actor="robot-2").record(table)
        return out


def test_one_history_recorded_by_two_processes_at_once_is_stored_once(store_url: str) -> None:
    """A robot's retry sent a history file (no experiment ids) twice at once: repeats were looked
    for before the write, outside its lock, so both stored it (10 experiments for 5)."""
    robot = _RecordedMeanwhile.from_config("hfo2-ncm85", storage=store_url, name="history", actor="robot-1")
    recipe = robot.config.reference_recipe()
    history = pd.DataFrame([{**recipe, "hfo2_loading_wt_pct": 0.2 * k, "first_cycle_ce_pct": 80.0 + k}
                            for k in range(1, 6)])
    robot.meanwhile = history
    with pytest.raises(DataError, match=r"5 row\(s\) are already recorded; nothing was recorded"):
        robot.record(history)
    stored = robot.history()
    assert len(stored) == 5 and set(stored["proposed_by"]) == {"robot-2"}
    # another table written meanwhile is no repeat: the robot's own table is planned again and lands
    robot.meanwhile = history.assign(hfo2_loading_wt_pct=[1.5, 1.6, 1.7, 1.8, 1.9])
    report = robot.record(history.assign(hfo2_loading_wt_pct=[2.1, 2.2, 2.3, 2.4, 2.5]))
    assert len(report.created) == 5 and len(robot.history()) == 15


_LINE = {"name": "line", "seed": 3,
         "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 10]},
                        {"name": "y", "type": "continuous", "bounds": [0, 10]}],
         "objectives": [{"name": "ce", "goal": "maximize"}]}


def test_a_write_computed_from_a_campaign_since_made_again_is_refused(store_url: str) -> None:
    """The guard compared the revision number only: a campaign deleted and made again under its
    name (or restored from a backup) at the revision number a write was computed from took a
    write computed from the other campaign's data."""
    first = Campaign.from_config(_LINE, storage=store_url, actor="a")
    seen = first.state()
    first.store.discard_campaign("line", seen.revision)
    again = Campaign.from_config(_LINE, storage=store_url, actor="b")
    assert again.revision() == seen.revision and again.state() != seen
    with pytest.raises(ConcurrentChangeError, match=r"was replaced \(restored from a backup, or deleted and made "
                                                    r"again\).*nothing was written"):
        again.store.write("line", actor="a", expect_state=seen, new_experiments=[
            NewExperiment(parameters={"x": 1.0, "y": 1.0}, status="proposed", config_version=1, batch_id="B0001")])
    assert again.history().empty and again.state().revision == seen.revision


class _RestoredWhileComputing(Campaign):
    """A robot's campaign restored from ``backup_file`` while its suggestion is computed (between the
    state it reads and the batch it writes); another actor then writes once, so the restored
    campaign is back at the revision number the robot read."""

    backup_file: Path | None = None

    def history(self, status=None):  # type: ignore[no-untyped-def]
        out = super().history(status)
        if self.backup_file is not None:
            backup_file, self.backup_file = self.backup_file, None
            restore(self.storage_url, backup_file, force=True)
            Campaign.load(self.name, storage=self.storage_url, actor="engineer").record(
                pd.DataFrame([{"x": 5.0, "y": 5.0, "ce": 80.0}]))
        return out


def test_a_batch_computed_before_a_restore_that_lands_on_the_same_revision_is_computed_again(tmp_path: Path) -> None:
    """suggest() computed a batch on a state with batch B0001 pending; a restore took the campaign back
    to before that batch and one record brought the revision number back: the batch, computed beside
    experiments no longer stored, was written as B0002 of a campaign without B0001."""
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    robot = _RestoredWhileComputing.from_config(_LINE, storage=url, actor="robot", settings=EngineSettings.fast())
    backup(url, tmp_path / "bk.sqlite3")
    robot.suggest(2)
    read = robot.state()
    robot.backup_file = tmp_path / "bk.sqlite3"
    batch = robot.suggest(2)
    assert robot.backup_file is None and robot.state().revision == read.revision + 1  # restored, recorded, suggested
    history = robot.history()
    assert list(history["batch_id"].fillna("")) == ["", "B0001", "B0001"], history
    assert list(batch["batch_id"]) == ["B0001", "B0001"]


def _line(y_max: float, x_max: float = 10) -> dict:
    return {**_LINE, "parameters": [{"name": "x", "type": "continuous", "bounds": [0, x_max]},
                                    {"name": "y", "type": "continuous", "bounds": [0, y_max]}]}


@pytest.mark.parametrize("base", ["number", "current_config"])
def test_an_edit_of_a_version_a_restore_replaced_is_refused(tmp_path: Path, base: str) -> None:
    """update_config(based_on=2) compared the number only: ann's edit of bob's version 2 (y up to 8),
    saved after a restore and carl's own version 2 (y up to 6), was saved as version 3 and undid
    carl's narrowing without a word."""
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    Campaign.from_config(_line(10), storage=url, actor="setup")
    backup(url, tmp_path / "bk.sqlite3")
    assert Campaign.load("line", storage=url, actor="bob").update_config(_line(8), based_on=1) == 2
    ann = Campaign.load("line", storage=url, actor="ann")
    seen = ann.current_config() if base == "current_config" else ann.config_version
    assert ann.config.parameter("y").upper == 8
    restore(url, tmp_path / "bk.sqlite3", force=True)
    carl = Campaign.load("line", storage=url, actor="carl")
    assert carl.update_config(_line(6), based_on=carl.config_version) == 2
    with pytest.raises(ConcurrentChangeError, match=r"version 2 was saved by carl at .* UTC and is not the version 2 "
                                                    r"this edit started from \(the campaign was restored from a backup "
                                                    r"or replaced since\); nothing was saved"):
        ann.update_config(_line(8, x_max=12), based_on=seen)
    now = Campaign.load("line", storage=url)
    assert list(now.config_versions()["version"]) == [1, 2] and now.config.parameter("y").upper == 6
    assert ann.update_config(_line(6, x_max=12), based_on=ann.current_config()) == 3  # on the version now stored


def test_a_record_planned_before_a_restore_that_lands_on_the_same_revision_is_planned_again(tmp_path: Path) -> None:
    """record() planned a history file against a state holding its row (a repeat: nothing to write);
    a restore dropped that row and one record brought the revision number back: the empty plan was
    written, the row reported as already recorded and stored nowhere."""
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    robot = _RestoredWhileComputing.from_config(_LINE, storage=url, actor="robot")
    backup(url, tmp_path / "bk.sqlite3")
    row = pd.DataFrame([{"x": 1.0, "y": 1.0, "ce": 70.0}])
    robot.record(row)
    robot.backup_file = tmp_path / "bk.sqlite3"
    report = robot.record(row, valid_rows_only=True)
    assert robot.backup_file is None
    assert not report.rejected, report.rejected
    stored = robot.history()[["x", "y", "ce"]].sort_values("x").to_dict("records")
    assert stored == [{"x": 1.0, "y": 1.0, "ce": 70.0}, {"x": 5.0, "y": 5.0, "ce": 80.0}]


def _robots_write_after_each_computation(store_url: str, name: str, monkeypatch: pytest.MonkeyPatch,
                                         module: object, function: str) -> list[str]:
    """Make ``module.function`` (a step between reading the campaign and writing) be followed,
    each time it runs, by a record of a robot ('recA', then 'recB', in turn): every try is overtaken."""
    robots = [Campaign.load(name, storage=store_url, actor=actor) for actor in ("recA", "recB")]
    real = getattr(module, function)
    recorded: list[str] = []

    robot_recording: list[bool] = []

    def then_a_robot_records(*args: object, **kwargs: object) -> object:
        out = real(*args, **kwargs)
        if robot_recording:  # the robot's own record passes here too
            return out
        robot = robots[len(recorded) % 2]
        recipe = {**robot.config.reference_recipe(), "anneal_time_h": 1.0 + 0.5 * len(recorded)}  # type: ignore[dict-item]
        robot_recording.append(True)
        try:
            robot.record(pd.DataFrame([{**recipe, "first_cycle_ce_pct": 80.0 + len(recorded)}]))
        finally:
            robot_recording.clear()
        recorded.append(robot.actor)
        return out

    monkeypatch.setattr(module, function, then_a_robot_records)
    return recorded


def test_a_suggestion_overtaken_on_every_try_says_so_who_wrote_and_what_to_do(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two robots recording every fraction of a second kept `doe suggest` from landing, with a
    message that named neither the tries, nor the writers, nor what to do."""
    import doe.campaign
    import doe.engine.batch

    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, name="shared", actor="ann",
                                    settings=EngineSettings.fast())
    recorded = _robots_write_after_each_computation(store_url, "shared", monkeypatch, doe.engine.batch, "next_batch")
    with pytest.raises(ConcurrentChangeError) as refused:
        campaign.suggest(2)
    message = str(refused.value)
    assert len(recorded) == doe.campaign.SUGGEST_ATTEMPTS == 5
    assert message.startswith("campaign 'shared' changed while doe computed this suggestion, on each of its 5 tries "
                              "(the last: revision 5 -> 6, written by recA (record)); nothing was written. Run it "
                              "again"), message
    assert "pause them" in message and "\n" not in message
    assert refused.value.writes == ("recA (record)",) and refused.value.revisions == (5, 6)
    assert campaign.history()["source"].ne("doe").all()  # no batch: the robots' rows alone


def test_a_record_overtaken_on_every_try_says_so_and_names_the_writers(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import doe.domain.planning

    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, name="shared", actor="ann")
    recipe = {**campaign.config.reference_recipe(), "first_cycle_ce_pct": 70.0}  # type: ignore[dict-item]
    _robots_write_after_each_computation(store_url, "shared", monkeypatch, doe.domain.planning, "plan_record")
    with pytest.raises(ConcurrentChangeError, match=r"^campaign 'shared' changed while doe checked this table "
                       r"against what is stored, on each of its 5 tries \(the last: revision 5 -> 6, written by "
                       r"recA \(record\)\); nothing was written\. Run it again"):
        campaign.record(pd.DataFrame([recipe]))
    assert 70.0 not in campaign.history()["first_cycle_ce_pct"].tolist()


def test_doe_suggest_overtaken_on_every_try_says_so_in_one_paragraph(cli_in_folder,  # type: ignore[no-untyped-def]
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import doe.engine.batch

    cli_in_folder("init", "--template", "hfo2-ncm85", "--name", "shared")
    _robots_write_after_each_computation(cli_in_folder.url, "shared", monkeypatch, doe.engine.batch, "next_batch")
    result = cli_in_folder("suggest", "-n", "2", "--campaign", "shared", "--fast", code=1)
    [said] = [line for line in result.output.splitlines() if line.strip()]
    assert said.startswith("Error: campaign 'shared' changed while doe computed this suggestion, on each of its 5 "
                           "tries (the last: revision 5 -> 6, written by recA (record)); nothing was written. Run it "
                           "again"), said


def test_a_refusal_names_each_write_since_once_by_its_own_action(store_url: str) -> None:
    """Two people each recorded once between the read and the write: the refusal named one of them
    twice, once as "recB (measurement_added)", and the other not at all, as the rows of one record()
    (experiment_created, measurement_added, record) counted as several writes."""
    from doe.auth.accounts import Accounts

    config = {"name": "line", "seed": 3, "objectives": [{"name": "ce", "goal": "maximize"}],
              "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 10]},
                             {"name": "y", "type": "continuous", "bounds": [0, 10]}]}
    campaign = Campaign.from_config(config, storage=store_url, actor="ann")
    seen = campaign.state()
    Campaign.load("line", storage=store_url, actor="recA").record(pd.DataFrame([{"x": 1.0, "y": 1.0, "ce": 70.0}]))
    accounts = Accounts(store_url)  # a membership is audited with the campaign, and is not one of its revisions
    accounts.add_user("eng", "engineer", password="eng-password", actor="root")
    accounts.store.add_member("line", "eng", actor="root")
    Campaign.load("line", storage=store_url, actor="recB").record(
        pd.DataFrame([{"x": 2.0, "y": 1.0, "ce": 71.0}, {"x": 3.0, "y": 1.0, "ce": 72.0}]))
    with pytest.raises(ConcurrentChangeError) as refused:
        campaign.store.write("line", actor="ann", expect_state=seen, new_experiments=[
            NewExperiment(parameters={"x": 1.0, "y": 1.0}, status="proposed", config_version=1, batch_id="B0001")])
    assert str(refused.value) == ("campaign 'line' changed (revision 1 -> 3, written by recB (record), recA (record)) "
                                  "after the data this write was computed from was read; nothing was written")
    assert refused.value.writes == ("recB (record)", "recA (record)") and refused.value.revisions == (1, 3)
    assert len(campaign.history()) == 3
