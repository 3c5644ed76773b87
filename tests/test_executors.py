"""Executors on their own: the virtual lab's queue, a plain function in threads, a folder of
run sheets and result files (real files, a real SQLite campaign, another thread writing)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe import Campaign, VirtualLab
from doe.engine import EngineSettings
from doe.errors import DataError, DoeError
from doe.executors import BaseExecutor, CallableExecutor, Executor, FileExecutor, VirtualLabExecutor
from doe.io import read_table, write_table

PARAMS = VirtualLab(0).config.parameter_names


def _batch(n: int, seed: int = 0, batch_id: str = "B0001", first: int = 1) -> pd.DataFrame:
    recipes = VirtualLab.random_recipes(n, seed=seed)
    recipes.insert(0, "experiment_id", [f"E{first + i:04d}" for i in range(n)])
    recipes["batch_id"] = batch_id
    return recipes


def _collect_all(executor: Executor, rounds: int = 50) -> list[pd.DataFrame]:
    frames = []
    for _ in range(rounds):
        frame = executor.collect(0.0)
        if len(frame):
            frames.append(frame)
    return frames


def test_the_protocol_needs_submit_and_collect_and_the_base_gives_the_optional_hooks() -> None:
    class OnlySubmits:
        def submit(self, experiments: pd.DataFrame) -> None:
            pass

    closed: list[bool] = []

    class Minimal(BaseExecutor):
        def submit(self, experiments: pd.DataFrame) -> None:
            pass

        def collect(self, timeout_s: float) -> pd.DataFrame:
            return pd.DataFrame()

        def close(self) -> None:
            closed.append(True)

    assert not isinstance(OnlySubmits(), Executor)  # collect is part of the protocol
    with Minimal() as executor:
        assert isinstance(executor, Executor)
        assert executor.timeout_s is None
        assert executor.in_flight() == set()
        executor.cancel(["E0001"])
        assert executor.rejected(pd.DataFrame(), DataError("bad cell")) is False  # nothing kept in flight
    assert closed == [True]  # the context manager closes the executor


def test_virtual_lab_queue_returns_each_result_once_late_and_out_of_order() -> None:
    executor = VirtualLabExecutor(seed=4, delay_rounds=(1, 4))
    batch = _batch(8)
    executor.submit(batch)
    assert executor.in_flight() == set(batch["experiment_id"])
    assert executor.collect(0.0).empty  # nothing is ready at the first call (delay >= 1)
    frames = _collect_all(executor)
    returned = [i for f in frames for i in f["experiment_id"]]
    assert sorted(returned) == sorted(batch["experiment_id"])  # each exactly once
    assert len(frames) > 1  # in several pieces
    assert returned != sorted(returned)  # not in submission order
    assert executor.in_flight() == set()
    columns = set(pd.concat(frames).columns)
    assert {"experiment_id", "failed", "failure_reason", "operator", "note", *VirtualLab.OUTCOMES} == columns


def test_virtual_lab_results_are_the_labs_measurements() -> None:
    batch = _batch(4)
    executor = VirtualLabExecutor(VirtualLab(7), seed=1)
    executor.submit(batch)
    got = executor.collect(0.0).set_index("experiment_id").sort_index()
    expected = VirtualLab(7).run(batch[["experiment_id", *PARAMS]]).set_index("experiment_id").sort_index()
    pd.testing.assert_series_equal(got["first_cycle_ce_pct"], expected["first_cycle_ce_pct"])


def test_virtual_lab_cancelled_results_are_dropped() -> None:
    executor = VirtualLabExecutor(seed=0, delay_rounds=(2, 2))
    executor.submit(_batch(3))
    executor.cancel(["E0002"])
    returned = [i for f in _collect_all(executor, 5) for i in f["experiment_id"]]
    assert sorted(returned) == ["E0001", "E0003"]
    assert executor.in_flight() == set()


@pytest.mark.parametrize("bad", [-1, (3, 1), "2", (0, 1.5)])
def test_virtual_lab_delay_is_validated(bad: object) -> None:
    with pytest.raises(DoeError, match="delay_rounds"):
        VirtualLabExecutor(delay_rounds=bad)  # type: ignore[arg-type]


def test_callable_runs_in_the_background_and_collects_when_ready() -> None:
    entered, release = threading.Event(), threading.Event()
    lab = VirtualLab(1)

    def measure(experiments: pd.DataFrame) -> pd.DataFrame:
        entered.set()
        assert release.wait(30), "never released"
        return lab.run(experiments)

    executor = CallableExecutor(measure)
    executor.submit(_batch(3))
    # submit returned while the function is still held inside: it runs in the background
    assert entered.wait(30)
    assert not release.is_set()
    assert executor.collect(0.05).empty
    assert executor.in_flight() == {"E0001", "E0002", "E0003"}
    release.set()
    results = executor.collect(5.0)
    assert sorted(results["experiment_id"]) == ["E0001", "E0002", "E0003"]
    assert executor.in_flight() == set()


def test_callable_exception_fails_the_batch_with_type_and_message() -> None:
    def broken(experiments: pd.DataFrame) -> pd.DataFrame:
        raise RuntimeError("furnace offline\nsecond line")

    executor = CallableExecutor(broken)
    executor.submit(_batch(2))
    results = executor.collect(5.0)
    assert results["failed"].all()
    assert set(results["failure_reason"]) == {"RuntimeError: furnace offline"}


def test_callable_aligns_rows_without_ids_and_fails_missing_ones() -> None:
    executor = CallableExecutor(lambda df: pd.DataFrame({"first_cycle_ce_pct": [80.0, 81.0]}))
    executor.submit(_batch(2))
    results = executor.collect(5.0)
    assert list(results["experiment_id"]) == ["E0001", "E0002"]
    assert list(results["first_cycle_ce_pct"]) == [80.0, 81.0]

    executor = CallableExecutor(lambda df: df[["experiment_id"]].head(1).assign(first_cycle_ce_pct=85.0))
    executor.submit(_batch(3))
    results = executor.collect(5.0).set_index("experiment_id")
    assert results.loc["E0001", "first_cycle_ce_pct"] == 85.0
    assert bool(results.loc["E0002", "failed"]) and bool(results.loc["E0003", "failed"])
    assert "no result" in results.loc["E0002", "failure_reason"]

    executor = CallableExecutor(lambda df: "not a table")  # type: ignore[arg-type,return-value]
    executor.submit(_batch(1))
    results = executor.collect(5.0)
    assert results["failure_reason"].iloc[0].startswith("DataError: the executor function must return")


# ---------------------------------------------------------------------- folder exchange
@pytest.fixture()
def campaign(tmp_path: Path) -> Campaign:
    return Campaign.from_config("hfo2-ncm85", storage=str(tmp_path / "c.sqlite3"), settings=EngineSettings.fast())


def _results_for(sheet: pd.DataFrame, lab: VirtualLab) -> pd.DataFrame:
    return lab.run(sheet[["experiment_id", *PARAMS]])


def test_file_executor_writes_run_sheets_and_reads_results_written_by_another_thread(
    campaign: Campaign, tmp_path: Path
) -> None:
    folder = tmp_path / "exchange"
    looked_and_found_nothing = threading.Event()
    scans: list[int] = []

    class WatchedFolder(FileExecutor):
        """The folder executor, noting each look at the folder (what it found is unchanged)."""

        def _ready_files(self) -> list[Path]:
            ready = super()._ready_files()
            scans.append(len(ready))
            if not ready:
                looked_and_found_nothing.set()
            return ready

    executor = WatchedFolder(folder, settle_s=0.1)
    executor.start(campaign)
    batch = campaign.suggest(3)
    executor.submit(batch)
    sheet_path = folder / f"runsheet_{batch['batch_id'].iloc[0]}.csv"
    assert sheet_path.is_file()
    sheet = read_table(sheet_path, campaign.config)
    assert list(sheet["experiment_id"]) == list(batch["experiment_id"])
    assert executor.in_flight() == set(batch["experiment_id"])

    assert executor.collect(0.0).empty  # no results file yet
    scans.clear()
    looked_and_found_nothing.clear()

    def lab_technician() -> None:
        # the file lands only once collect() below has looked and found nothing: it must wait
        assert looked_and_found_nothing.wait(30)
        tmp = folder / "writing.tmp"
        write_table(_results_for(sheet, VirtualLab(2)), tmp, file_format="csv")
        tmp.rename(folder / "results_B0001.csv")

    worker = threading.Thread(target=lab_technician)
    worker.start()
    results = executor.collect(30.0)
    worker.join()
    assert scans[0] == 0 and scans[-1] == 1  # found on a later look, not the first
    assert sorted(results["experiment_id"]) == sorted(batch["experiment_id"])
    assert executor.collect(0.0).empty  # handed out once, though still in the folder until recorded
    campaign.record(results)
    executor.recorded(results)
    assert (folder / "processed" / "results_B0001.csv").is_file()
    assert not (folder / "results_B0001.csv").exists()
    assert set(campaign.history()["status"]) <= {"completed", "failed"}


def test_file_executor_moves_a_bad_results_file_to_rejected_with_the_cells_named(
    campaign: Campaign, tmp_path: Path
) -> None:
    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.0)
    executor.start(campaign)
    batch = campaign.suggest(2)
    executor.submit(batch)
    results = _results_for(batch, VirtualLab(3, failures=False))
    results["first_cycle_ce_pct"] = results["first_cycle_ce_pct"].astype(object)
    results.loc[1, "first_cycle_ce_pct"] = "ninety"
    write_table(results, folder / "batch1.results.csv", file_format="csv")
    table = executor.collect(2.0)
    assert len(table) == 2
    with pytest.raises(DataError) as caught:
        campaign.record(table)
    assert executor.rejected(table, caught.value) is True
    rejected = folder / "rejected" / "batch1.results.csv"
    assert rejected.is_file()
    error_text = (folder / "rejected" / "batch1.results.csv.error.txt").read_text()
    assert "first_cycle_ce_pct" in error_text and "ninety" in error_text and "row 1" in error_text
    first = error_text.splitlines()[0]
    assert first.startswith("DataError: ") and error_text.count(first.removeprefix("DataError: ")) == 1, error_text
    assert executor.collect(0.0).empty


def test_file_executor_rejects_a_file_without_ids(campaign: Campaign, tmp_path: Path) -> None:
    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.0)
    executor.start(campaign)
    pd.DataFrame({"first_cycle_ce_pct": [88.0]}).to_csv(folder / "results_x.csv", index=False)
    assert executor.collect(0.5).empty
    assert (folder / "rejected" / "results_x.csv").is_file()
    assert "experiment_id" in (folder / "rejected" / "results_x.csv.error.txt").read_text()


def test_file_executor_rejects_a_file_with_a_result_in_a_row_without_an_id(campaign: Campaign,
                                                                           tmp_path: Path) -> None:
    """A run sheet filled in with one row more (a recipe made on the side, its id left empty):
    that row was dropped without a word, the file was recorded and moved to processed/, and
    its 77.7 % was lost."""
    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.0)
    executor.start(campaign)
    batch = campaign.suggest(1)
    executor.submit(batch)
    sheet = read_table(folder / "runsheet_B0001.csv", campaign.config)
    extra = sheet.assign(experiment_id=None, anneal_temperature_c=500.0, first_cycle_ce_pct=77.7)
    filled = pd.concat([sheet.assign(first_cycle_ce_pct=86.5), extra], ignore_index=True)
    filled.to_csv(folder / "results_B0001.csv", index=False)
    blank = sheet.assign(experiment_id=None, failed=False)  # a recipe left over, no result: nothing to lose
    pd.concat([sheet.assign(first_cycle_ce_pct=86.5), blank]).to_csv(folder / "results_B0001_b.csv", index=False)

    kept = executor.collect(0.5)
    assert kept["experiment_id"].tolist() == batch["experiment_id"].tolist()  # the file with a blank row only
    assert executor.collect(0.5).empty
    error = (folder / "rejected" / "results_B0001.csv.error.txt").read_text(encoding="utf-8")
    assert "row 3 of the file, column 'experiment_id': a row with results needs the experiment_id" in error
    assert "(first_cycle_ce_pct given)" in error and "nothing was recorded" in error
    # a row that says a cell failed, without its id, is no less lost (review: it was dropped in silence)
    failed = sheet.assign(experiment_id=None, failed="yes")
    pd.concat([sheet.assign(first_cycle_ce_pct=86.5), failed]).to_csv(folder / "results_B0001_c.csv", index=False)
    assert executor.collect(0.5).empty
    error = (folder / "rejected" / "results_B0001_c.csv.error.txt").read_text(encoding="utf-8")
    assert "row 3 of the file, column 'experiment_id': a row with results needs the experiment_id" in error
    assert "(failed given)" in error


def test_file_executor_leaves_other_files_and_unsettled_results_alone(campaign: Campaign, tmp_path: Path) -> None:
    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=30.0)
    executor.start(campaign)
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    (folder / "results_B0001.csv").write_text("experiment_id,first_cycle_ce_pct\nE0001,88\n")
    assert executor.collect(0.3).empty  # written just now: may still be being written
    assert (folder / "results_B0001.csv").exists() and (folder / "notes.csv").exists()
    # the same folder read without a settling time: the results file is taken, the notes are not
    eager = FileExecutor(folder, settle_s=0.0)
    eager.start(campaign)
    taken = eager.collect(0.0)
    assert taken["experiment_id"].tolist() == ["E0001"]
    eager.recorded(taken)
    assert not (folder / "results_B0001.csv").exists() and (folder / "notes.csv").exists()


def test_file_executor_needs_start(tmp_path: Path) -> None:
    executor = FileExecutor(tmp_path)
    with pytest.raises(DoeError, match="start"):
        executor.submit(_batch(1))


def test_timeout_is_validated() -> None:
    for bad in (0, -1.0, "10", True):
        with pytest.raises(DoeError, match="timeout_s"):
            CallableExecutor(lambda df: df, timeout_s=bad)  # type: ignore[arg-type]
    assert CallableExecutor(lambda df: df, timeout_s=2).timeout_s == 2.0
    assert np.isclose(VirtualLabExecutor(timeout_s=0.5).timeout_s or 0, 0.5)


# ---------------------------------------------------------------------- one folder, one campaign, each file once
def test_a_folder_is_one_campaigns_and_another_campaign_is_refused(campaign: Campaign, tmp_path: Path) -> None:
    """Two campaigns on one folder recorded one results file into both: every campaign numbers
    E0001, E0002, ..., so the other campaign's file matched ids of the wrong recipes."""
    folder = tmp_path / "exchange"
    folder.mkdir()
    (folder / "runsheet_B0001.csv").write_text("experiment_id\nE0001\n")  # a folder of before: adopted
    FileExecutor(folder).start(campaign)
    owner = (folder / ".doe-campaign").read_text(encoding="utf-8")
    assert campaign.name in owner and "c.sqlite3" in owner
    FileExecutor(folder).start(campaign)  # the same campaign again: its folder
    other = Campaign.from_config(campaign.config.replace(name="line-B"), storage=campaign.storage_url)
    with pytest.raises(DoeError) as refused:
        FileExecutor(folder).start(other)
    message = str(refused.value)
    assert str(folder) in message and "'hfo2-ncm85'" in message and "'line-B'" in message
    assert "give each campaign its own folder" in message
    assert (folder / ".doe-campaign").read_text(encoding="utf-8") == owner  # nothing changed
    elsewhere = Campaign.from_config("hfo2-ncm85", storage=str(tmp_path / "other.sqlite3"))
    with pytest.raises(DoeError, match="belongs to campaign 'hfo2-ncm85'"):  # same name, another database
        FileExecutor(folder).start(elsewhere)


