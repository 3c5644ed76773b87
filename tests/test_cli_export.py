"""``doe export`` and ``doe report`` write a new file, whole or not at all, and ``doe record``
refuses a whole-campaign JSON export in one line; in-process through click's runner on a real
SQLite file, with real files in ``tmp_path``."""

from __future__ import annotations

import json
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from doe import Campaign
from doe.errors import DataError
from doe.io import MAX_BYTES
from doe.templates import resolve_config

RECIPE = resolve_config("hfo2-ncm85").reference_recipe()
assert RECIPE is not None
THEIRS = b"experiment_id,first_cycle_ce_pct\r\nE0001,88.5\r\n"  # a file the export must not touch


@pytest.fixture()
def doe(cli_in_folder):  # type: ignore[no-untyped-def]
    """Campaign 'coating' with one measured experiment, then an empty 'other', the most
    recently updated (so the default of --campaign)."""
    cli_in_folder("init", "--template", "hfo2-ncm85", "--name", "coating")
    pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": 88.0}]).to_csv("measured.csv", index=False)
    cli_in_folder("record", "measured.csv", "--campaign", "coating")
    cli_in_folder("init", "--template", "hfo2-ncm85", "--name", "other")
    return cli_in_folder


@contextmanager
def file_size_limit(limit_bytes: int) -> Iterator[None]:
    """No file grows past ``limit_bytes``: a longer write fails part-way (EFBIG, as a full disk
    or quota would; Python ignores SIGXFSZ), after what fitted was written."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def _only(folder: Path, *names: str) -> list[str]:
    """The folder's files other than ``names`` and the fixture's: no part-written file is left."""
    return sorted(p.name for p in folder.iterdir()
                  if not p.name.startswith("cli.sqlite3") and p.name not in {"measured.csv", *names})


def test_export_refuses_to_replace_another_campaigns_json_export(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doe("export", "--campaign", "coating", "--out", "coating.json")
    kept = (tmp_path / "coating.json").read_bytes()
    result = doe("export", "--out", "coating.json", code=1)  # the default campaign is 'other'
    assert result.output == ("Error: --out: the file 'coating.json' exists already; choose a new name, or pass "
                             "--force to replace it\n")
    assert (tmp_path / "coating.json").read_bytes() == kept
    assert json.loads(kept)["name"] == "coating"
    doe("export", "--out", "other.json")
    assert json.loads((tmp_path / "other.json").read_text(encoding="utf-8"))["name"] == "other"


@pytest.mark.parametrize(("out", "extra"), [("history.csv", ()), ("history.xlsx", ()), ("cells.csv", ("--cells",)),
                                            ("coating.json", ())])
def test_export_keeps_an_existing_file_in_every_format_and_force_replaces_it(  # type: ignore[no-untyped-def]
        doe, tmp_path: Path, out: str, extra: tuple[str, ...]) -> None:
    (tmp_path / out).write_bytes(THEIRS)
    result = doe("export", "--campaign", "coating", "--out", out, *extra, code=1)
    assert f"--out: the file '{out}' exists already" in result.output and "--force" in result.output
    assert (tmp_path / out).read_bytes() == THEIRS
    doe("export", "--campaign", "coating", "--out", out, *extra, "--force")
    if out.endswith(".json"):
        assert json.loads((tmp_path / out).read_text(encoding="utf-8"))["name"] == "coating"
    else:
        table = pd.read_excel(tmp_path / out) if out.endswith(".xlsx") else pd.read_csv(tmp_path / out)
        assert table["experiment_id"].tolist() == ["E0001"] and "anneal_atmosphere" in table.columns
    assert _only(tmp_path, out) == []


def test_report_keeps_an_existing_file_and_force_replaces_it(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "meeting.html").write_bytes(b"<p>last week's report</p>")
    result = doe("report", "--campaign", "coating", "--out", "meeting.html", code=1)
    assert result.output == ("Error: --out: the file 'meeting.html' exists already; choose a new name, or pass "
                             "--force to replace it\n")
    assert (tmp_path / "meeting.html").read_bytes() == b"<p>last week's report</p>"
    doe("report", "--campaign", "coating", "--out", "meeting.html", "--force")
    assert "<h1>Campaign report: coating</h1>" in (tmp_path / "meeting.html").read_text(encoding="utf-8")
    assert _only(tmp_path, "meeting.html") == []


@pytest.mark.parametrize("command", [("export", "--out", "coating.json"), ("export", "--out", "history.csv"),
                                     ("report", "--out", "meeting.html")])
def test_a_write_that_fails_part_way_leaves_the_file_as_it_was(  # type: ignore[no-untyped-def]
        doe, tmp_path: Path, command: tuple[str, ...]) -> None:
    target = tmp_path / command[-1]
    target.write_bytes(THEIRS)
    with file_size_limit(len(THEIRS) + 10):
        result = doe(*command, "--campaign", "coating", "--force", code=1)
    assert f"--out: cannot write {command[-1]!r}: File too large" in result.output and "Traceback" not in result.output
    assert target.read_bytes() == THEIRS
    assert _only(tmp_path, target.name) == []


def test_the_api_export_replaces_its_target_whole_or_not_at_all(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A Python call names its target: it is replaced, but never left cut short."""
    campaign = Campaign.load("coating", storage=doe.url)
    target = tmp_path / "history.csv"
    target.write_bytes(THEIRS)
    with file_size_limit(len(THEIRS) + 10), pytest.raises(OSError, match="too large"):
        campaign.export_table(target)
    assert target.read_bytes() == THEIRS
    assert _only(tmp_path, target.name) == []
    campaign.export_table(target)
    assert pd.read_csv(target)["experiment_id"].tolist() == ["E0001"]


