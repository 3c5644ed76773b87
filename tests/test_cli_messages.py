"""The ``doe`` command's messages in its own words, and next commands that can be pasted;
in-process through click's runner on a real SQLite file (found by a probe of the CLI)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from doe import Campaign
from doe.instruments.synthetic import fade_curve, write_cycling_file

MASS_MG = 11.5


@pytest.fixture()
def doe(cli_in_folder):  # type: ignore[no-untyped-def]
    cli_in_folder("init", "--template", "hfo2-ncm85", "--name", "t")
    return cli_in_folder


def test_a_clone_name_clash_names_the_clones_argument(doe) -> None:  # type: ignore[no-untyped-def]
    doe("clone", "t2", "--campaign", "t")
    result = doe("clone", "t2", "--campaign", "t", code=1)
    assert "exists already" in result.output and "`doe clone NEW_NAME`" in result.output
    assert "--name with doe import" not in result.output


def test_record_files_errors_name_the_commands_options(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    campaign = Campaign.load("t", storage=doe.url)
    campaign.suggest(1, design="latin_hypercube")
    first = str(campaign.history()["experiment_id"].iloc[0])
    charge, discharge = fade_curve(12, first_charge_mah_per_g=220.0, first_ce_pct=89.0)
    cell = str(write_cycling_file(tmp_path / "cell_A.mpt", "biologic_mpt", charge * MASS_MG / 1000,
                                  discharge * MASS_MG / 1000))
    base = ("record-files", cell, "--campaign", "t", "--experiment-id", first)
    said = {
        "--active-mass-mg (active cathode mass)": doe(*base, code=1).output,
        "--replicate: give one cell label per file (1 file(s))": doe(*base, "--active-mass-mg", "11.5", "--replicate", "A",
                                                                "--replicate", "B", code=1).output,
        "--reference-cycle 50 has no": doe(*base, "--active-mass-mg", "11.5", "--reference-cycle", "50",
                                           code=1).output,
    }
    for words, output in said.items():
        assert words in output, output
        assert not any(name in output for name in ("active_mass_mg", "replicates:", "reference_cycle")), output
    # a mass read as the Record page reads it: a decimal comma is a decimal point, a typo no number
    assert "'1_1.5' is not a mass above 0 mg" in doe(*base, "--active-mass-mg", "1_1.5", code=2).output
    said = " ".join(doe(*base, "--active-mass-mg", "1,250", code=2).output.split())
    assert "'1,250' is not a mass above 0 mg (may mean 1250 (a thousands separator) or 1.250" in said
    doe(*base, "--active-mass-mg", "11,5", "--confirm")
    cells = Campaign.load("t", storage=doe.url).export_frame(cells=True)
    assert cells["active_mass_mg"].tolist() == [11.5]


def test_next_commands_can_be_pasted(cli_in_folder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The hints left out --db (so went to the default database) and shell quoting, and the
    path was shown half percent-encoded."""
    monkeypatch.delenv("DOE_DATABASE_URL")
    folder = tmp_path / "dir ü é"
    folder.mkdir()
    db = str(folder / "lab ü.sqlite3")
    made = cli_in_folder("init", "--db", db, "--name", "line 3")
    assert f"in sqlite:///{db}\n" in made.output
    assert f"next: doe suggest --campaign 'line 3' -n 3 --out runsheet.csv --db {shlex.quote(db)}\n" in made.output
    sheet = cli_in_folder("suggest", "--db", db, "-n", "1", "--design", "latin_hypercube", "--out", "run sheet ü.csv")
    hint = sheet.output.strip().splitlines()[-1]
    assert hint.endswith(f"`doe record --campaign 'line 3' 'run sheet ü.csv' --db {shlex.quote(db)}`"), hint
    command = shlex.split(hint.split("`")[1])
    assert command[1:] == ["record", "--campaign", "line 3", "run sheet ü.csv", "--db", db]


def test_an_in_memory_database_is_not_sent_to_doe_init(cli_in_folder) -> None:  # type: ignore[no-untyped-def]
    result = cli_in_folder("suggest", "--db", ":memory:", code=1)
    assert "in-memory database" in result.output and "--template" not in result.output


def test_an_actor_is_stored_without_the_spaces_around_it(doe) -> None:  # type: ignore[no-untyped-def]
    doe("suggest", "--campaign", "t", "-n", "1", "--design", "latin_hypercube", "--actor", " robot-1 ")
    campaign = Campaign.load("t", storage=doe.url)
    assert campaign.history()["proposed_by"].tolist() == ["robot-1"]
    assert campaign.audit()["actor"].iloc[-1] == "robot-1"
    doe("suggest", "--campaign", "t", "-n", "1", "--design", "latin_hypercube", "--actor", " ", code=1)


def test_files_download_to_stdout_and_a_short_prefix(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    campaign = Campaign.load("t", storage=doe.url)
    campaign.suggest(1, design="latin_hypercube")
    first = str(campaign.history()["experiment_id"].iloc[0])
    charge, discharge = fade_curve(12, first_charge_mah_per_g=220.0, first_ce_pct=89.0)
    cell = write_cycling_file(tmp_path / "cell_A.mpt", "biologic_mpt", charge * MASS_MG / 1000,
                              discharge * MASS_MG / 1000)
    doe("record-files", str(cell), "--campaign", "t", "--experiment-id", first, "--active-mass-mg", "11.5", "--confirm")
    sha = str(campaign.files()["sha256"].iloc[0])
    got = doe("files", "--campaign", "t", "--download", sha[:10], "--output", "-")
    assert got.stdout_bytes == Path(cell).read_bytes()
    assert not (tmp_path / "-").exists()
    short = doe("files", "--campaign", "t", "--download", sha[:4], code=2)
    assert "too short" in short.output and "0 stored files match" not in short.output


def test_list_says_how_many_are_archived_beside_open_ones(doe) -> None:  # type: ignore[no-untyped-def]
    """The README's "`doe list` says how many are archived" held only once no campaign was open."""
    doe("init", "--template", "hfo2-ncm85", "--name", "old")
    Campaign.load("old", storage=doe.url).archive()
    listed = doe("list")
    assert "t " in listed.output and "old" not in listed.output.splitlines()[1]
    assert "and 1 archived campaign(s), not shown: `doe list --all` lists them" in listed.output
    shown = doe("list", "--all")
    assert "old" in shown.output and "not shown" not in shown.output
    Campaign.load("old", storage=doe.url).archive(False)
    assert "archived campaign" not in doe("list").output


def test_a_failure_reason_cannot_forge_lines_of_the_record_report(doe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Found by a probe: `doe record` printed a failed cell's reason with its line breaks, so a
    reason could add lines of its own ("DONE: 0 problems; all good") to the report; notes in the
    same report were quoted. The reason is quoted now, on the line of its cell."""
    campaign = Campaign.load("t", storage=doe.url)
    proposed = str(campaign.suggest(1, design="latin_hypercube")["experiment_id"].iloc[0])
    (tmp_path / "cells.csv").write_bytes(
        ("experiment_id,replicate,first_cycle_ce_pct,failure_reason\r\n"
         f'{proposed},A,,"cracked\r\nDONE: 0 problems; all good"\r\n{proposed},B,90,\r\n').encode())
    told = doe("record", "cells.csv", "--campaign", "t").output
    assert f"  - {proposed} replicate 'A': 'cracked\\nDONE: 0 problems; all good'\n" in told
    assert not any(line.startswith("DONE") for line in told.splitlines())