def test_two_runs_on_one_folder_never_both_take_a_results_file(campaign: Campaign, tmp_path: Path) -> None:
    """Both read a file and both recorded it; the loser of the move to processed/ only then said
    'taken by another process'."""
    folder = tmp_path / "exchange"
    first, second = FileExecutor(folder, settle_s=0.0), FileExecutor(folder, settle_s=0.0)
    first.start(campaign)
    second.start(campaign)
    batch = campaign.suggest(3)
    first.submit(batch)
    write_table(_results_for(batch, VirtualLab(1)), folder / ".results_B0001.csv.tmp", file_format="csv")
    taken: dict[str, pd.DataFrame] = {}
    both_looking = threading.Barrier(3)

    def take(name: str, executor: FileExecutor) -> None:
        both_looking.wait(30)
        taken[name] = executor.collect(1.0)

    threads = [threading.Thread(target=take, args=item) for item in (("first", first), ("second", second))]
    for thread in threads:
        thread.start()
    both_looking.wait(30)
    (folder / ".results_B0001.csv.tmp").rename(folder / "results_B0001.csv")
    for thread in threads:
        thread.join(30)
    sizes = sorted(len(table) for table in taken.values())
    assert sizes == [0, 3], sizes  # one run has it, the other never read it
    winner = next(e for name, e in (("first", first), ("second", second)) if len(taken[name]))
    winner.recorded(next(t for t in taken.values() if len(t)))
    assert (folder / "processed" / "results_B0001.csv").is_file()
    assert not (folder / "results_B0001.csv").exists() and not any((folder / ".doe-claimed").iterdir())