def test_record_refuses_a_whole_campaign_export_in_one_line_and_stores_nothing(  # type: ignore[no-untyped-def]
        doe, tmp_path: Path) -> None:
    doe("export", "--campaign", "coating", "--out", "coating.json")
    text = (tmp_path / "coating.json").read_text(encoding="utf-8")
    (tmp_path / "renamed.csv").write_text(text, encoding="utf-8")
    # larger than a results table may be (instrument files in it): still named for what it is
    (tmp_path / "large.json").write_text(text[:-2] + f', "padding": "{"x" * MAX_BYTES}"}}', encoding="utf-8")
    before = {name: Campaign.load(name, storage=doe.url).measurements() for name in ("coating", "other")}
    for name in ("coating.json", "renamed.csv", "large.json"):
        result = doe("record", name, "--campaign", "coating", code=1)
        assert result.output == (
            f"Error: {name!r} is a whole-campaign JSON export (`doe export --out x.json`), not a table of results; "
            f"nothing was read from it. To create a campaign from it, run `doe import {name}` (add `--name NEW` to "
            "store it under another name; in Python: Campaign.import_json); to record its results into a campaign, "
            "export its history as CSV instead (`doe export --out history.csv`)\n")
    for name, measurements in before.items():
        pd.testing.assert_frame_equal(Campaign.load(name, storage=doe.url).measurements(), measurements)
    with pytest.raises(DataError, match="whole-campaign JSON export"):  # the Python API, bytes without a name
        Campaign.load("other", storage=doe.url).import_table(text.encode("utf-8"))
    # the export rewritten by a tool that sorts keys ("format" no longer first), renamed: JSON all the same
    (tmp_path / "sorted.csv").write_text(json.dumps(json.loads(text), sort_keys=True, indent=1), encoding="utf-8")
    (tmp_path / "settings.json").write_text('{"operator": "Ana"}', encoding="utf-8")
    for name in ("sorted.csv", "settings.json"):
        result = doe("record", name, "--campaign", "coating", code=1)
        assert result.output == (
            f"Error: {name!r} holds JSON, not a table of results (CSV or Excel .xlsx); nothing was read from it. "
            f"A whole-campaign export (`doe export --out x.json`) is imported with `doe import {name}` (in Python: "
            "Campaign.import_json)\n")
    for name, measurements in before.items():
        pd.testing.assert_frame_equal(Campaign.load(name, storage=doe.url).measurements(), measurements)


@pytest.mark.parametrize("hard_links", [True, False])
def test_a_new_file_is_never_written_over_one_that_appeared_meanwhile(  # type: ignore[no-untyped-def]
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool) -> None:
    """``doe export`` checks --out before its work; a file put there meanwhile is kept too."""
    from doe.io.writing import write_file

    if not hard_links:  # a FAT-formatted USB stick, some network shares
        def no_link(*args: object) -> None:
            raise PermissionError(1, "Operation not permitted")
        monkeypatch.setattr("doe.io.writing.os.link", no_link)
    target = tmp_path / "history.csv"
    target.write_bytes(THEIRS)
    with pytest.raises(FileExistsError):
        write_file(target, b"ours", replace=False)
    assert target.read_bytes() == THEIRS and [p.name for p in tmp_path.iterdir()] == ["history.csv"]
    assert write_file(tmp_path / "new.csv", b"ours", replace=False).read_bytes() == b"ours"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "new.csv"]


