"""The ``doe`` command refuses bad paths and repeated imports before it changes anything
(issue 14, item 4); in-process through click's runner on a real SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from doe import Campaign
from doe.campaign import list_campaigns
from doe.cli import cli
from doe.templates import resolve_config

RECIPE = resolve_config("hfo2-ncm85").reference_recipe()
assert RECIPE is not None


@pytest.fixture()
def doe(cli_in_folder):  # type: ignore[no-untyped-def]
    """Campaign 'coating', empty."""
    cli_in_folder("init", "--template", "hfo2-ncm85", "--name", "coating")
    return cli_in_folder


def _history(doe) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return Campaign.load("coating", storage=doe.url).history()


@pytest.mark.parametrize("out", ["missing/dir/x.csv", "x.txt", "history.csv/x.csv"])
def test_suggest_checks_the_run_sheet_path_before_storing_a_batch(doe, out: str) -> None:  # type: ignore[no-untyped-def]
    Path("history.csv").write_text("a file, not a folder")
    result = doe("suggest", "-n", "1", "--fast", "--out", out, code=1)
    assert "--out" in result.output and "Traceback" not in result.output
    assert _history(doe).empty


@pytest.mark.parametrize("out", ["missing/dir/x.csv", "missing/x.json", "x.pdf"])
def test_export_checks_the_path(doe, out: str) -> None:  # type: ignore[no-untyped-def]
    result = doe("export", "--out", out, code=1)
    assert "--out" in result.output and "Traceback" not in result.output


def test_export_wraps_os_errors_naming_the_path(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "full.csv"
    os.symlink("/proc/version", target)  # exists, looks writable by name, refuses the write
    result = doe("export", "--out", str(target), code=1)
    assert "full.csv" in result.output and "Traceback" not in result.output


def test_record_twice_refuses_then_allows_duplicates_and_takes_an_encoding(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "history.csv"
    pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": 88.0, "note": "Müller, 400 °C"}]).to_csv(
        path, index=False, encoding="cp1252")
    result = doe("record", str(path), code=1)
    assert "encoding" in result.output
    doe("record", str(path), "--encoding", "cp1252")
    result = doe("record", str(path), "--encoding", "cp1252", code=1)
    assert "already recorded as E0001" in result.output
    assert len(_history(doe)) == 1
    doe("record", str(path), "--encoding", "cp1252", "--allow-duplicates")
    assert len(_history(doe)) == 2


@pytest.mark.parametrize(("args", "option", "name"), [
    (("suggest", "-n", "1", "--fast", "--fixed", "anneal_atmosphere=Ar", "--fixed", "anneal_atmosphere=O2"),
     "--fixed", "anneal_atmosphere"),
    (("suggest", "-n", "1", "--fast", "--engine", "explore_untried=1", "--engine", "explore_untried=0"),
     "--engine", "explore_untried"),
    (("record", "results.csv", "--map", "CE=first_cycle_ce_pct", "--map", "CE=capacity_retention_pct"), "--map", "CE"),
    (("run", "--simulate", "--budget", "1", "--no-progress", "--fast", "--target", "first_cycle_ce_pct=90",
      "--target", "first_cycle_ce_pct=95"), "--target", "first_cycle_ce_pct"),
])
def test_a_name_given_twice_is_refused_in_one_line_and_nothing_is_stored(  # type: ignore[no-untyped-def]
        doe, args: tuple[str, ...], option: str, name: str) -> None:
    """The last of the two values was used silently; which one was meant cannot be told."""
    pd.DataFrame([{**RECIPE, "CE": 88.0}]).to_csv("results.csv", index=False)
    result = doe(*args, code=1)
    assert result.output.startswith(f"Error: {option}: {name!r} is given twice") and result.output.count("\n") == 1
    assert _history(doe).empty
    assert list(list_campaigns(doe.url)["name"]) == ["coating"]


@pytest.mark.parametrize(("args", "message"), [
    (("--target", "nope=3"), "--target: 'nope' is not an objective of campaign 'sim-hfo2-ncm85-seed0'; its "
                             "objectives: first_cycle_ce_pct, capacity_retention_pct"),
    (("--batch-size", "3", "--max-pending", "2"), "--max-pending (2) must be at least --batch-size (3)"),
    (("--timeout", "nan"), "--timeout: give a positive number of seconds, got nan"),
    (("--calendar", "--weeks", "inf"), "--weeks: give a positive number of simulated weeks, got inf"),
])
def test_run_checks_its_options_before_it_creates_the_simulated_campaign(  # type: ignore[no-untyped-def]
        doe, args: tuple[str, ...], message: str) -> None:
    result = doe("run", "--simulate", "--budget", "1", "--no-progress", "--fast", *args, code=1)
    assert message in result.output and "Traceback" not in result.output
    assert list(list_campaigns(doe.url)["name"]) == ["coating"]


def test_run_with_a_folder_checks_its_target_before_it_makes_the_folder(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = doe("run", "--folder", "sheets", "--campaign", "coating", "--target", "nope=3", "--no-progress", code=1)
    assert "--target: 'nope' is not an objective of campaign 'coating'" in result.output
    assert not (tmp_path / "sheets").exists()


@pytest.mark.postgres
def test_the_database_password_is_never_printed_or_logged(postgres_database: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """doe init, doe status and doe run printed the URL with its password (and init logged it):
    status output is pasted into chats and robots' logs keep it. (The test server trusts local
    connections, so any password connects.)"""
    import logging

    from sqlalchemy.engine import make_url

    parsed = make_url(postgres_database)
    if parsed.password is None:  # the tests' own server trusts local connections: any password connects
        parsed = parsed.set(password="S3cretPw-not-for-logs")
    url = parsed.render_as_string(hide_password=False)
    secret = f":{parsed.password}@"  # as a URL writes it (a server's password may be a common word)
    assert secret in url
    runner = CliRunner()
    caplog.set_level(logging.DEBUG)
    outputs = []
    for args in (["init", "--template", "hfo2-ncm85", "--name", "line-1"], ["status", "--campaign", "line-1"],
                 ["run", "--simulate", "--campaign", "sim-1", "--budget", "1", "--batch-size", "1", "--fast"]):
        result = runner.invoke(cli, [*args, "--db", url], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert all(f"postgresql+psycopg://{parsed.username}:***@" in out for out in outputs[:2]), outputs
    assert not [out for out in outputs if secret in out], outputs
    assert secret not in caplog.text


@pytest.mark.parametrize("actor", ["", "   "])
def test_an_empty_actor_is_refused_not_replaced_by_the_login(doe, tmp_path: Path, actor: str) -> None:  # type: ignore[no-untyped-def]
    """`--actor "$ROBOT"` with $ROBOT unset recorded the change under the server's login."""
    from doe.errors import StorageError

    result = doe("init", "--template", "hfo2-ncm85", "--name", "robot-line", "--actor", actor, code=1)
    assert "--actor is empty" in result.output
    assert "robot-line" not in list_campaigns(doe.url)["name"].tolist()
    with pytest.raises(StorageError, match="actor must be text of 1 to"):
        Campaign.from_config("hfo2-ncm85", storage=doe.url, name="robot-line", actor=actor)
    campaign = Campaign.load("coating", storage=doe.url, actor=actor)
    with pytest.raises(StorageError, match="actor must be text of 1 to"):
        campaign.record(pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": 88.0}]))
    assert _history(doe).empty and "robot-line" not in list_campaigns(doe.url)["name"].tolist()


def test_a_run_sheet_filled_in_part_records_the_filled_rows_and_keeps_the_others_pending(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The documented 'fill in the outcomes and doe record' refused the whole sheet while some
    cells were still cycling ('the row has no measured outcome and is not marked failed')."""
    doe("suggest", "-n", "4", "--fast", "--out", "sheet.csv")
    sheet = pd.read_csv(tmp_path / "sheet.csv", encoding="utf-8-sig")
    ce = next(c for c in sheet.columns if c.startswith("first_cycle_ce_pct ["))
    sheet.loc[[0, 1], ce] = [85.5, 86.25]
    sheet.to_csv(tmp_path / "sheet.csv", index=False)
    result = doe("record", "sheet.csv")
    assert "campaign 'coating': 2 row(s) recorded" in result.output
    assert "2 row(s) left out, experiments with no result yet (they stay pending)" in result.output
    assert "E0003 is proposed and the row gives no result yet: nothing recorded" in result.output
    history = _history(doe)
    assert history["status"].tolist() == ["completed", "completed", "proposed", "proposed"]
    assert history["first_cycle_ce_pct"].tolist()[:2] == [85.5, 86.25]
    sheet.loc[[2, 3], ce] = [84.0, 83.0]  # the other cells, a week later, in the same sheet
    sheet.to_csv(tmp_path / "sheet.csv", index=False)
    assert "left out" not in doe("record", "sheet.csv").output
    assert _history(doe)["status"].tolist() == ["completed"] * 4


def test_a_result_typed_into_a_prediction_column_is_refused_not_lost(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A CE typed one column too far left, under first_cycle_ce_pct_mean, was dropped without a
    word while the row's retention was recorded."""
    doe("suggest", "-n", "2", "--fast", "--out", "sheet.csv")
    sheet = pd.read_csv(tmp_path / "sheet.csv", encoding="utf-8-sig")
    retention = next(c for c in sheet.columns if c.startswith("capacity_retention_pct ["))
    mean = next(c for c in sheet.columns if c.startswith("first_cycle_ce_pct_mean"))
    sheet.loc[0, [mean, retention]] = [85.5, 70.0]
    sheet.to_csv(tmp_path / "typed.csv", index=False)
    result = doe("record", "typed.csv", code=1)
    assert "first_cycle_ce_pct_mean" in result.output and "type measured values in the outcome columns" in result.output
    assert _history(doe)["capacity_retention_pct"].isna().all()  # nothing recorded
    sheet.loc[0, mean] = None  # the prediction column as doe wrote it (empty: no model yet)
    sheet.to_csv(tmp_path / "fixed.csv", index=False)
    doe("record", "fixed.csv")
    assert _history(doe)["capacity_retention_pct"].tolist()[0] == 70.0


def test_a_run_sheet_without_its_experiment_id_column_is_refused_not_recorded_as_new_experiments(  # type: ignore[no-untyped-def]
        doe, tmp_path: Path) -> None:
    """A probe: the run sheet of doe suggest, filled in with its experiment_id column deleted, was
    recorded as two new experiments while the proposed two stayed pending. Its batch_id column
    names the pending batch: the rows are refused, naming the ids; without the batch_id column the
    rows are new experiments, as the message says."""
    doe("suggest", "-n", "2", "--fast", "--out", "sheet.csv")
    sheet = pd.read_csv(tmp_path / "sheet.csv", encoding="utf-8-sig")
    ce = next(c for c in sheet.columns if c.startswith("first_cycle_ce_pct ["))
    sheet[ce] = [85.5, 86.25]
    sheet.drop(columns=["experiment_id"]).to_csv(tmp_path / "no_ids.csv", index=False)
    result = doe("record", "no_ids.csv", code=1)
    assert "names batch B0001 of this campaign, whose E0001, E0002 are still pending, but gives no experiment_id" \
        in result.output
    history = _history(doe)
    assert history["experiment_id"].tolist() == ["E0001", "E0002"] and history["first_cycle_ce_pct"].isna().all()
    sheet.drop(columns=["experiment_id", "batch_id"]).to_csv(tmp_path / "new.csv", index=False)
    doe("record", "new.csv")  # as the message says: new experiments
    assert len(_history(doe)) == 4


def test_the_commands_errors_name_its_options_not_the_python_arguments(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A conflict told the shell user to 'pass allow_corrections=True (record with correct=True)'
    and a Windows file to 'read it with encoding='cp1252''."""
    (tmp_path / "a.csv").write_text("experiment_id," + ",".join(RECIPE) + ",first_cycle_ce_pct\nP1,"
                                     + ",".join(map(str, RECIPE.values())) + ",85\n")
    doe("record", "a.csv")
    (tmp_path / "b.csv").write_text("experiment_id,first_cycle_ce_pct\nP1,86\n")
    refused = doe("record", "b.csv", code=1).output
    assert "record it again with --correct" in refused and "allow_corrections" not in refused
    (tmp_path / "c.csv").write_bytes("experiment_id,first_cycle_ce_pct,note\nP1,85,Glühen\n".encode("cp1252"))
    refused = doe("record", "c.csv", code=1).output
    assert "read it with --encoding cp1252" in refused and "encoding='" not in refused
    assert _history(doe)["first_cycle_ce_pct"].tolist() == [85.0]


def test_a_mistyped_database_file_is_refused_not_made(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`doe status --db typo.sqlite3` made an empty database file and answered for it ('no
    campaign'; `doe user list`: 'no accounts: the app is open')."""
    assert "no campaign: no database file at" in doe("list", "--db", "typo.sqlite3").output  # said, not made
    for command in (["status"], ["export", "--out", "x.csv"], ["user", "list"], ["member", "list"], ["user", "audit"],
                    ["suggest", "-n", "1"]):
        result = doe(*command, "--db", "typo.sqlite3", code=1)
        assert f"no database file at '{tmp_path / 'typo.sqlite3'}'" in result.output, (command, result.output)
    assert not (tmp_path / "typo.sqlite3").exists()
    doe("init", "--template", "hfo2-ncm85", "--db", "new.sqlite3")  # creating one is still one command
    assert "hfo2-ncm85" in doe("status", "--db", "new.sqlite3").output


def test_a_map_naming_a_column_the_file_lacks_says_map(doe) -> None:  # type: ignore[no-untyped-def]
    """It said 'column_mapping names column(s)', the Python argument a shell user never wrote."""
    pd.DataFrame([{**RECIPE, "CE": 88.0}]).to_csv("results.csv", index=False)
    result = doe("record", "results.csv", "--map", "CE %=first_cycle_ce_pct", code=1)
    assert result.output.startswith("Error: --map names column(s) ['CE %'] that the file does not have")
    assert _history(doe).empty


def test_a_map_of_a_file_column_whose_name_has_an_equals_sign_reads_it(doe) -> None:  # type: ignore[no-untyped-def]
    """Found by a probe: --map 'CE=final=first_cycle_ce_pct' split at the first '=' and looked for
    a file column 'CE' (refused), so a column named 'CE=final' could not be mapped at all; a
    campaign's column names have no '=', so the split is at the last one."""
    pd.DataFrame([{**RECIPE, "CE=final": 88.0}]).to_csv("results.csv", index=False)
    assert "1 row(s) recorded" in doe("record", "results.csv", "--map", "CE=final=first_cycle_ce_pct").output
    assert _history(doe)["first_cycle_ce_pct"].tolist() == [88.0]


@pytest.mark.parametrize("cells", [False, True])
def test_an_exports_proposed_rows_are_left_out_not_counted_as_recorded(doe, cells: bool) -> None:  # type: ignore[no-untyped-def]
    """A history export recorded back said '3 row(s) recorded' for 1 measured and 2 proposed rows,
    where a run sheet's same empty rows are '0 recorded, 2 left out'."""
    pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": 88.0}]).to_csv("measured.csv", index=False)
    doe("record", "measured.csv")
    doe("suggest", "-n", "2", "--design", "latin_hypercube")
    doe("export", "--out", "history.csv", *(["--cells"] if cells else []))
    result = doe("record", "history.csv")
    assert "1 row(s) recorded" in result.output
    assert "2 row(s) left out, experiments with no result yet" in result.output
    assert "E0002 is proposed and the row gives no result yet" in result.output
    report = Campaign.load("coating", storage=doe.url).import_table("history.csv")
    assert report.experiment_ids == ["E0001"]
    assert [p.value for p in report.not_measured] == ["E0002", "E0003"]
    assert _history(doe)["status"].tolist() == ["completed", "proposed", "proposed"]


@pytest.mark.parametrize("refusal", ["learn_from", "actor"])
def test_a_refused_init_leaves_no_database_file_or_folder(cli_in_folder, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path, refusal: str) -> None:
    """The file was left behind, empty: a later mistyped command got 'no campaign' instead of
    'no database file'."""
    if refusal == "actor":
        monkeypatch.setenv("DOE_ACTOR", " ")
    extra = ["--learn-from", "nope"] if refusal == "learn_from" else []
    result = cli_in_folder("init", "--db", "new/lab.sqlite3", *extra, code=1)
    assert ("no campaign named 'nope'" if refusal == "learn_from" else "actor") in result.output
    assert not (tmp_path / "new").exists()
    result = cli_in_folder("status", "--db", "new/lab.sqlite3", code=1)
    assert "no database file at" in result.output


def test_a_refused_init_keeps_a_database_that_was_there(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Control: only a file the refused command created is removed."""
    doe("init", "--learn-from", "nope", "--name", "lf", code=1)
    assert list_campaigns(doe.url)["name"].tolist() == ["coating"]


def test_import_refuses_a_json_key_given_twice_and_reads_a_bom(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # a hand-merged export whose measurement gives "value" twice was imported with the last one,
    # silently; a JSON file saved with a byte-order mark (Windows Notepad) was refused as not JSON
    doe("record", _recorded_cell(tmp_path))
    doe("export", "--out", "coating.json")
    text = (tmp_path / "coating.json").read_text(encoding="utf-8")
    start = text.index('"value": 88.0')
    (tmp_path / "twice.json").write_text(text[:start] + '"value": 88.0, "value": 8.8' + text[start + 13:],
                                         encoding="utf-8")
    result = doe("import", "twice.json", "--name", "twice", code=1)
    assert "'value' is given twice" in result.output and "Traceback" not in result.output
    assert "twice" not in list_campaigns(doe.url)["name"].tolist()
    (tmp_path / "bom.json").write_text(text, encoding="utf-8-sig")
    doe("import", "bom.json", "--name", "bom")
    assert Campaign.load("bom", storage=doe.url).measurements()["value"].tolist() == [88.0]


def _recorded_cell(tmp_path: Path) -> str:
    path = tmp_path / "one.csv"
    pd.DataFrame([{**RECIPE, "experiment_id": "P1", "first_cycle_ce_pct": 88.0}]).to_csv(path, index=False)
    return str(path)