# ---------------------------------------------------------------------- complete files only
def test_a_results_file_still_being_written_is_read_only_once_complete(campaign: Campaign, tmp_path: Path) -> None:
    """A robot writing in place paused mid-number: the file stayed unchanged for settle_s and
    '20.30...' was read, and stored, as 2.0."""
    folder = tmp_path / "exchange"
    scans: list[int] = []

    class WatchedFolder(FileExecutor):
        def _ready_files(self) -> list[tuple[Path, tuple[int, int]]]:
            ready = super()._ready_files()
            scans.append(len(ready))
            return ready

    executor = WatchedFolder(folder, settle_s=0.1)
    executor.start(campaign)
    batch = campaign.suggest(2)
    executor.submit(batch)
    ids = batch["experiment_id"].tolist()
    text = f"experiment_id,first_cycle_ce_pct\n{ids[0]},88.25\n{ids[1]},20.303618891477974\n"
    cut = text.index("0.303618")
    path = folder / "results_B0001.csv"

    def robot() -> None:
        with path.open("w", encoding="utf-8") as file:
            file.write(text[:cut])  # "...,2" and a pause, as a robot appending cells as they finish
            file.flush()
            seen, deadline = len(scans), time.monotonic() + 30
            while len(scans) < seen + 4 and time.monotonic() < deadline:  # looked at it for longer than settle_s
                time.sleep(0.02)
            file.write(text[cut:])

    worker = threading.Thread(target=robot, daemon=True)
    worker.start()
    table = executor.collect(30.0)
    worker.join(30)
    assert table.set_index("experiment_id").loc[ids[1], "first_cycle_ce_pct"] == 20.303618891477974


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_complete_utf16_results_file_is_read(campaign: Campaign, tmp_path: Path, encoding: str) -> None:
    """Excel's 'Unicode Text' (UTF-16 with its byte-order mark), which `doe record` reads: its last
    byte is the 0 of a two-byte line end, so the folder waited for ever for 'the rest'."""
    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.0)
    executor.start(campaign)
    batch = campaign.suggest(1)
    executor.submit(batch)
    text = f"experiment_id\tfirst_cycle_ce_pct\tnote\r\n{batch['experiment_id'].iloc[0]}\t87,5\tcaf\u00e9\r\n"
    data = text.encode("utf-16") if encoding == "utf-16" else b"\xfe\xff" + text.encode("utf-16-be")
    (folder / "results_B0001.csv").write_bytes(data)
    (folder / "results_B0001_cut.csv").write_bytes(data[:-4])  # its line end not written yet: waited for
    table = executor.collect(2.0)
    assert table["first_cycle_ce_pct"].tolist() == [87.5] and table["note"].tolist() == ["caf\u00e9"]
    assert executor.collect(0.3).empty and (folder / "results_B0001_cut.csv").exists()