def test_cells_with_a_json_export_is_refused_not_ignored(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = doe("export", "--campaign", "coating", "--out", "coating.json", "--cells", code=1)
    assert "--cells: a .json export holds every cell already" in result.output
    assert _only(tmp_path) == []


@pytest.mark.parametrize("out", ["runsheet.csv", "runsheet.xlsx"])
def test_suggest_keeps_last_weeks_run_sheet_and_stores_no_batch(doe, tmp_path: Path, out: str) -> None:  # type: ignore[no-untyped-def]
    """A run sheet with results typed in, not yet recorded, was overwritten by the next batch's."""
    (tmp_path / out).write_bytes(THEIRS)
    result = doe("suggest", "-n", "2", "--fast", "--campaign", "coating", "--out", out, code=1)
    assert f"--out: the file '{out}' exists already" in result.output and "--force" in result.output
    assert (tmp_path / out).read_bytes() == THEIRS
    assert len(Campaign.load("coating", storage=doe.url).history()) == 1  # no batch without its run sheet
    doe("suggest", "-n", "2", "--fast", "--campaign", "coating", "--out", out, "--force")
    sheet = pd.read_csv(tmp_path / out) if out.endswith(".csv") else pd.read_excel(tmp_path / out)
    assert sheet["experiment_id"].tolist() == ["E0002", "E0003"]
    assert _only(tmp_path, out) == []


def test_a_link_to_a_shared_file_is_written_through_not_replaced(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """latest.csv -> shared/history.csv: the atomic write replaced the link by a local file, and
    the shared copy silently kept its old content."""
    (tmp_path / "shared").mkdir()
    shared = tmp_path / "shared" / "history.csv"
    shared.write_bytes(THEIRS)
    link = tmp_path / "latest.csv"
    link.symlink_to(shared)
    Campaign.load("coating", storage=doe.url).export_table(link)
    assert link.is_symlink() and pd.read_csv(shared)["experiment_id"].tolist() == ["E0001"]
    shared.write_bytes(THEIRS)
    doe("export", "--campaign", "coating", "--out", "latest.csv", code=1)  # it exists: refused without --force
    assert shared.read_bytes() == THEIRS
    doe("export", "--campaign", "coating", "--out", "latest.csv", "--force")
    assert link.is_symlink() and pd.read_csv(shared)["experiment_id"].tolist() == ["E0001"]
    assert _only(tmp_path, "latest.csv", "shared") == [] and sorted(p.name for p in shared.parent.iterdir()) == [
        "history.csv"]


def test_a_replaced_file_keeps_its_permissions(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A shared export (group-writable) came back with the umask's mode once replaced."""
    target = tmp_path / "history.csv"
    target.write_bytes(THEIRS)
    target.chmod(0o664)
    doe("export", "--campaign", "coating", "--out", "history.csv", "--force")
    assert target.stat().st_mode & 0o777 == 0o664
    assert pd.read_csv(target)["experiment_id"].tolist() == ["E0001"]


def _long_notes(tmp_path: Path, cells: int, length: int) -> Campaign:
    """A campaign with one experiment of ``cells`` replicate cells, each with its own note of
    ``length`` characters (at most the 2,000 one note may have)."""
    config = {"name": "notes", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'notes.sqlite3'}", actor="me")
    campaign.record(pd.DataFrame([{"experiment_id": "L1", "x": 0.5, "replicate": str(k), "y": 80.0 + k,
                                   "note": f"cell {k:02d} " + "p" * (length - 8)} for k in range(cells)]))
    return campaign


def test_a_history_export_whose_joined_notes_are_long_records_back_unchanged(tmp_path: Path) -> None:
    """The history export joins an experiment's cell notes with '; ': past 2,000 characters,
    the file doe wrote was refused when recorded back into its own campaign, though the note
    of a known experiment's row records nothing (found by a round-trip probe)."""
    campaign = _long_notes(tmp_path, cells=3, length=817)
    campaign.export_table(tmp_path / "history.csv")
    assert len(pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")["note"].iloc[0]) > 2_000
    revision = campaign.revision()
    report = campaign.import_table(tmp_path / "history.csv")
    assert report.measurements_unchanged == 1 and campaign.revision() == revision
    assert campaign.measurements()["note"].str.len().tolist() == [817] * 3


def test_an_excel_export_refuses_a_note_longer_than_a_cell_holds(tmp_path: Path) -> None:
    """20 cells with notes near 2,000 characters join to a history note of about 40,000: the
    Excel export cut it to 32,767 with only openpyxl's UserWarning (found by a round-trip probe)."""
    campaign = _long_notes(tmp_path, cells=20, length=1_998)
    with pytest.raises(DataError, match=r"too long for an Excel cell.*export as CSV") as err:
        campaign.export_table(tmp_path / "history.xlsx")
    assert [(p.row, p.column) for p in err.value.problems] == [(0, "note")]
    assert "L1 has 39,998 characters" in err.value.problems[0].problem and not (tmp_path / "history.xlsx").exists()
    campaign.export_table(tmp_path / "history.csv")  # the CSV keeps every character
    assert len(pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")["note"].iloc[0]) == 20 * 1_998 + 19 * 2


def test_record_refuses_a_trimmed_history_exports_curve_prediction_and_stores_nothing(  # type: ignore[no-untyped-def]
        cli_in_folder, tmp_path: Path) -> None:
    """`doe record` of a history exported while E0 still cycled, its derived columns deleted
    (`retention_pct_pred_sd` among them) after newer points moved the prediction: E0's
    predicted value at cycle 200 was stored as a point measured there."""
    from doe.simulate.curves import retention_curve

    config = {"name": "curves", "parameters": [{"name": "loading_wt_pct", "type": "continuous", "bounds": [0.0, 2.0]}],
              "objectives": [{"name": "retention_pct", "goal": "maximize", "unit": "%", "over": "cycle", "at": 200}],
              "seed": 3}
    campaign = Campaign.from_config(config, storage=cli_in_folder.url, actor="me")
    for exp_id, at, n_cycles, seed in (("E0", 60.0, 30, 0), ("E1", 70.0, 30, 1)):
        curve = retention_curve(at, n_cycles, seed=seed)
        campaign.record(pd.DataFrame({"experiment_id": exp_id, "loading_wt_pct": 0.0 if exp_id == "E0" else 2.0,
                                      "cycle": curve["cycle"], "retention_pct": curve["retention_pct"]}))
    cli_in_folder("export", "--campaign", "curves", "--out", "history.csv")
    exported = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")
    exported.drop(columns=[c for c in exported.columns if c.startswith("retention_pct_")] + ["ranking_note"]).to_csv(
        tmp_path / "trimmed.csv", index=False)
    cli_in_folder("record", "trimmed.csv", "--campaign", "curves")  # as exported: nothing recorded, nothing refused
    curve = retention_curve(70.0, 200, seed=1)
    campaign.record(pd.DataFrame({"experiment_id": "E1", "cycle": curve["cycle"], "retention_pct": curve["retention_pct"]})
                    .iloc[30:])  # E1 reaches cycle 200: E0's prediction moves
    before, revision = campaign.measurements(), campaign.revision()
    result = cli_in_folder("record", "trimmed.csv", "--campaign", "curves", code=1)
    output = " ".join(result.output.split())
    for exp_id in ("E0", "E1"):  # E1 since measured at 200: its old prediction is no measurement either
        assert f"column 'retention_pct': retention_pct of {exp_id} in this exported history has no retention_pct_pred_sd" \
            in output
    assert campaign.revision() == revision
    pd.testing.assert_frame_equal(campaign.measurements(), before)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_note_edited_in_the_history_export_is_refused_naming_the_cell_not_dropped(tmp_path: Path,
                                                                                     file_format: str) -> None:
    """Found probing round trips: a note edited in the exported history and recorded back with
    correct=True was dropped without a word (the history's note joins the experiment's cell
    notes, so it records nothing), the report counting the file's values as unchanged. Now an
    edited note of a known experiment is refused naming its row, column and where to change it;
    the notes as exported (spreadsheet-like ones too) still record back unchanged."""
    config = {"name": "notes", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'notes.sqlite3'}", actor="me")
    campaign.record(pd.DataFrame([
        {"experiment_id": "N1", "x": 0.1, "y": 1.0, "note": "=edge;  cracked\nline 2"},
        {"experiment_id": "N2", "x": 0.2, "replicate": "A", "y": 2.0, "note": "cell A"},
        {"experiment_id": "N2", "x": 0.2, "replicate": "B", "y": 3.0, "note": "cell B"},
        {"experiment_id": "N3", "x": 0.3, "failure_reason": "gelled", "note": "lumps"},
        {"experiment_id": "N4", "x": 0.4, "y": 4.0}]))
    exported = tmp_path / f"history.{file_format}"
    campaign.export_table(exported)
    revision = campaign.revision()
    assert campaign.import_table(exported, correct=True).measurements_unchanged == 3
    assert campaign.revision() == revision
    table = pd.read_csv(exported, dtype=str, keep_default_na=False) if file_format == "csv" else \
        pd.read_excel(exported, dtype=str, keep_default_na=False)
    assert table["note"].tolist()[1:] == ["cell A; cell B", "lumps", ""]
    table.loc[[0, 3], "note"] = ["new note", "typed later"]
    edited = tmp_path / "edited.csv"
    table.to_csv(edited, index=False)
    with pytest.raises(DataError) as err:
        campaign.import_table(edited, correct=True)
    assert [(p.file_row, p.column) for p in err.value.problems] == [(2, "note"), (5, "note")]
    assert "N1's notes" in err.value.problems[0].problem and "doe export --cells" in err.value.problems[0].problem
    assert campaign.revision() == revision
    assert campaign.measurements().set_index("experiment_id").loc["N1", "note"] == "=edge;  cracked\nline 2"