def test_hidden_and_excel_owner_files_are_not_results(campaign: Campaign, tmp_path: Path) -> None:
    """Excel's owner file ~$B0001.results.xlsx (there while a person has the workbook open) was
    taken for a results file and rejected; a robot's hidden temporary name was read too."""
    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.0)
    executor.start(campaign)
    (folder / "~$B0001.results.xlsx").write_bytes(b"\x08owner")
    (folder / ".B0001.results.csv").write_text("experiment_id,first_cycle_ce_pct\nE0001,8")
    # a name ending in a line break is no .csv file (the name pattern's "$" matched before it)
    (folder / "results_B0001.csv\n").write_text("experiment_id,first_cycle_ce_pct\nE0001,8")
    assert executor.collect(0.3).empty
    assert (folder / "~$B0001.results.xlsx").exists() and (folder / ".B0001.results.csv").exists()
    assert (folder / "results_B0001.csv\n").exists()
    assert not (folder / "rejected").exists()


def test_a_results_file_dated_in_the_future_is_read(campaign: Campaign, tmp_path: Path) -> None:
    """A robot PC whose clock is an hour ahead: the file's age was negative for an hour, and it
    was never read, without a word."""
    import os

    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.2)
    executor.start(campaign)
    path = folder / "results_B0001.csv"
    path.write_text("experiment_id,first_cycle_ce_pct\nE0001,88\n")
    ahead = time.time() + 3600
    os.utime(path, (ahead, ahead))
    assert executor.collect(10.0)["experiment_id"].tolist() == ["E0001"]
    # one last changed before settle_s by the clock is read at the first look (a run's last look waits not)
    path = folder / "results_B0002.csv"
    path.write_text("experiment_id,first_cycle_ce_pct\nE0002,88\n")
    os.utime(path, (time.time() - 10, time.time() - 10))
    assert executor.collect(0.0)["experiment_id"].tolist() == ["E0002"]


def test_a_results_file_that_cannot_be_read_now_is_read_later_not_rejected(
        campaign: Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Held open by the robot or a virus scanner (Windows: 'used by another process'): the read
    error rejected the file, its move to rejected/ failed too, and the run never looked at it again."""
    import doe.io

    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.0)
    executor.start(campaign)
    path = folder / "results_B0001.csv"
    path.write_text("experiment_id,first_cycle_ce_pct\nE0001,88\n")
    real_read, attempts = doe.io.read_table, []

    def held_twice(source: object, *args: object, **kwargs: object) -> pd.DataFrame:  # the OS, not the executor
        attempts.append(source)
        if len(attempts) <= 2:
            raise PermissionError(13, "The process cannot access the file because it is being used by another "
                                      "process", str(source))
        return real_read(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(doe.io, "read_table", held_twice)
    with caplog.at_level("WARNING", logger="doe.executors"):
        assert executor.collect(0.0).empty
        assert path.exists() and not (folder / "rejected").exists()
        assert "results_B0001.csv not read yet" in caplog.text and "used by another process" in caplog.text
        assert executor.collect(10.0)["experiment_id"].tolist() == ["E0001"]
    assert caplog.text.count("not read yet") == 1  # said once, not at every look


def test_a_results_file_that_cannot_be_moved_now_is_taken_later(campaign: Campaign, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """A file that cannot be renamed (held open on Windows, here immutable) stays and is taken once it can be."""
    import subprocess

    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.0)
    executor.start(campaign)
    path = folder / "results_B0001.csv"
    path.write_text("experiment_id,first_cycle_ce_pct\nE0001,88\n")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root on a file system that supports it)")
    try:
        with caplog.at_level("WARNING", logger="doe.executors"):
            assert executor.collect(0.3).empty
        assert "not read yet, it cannot be moved now" in caplog.text
        assert path.exists() and not (folder / "rejected").exists()
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    assert executor.collect(10.0)["experiment_id"].tolist() == ["E0001"]
