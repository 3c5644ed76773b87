"""The ``doe`` command end to end, in real subprocesses on a real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from doe import Campaign, VirtualLab, load_config
from doe.campaign import list_campaigns
from doe.cli import cli
from doe.cli.run import simulation_report
from doe.domain import Objective, OutcomeConstraint
from doe.io import read_table, write_table

PARAMS = VirtualLab(0).config.parameter_names
COMMANDS = ["init", "suggest", "record", "record-files", "files", "status", "list", "export", "import", "clone", "unarchive", "run",
            "backup", "restore", "app"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "--db" in result.output and "Usage: " in result.output


def test_an_archived_campaign_is_said_so_and_refuses_changes_until_unarchived(tmp_path: Path) -> None:
    """`doe list` called a database whose campaigns were all archived empty and offered `doe init`;
    `doe status` did not say the campaign was archived, and `doe suggest` wrote into it."""
    db = str(tmp_path / "lab.sqlite3")
    Campaign.from_config("hfo2-ncm85", storage=db, name="line", actor="lead").archive()
    listed = CliRunner().invoke(cli, ["list", "--db", db])
    assert listed.exit_code == 0 and "1 archived campaign(s), listed by `doe list --all`" in listed.output
    assert "doe init" not in listed.output and "doe unarchive NAME" in listed.output
    shown = CliRunner().invoke(cli, ["status", "--db", db, "--campaign", "line"])
    assert shown.exit_code == 0 and "archived: closed to changes" in shown.output
    refused = CliRunner().invoke(cli, ["suggest", "--db", db, "--campaign", "line", "-n", "1", "--fast"])
    assert refused.exit_code == 1 and "is archived" in refused.output and "`doe unarchive line`" in refused.output
    assert Campaign.load("line", storage=db).history().empty
    assert CliRunner().invoke(cli, ["unarchive", "line", "--db", db]).exit_code == 0
    assert "line" in CliRunner().invoke(cli, ["list", "--db", db]).output
    assert CliRunner().invoke(cli, ["suggest", "--db", db, "--campaign", "line", "-n", "1", "--fast"]).exit_code == 0
    assert len(Campaign.load("line", storage=db).history()) == 1


def test_no_campaign_yet_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert "doe init" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_init_suggest_record_status_export_run(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = doe_cmd("init", "--template", "hfo2-ncm85", "--name", "coating")
    assert "created campaign 'coating'" in done.stdout

    done = doe_cmd("suggest", "-n", "3", "--fixed", "dispersion_solvent=toluene", "--out", "runsheet.csv", "--fast")
    assert "E0001" in done.stdout and "hfo2_loading_wt_pct" in done.stdout
    sheet = read_table(tmp_path / "runsheet.csv", VirtualLab(0).config)
    assert list(sheet["experiment_id"]) == ["E0001", "E0002", "E0003"]
    assert (sheet["dispersion_solvent"] == "toluene").all()

    results = VirtualLab(3, failures=False).run(sheet[["experiment_id", *PARAMS]])
    results = results.drop(columns=["failed", "failure_reason"]).rename(columns={"first_cycle_ce_pct": "CE (%)"})
    write_table(results, tmp_path / "results.csv", file_format="csv")
    done = doe_cmd("record", "results.csv", "--map", "CE (%)=first_cycle_ce_pct")
    assert "3 row(s) recorded" in done.stdout and "marked failed" not in done.stdout

    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    coating = Campaign.load("coating", storage=db)
    done = doe_cmd("status")
    assert "completed 3" in done.stdout and "pending: none" in done.stdout
    assert (f"best: {coating.best()['experiment_id'].iloc[0]} (Pareto front, ranked by scaled weighted sum: "
            "first_cycle_ce_pct (maximize) x1, capacity_retention_pct (maximize) x1)\n") in done.stdout

    doe_cmd("export", "--out", "history.csv")
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["experiment_id"].tolist() == ["E0001", "E0002", "E0003"]
    assert history["status"].tolist() == ["completed"] * 3
    doe_cmd("export", "--out", "campaign.json")
    exported = json.loads((tmp_path / "campaign.json").read_text())
    assert exported["name"] == "coating"
    assert [e["experiment_id"] for e in exported["experiments"]] == ["E0001", "E0002", "E0003"]
    assert exported == json.loads(json.dumps(coating.export_json(), default=str))

    done = doe_cmd("list")
    assert "coating" in done.stdout

    done = doe_cmd("run", "--simulate", "--campaign", "sim", "--budget", "3", "--seed", "1", "--no-progress")
    assert "budget of 3 experiments spent; 3 experiments (3 proposed, 3 finished" in done.stdout
    assert "created campaign 'sim'" in done.stderr
    # the report names the stored best recipe, or says none meets the constraints and which they are
    sim = Campaign.load("sim", storage=db)
    best, rules = sim.best(), ", ".join(c.text() for c in sim.config.outcome_constraints)
    expected = (f"best recipe: {best['experiment_id'].iloc[0]}\n" if len(best) else
                f"no completed experiment meets the constraints yet ({rules}); a larger --budget continues")
    assert expected in done.stdout
    assert ("best recipe:" in done.stdout) == (not best.empty)
    done = doe_cmd("run", "--simulate", "--campaign", "sim", "--budget", "3", "--seed", "1")
    assert "(0 proposed, 0 finished" in done.stdout and "continuing campaign 'sim'" in done.stderr

    # the default campaign is now the most recently updated one, and it says so
    done = doe_cmd("status")
    assert "'sim'" in done.stdout and "most recently updated" in done.stderr
    # but a command that stores something does not guess among several campaigns (found by a
    # probe: a robot's `doe record` without --campaign went into whichever was updated last)
    before = {name: Campaign.load(name, storage=db).history() for name in ("coating", "sim")}
    pd.DataFrame({"first_cycle_ce_pct": [88.0]}).assign(
        **sim.history().iloc[0][[p.name for p in sim.config.parameters]].to_dict()).to_csv(tmp_path / "late.csv",
                                                                                           index=False)
    for command in (("record", "late.csv"), ("suggest", "-n", "1", "--fast"), ("abandon", "E0001", "--reason", "x")):
        done = doe_cmd(*command, check=False)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert ("this database holds 2 campaigns ('coating', 'sim'): a command that stores something names its "
                "campaign with --campaign; nothing was written") in done.stderr
    for name, history in before.items():
        pd.testing.assert_frame_equal(Campaign.load(name, storage=db).history(), history)


SET_POINT_CONFIG = """
name: films
parameters:
  - {name: spin_rpm, type: continuous, bounds: [1000, 5000]}
  - {name: solid_pct, type: continuous, bounds: [1, 10]}
objectives:
  - {name: thickness_nm, goal: target, target: 10, unit: nm, weight: 3}
  - {name: roughness_nm, goal: minimize}
objective_mode: weighted
"""


@pytest.mark.slow
def test_a_set_point_campaign_from_a_config_file(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "films.yaml").write_text(SET_POINT_CONFIG)
    done = doe_cmd("init", "--config", "films.yaml")
    assert "objectives: thickness_nm (target 10), roughness_nm (minimize)" in done.stdout
    assert "objective mode: weighted (best recipes ranked by weighted desirability: " \
           "closeness of thickness_nm to 10 nm x3, roughness_nm (minimize) x1)" in done.stdout
    rows = [(1000, 10, 25.0, 1.0), (2000, 5, 12.0, 2.0), (3000, 2, 9.5, 2.5), (4000, 8, 14.0, 1.5),
            (5000, 1, 4.0, 3.0), (2500, 4, 10.2, 2.2)]
    table = pd.DataFrame(rows, columns=["spin_rpm", "solid_pct", "thickness_nm", "roughness_nm"])
    table.insert(0, "experiment_id", [f"old{i}" for i in range(len(rows))])
    table.to_csv(tmp_path / "films.csv", index=False)
    assert "6 row(s) recorded" in doe_cmd("record", "films.csv").stdout
    # desirability: thickness 0 .. -15 nm off (weight 3), roughness 3 .. 1 nm: old5 (10.2, 2.2) wins
    done = doe_cmd("status")
    assert "best: old5 (ranked by weighted desirability: " in done.stdout
    done = doe_cmd("suggest", "-n", "2", "--fast")
    assert "(qlognei-desirability)" in done.stdout


@pytest.mark.slow
def test_run_draws_its_progress_bar_on_stderr(doe_cmd) -> None:  # type: ignore[no-untyped-def]
    done = doe_cmd("run", "--simulate", "--campaign", "sim", "--budget", "2", "--batch-size", "2", "--seed", "1")
    assert "2/2" in done.stderr and "sim:" in done.stderr and "pending=0" in done.stderr
    assert "2/2" not in done.stdout
    quiet = doe_cmd("run", "--simulate", "--campaign", "sim", "--budget", "2", "--seed", "1", "--no-progress")
    assert "2/2" not in quiet.stderr and "(0 proposed, 0 finished" in quiet.stdout


def test_simulate_reports_only_the_campaigns_own_outcomes(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A campaign from the template that measures CE only: the virtual lab's other outcomes are
    not columns it knows, so they are left out rather than failing every experiment."""
    config = load_config("hfo2-ncm85")
    ce_only = config.replace(name="ce-only", objectives=[o for o in config.objectives if o.name == "first_cycle_ce_pct"],
                             outcomes=[], constraints=[c for c in config.constraints if not isinstance(c, OutcomeConstraint)])
    (tmp_path / "ce.yaml").write_text(ce_only.to_yaml())
    doe_cmd("init", "--config", "ce.yaml")
    done = doe_cmd("run", "--simulate", "--campaign", "ce-only", "--budget", "3", "--seed", "1", "--no-progress",
                   "--fast")
    assert "(3 proposed, 3 finished, 0 failed in this run" in done.stdout, done.stdout
    history = Campaign.load("ce-only", storage=f"sqlite:///{tmp_path / 'cli.sqlite3'}").history()
    assert history["status"].tolist() == ["completed"] * 3 and history["first_cycle_ce_pct"].notna().all()
    other = ce_only.replace(name="film", objectives=[*ce_only.objectives, Objective(name="film_nm", goal="minimize")])
    (tmp_path / "film.yaml").write_text(other.to_yaml())
    doe_cmd("init", "--config", "film.yaml")
    done = doe_cmd("run", "--simulate", "--campaign", "film", "--budget", "3", "--no-progress", check=False)
    assert done.returncode != 0 and "does not simulate the objective(s) ['film_nm']" in done.stderr
    assert "Traceback" not in done.stderr


def test_simulate_with_replicate_cells(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = doe_cmd("run", "--simulate", "--campaign", "cells", "--budget", "4", "--batch-size", "2", "--replicates", "3",
                   "--seed", "2", "--fast", "--no-progress")
    assert "(4 proposed, 4 finished" in done.stdout, done.stdout
    campaign = Campaign.load("cells", storage=f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    history = campaign.history()
    completed = history[history["status"] == "completed"]
    assert len(history) == 4 and len(completed) and (completed["first_cycle_ce_pct_n"] == 3).all()
    cells = campaign.measurements()
    assert sorted(set(cells["replicate"])) == ["1", "2", "3"]
    done = doe_cmd("run", "--folder", ".", "--replicates", "2", check=False)
    assert done.returncode != 0 and "--replicates" in done.stderr and "Traceback" not in done.stderr


def test_doe_record_says_which_runs_it_marked_failed(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doe_cmd("init")
    recipe = VirtualLab.study_recipe().iloc[0].to_dict()
    pd.DataFrame([{**recipe, "experiment_id": "P1", "first_cycle_ce_pct": 88.0},
                  {**recipe, "experiment_id": "P2", "failure_reason": "dispersion gelled"}]).to_csv(
        tmp_path / "runs.csv", index=False)
    done = doe_cmd("record", "runs.csv")
    assert "2 row(s) recorded" in done.stdout and "marked failed: P2\n" in done.stdout


def test_bad_input_exits_non_zero_with_the_problem_on_stderr(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doe_cmd("init")
    bad = pd.DataFrame([{**VirtualLab.study_recipe().iloc[0].to_dict(), "first_cycle_ce_pct": "ninety"}])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    done = doe_cmd("record", "bad.csv", check=False)
    assert done.returncode != 0
    assert "first_cycle_ce_pct" in done.stderr and "ninety" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""

    done = doe_cmd("suggest", "--fixed", "anneal_temperature_c=900", check=False)
    assert done.returncode != 0 and "anneal_temperature_c" in done.stderr and "Traceback" not in done.stderr

    # a candidates file: its problems name the rows as the spreadsheet shows them (a blank row above)
    recipes = pd.DataFrame([VirtualLab.study_recipe().iloc[0].to_dict()] * 2)
    recipes.loc[1, "anneal_temperature_c"] = 9999.0
    (tmp_path / "candidates.csv").write_text(recipes.to_csv(index=False).replace("\n", "\n\n", 1), encoding="utf-8")
    done = doe_cmd("suggest", "--candidates", "candidates.csv", check=False)
    assert done.returncode == 1 and "candidates: 1 problem(s); no batch was proposed" in done.stderr
    assert "row 4 of the file, column 'anneal_temperature_c': out of bounds" in done.stderr, done.stderr
    assert "proposed" not in done.stdout

    done = doe_cmd("status", "--campaign", "nope", check=False)
    assert done.returncode != 0 and "nope" in done.stderr and "Traceback" not in done.stderr

    done = doe_cmd("export", "--out", "history.txt", check=False)
    assert done.returncode != 0 and ".csv" in done.stderr

    done = doe_cmd("run", check=False)
    assert done.returncode != 0 and "--simulate" in done.stderr


def test_fixed_and_map_need_name_value_pairs() -> None:
    result = CliRunner().invoke(cli, ["record", __file__, "--map", "nonsense"])
    assert result.exit_code == 1 and "--map: expected NAME=VALUE, got 'nonsense'" in result.output


def test_simulation_report_measures_the_distance_from_the_study_recipe() -> None:
    lab = VirtualLab(0)
    config = lab.config
    study = VirtualLab.study_recipe()
    same = study.assign(experiment_id="E0001", first_cycle_ce_pct=90.2)
    text = simulation_report(config, same, lab)
    assert "distance from the study's recipe in the unit cube: 0.00" in text
    assert "true (study)" in text and "90.2" in text

    moved = same.copy()
    moved["anneal_temperature_c"] = 650.0  # (650 - 400) / (750 - 250) = 0.5 of its range
    moved["anneal_atmosphere"] = "Ar"  # another category: 1
    text = simulation_report(config, moved, lab)
    assert f"unit cube: {(0.5**2 + 1) ** 0.5:.2f}" in text
    line = next(row for row in text.splitlines() if row.strip().startswith("anneal_temperature_c"))
    assert "650" in line and "400" in line and "+250" in line and "0.50" in line


def test_first_use_creates_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOE_HOME", str(tmp_path / "new" / "home"))
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0, result.output
    assert "no campaign in sqlite:///" in result.output


@pytest.mark.slow
def test_app_serves_the_streamlit_ui(tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DOE_HOME": str(tmp_path / "home"), "DOE_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}"}
    server = subprocess.Popen([sys.executable, "-m", "doe.cli", "app", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    assert answer.read().decode().strip() == "ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, "the app did not answer within 90 s"
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(20)


def _grid_config(tmp_path: Path) -> Path:
    data = VirtualLab(0).config.to_dict()
    for p in data["parameters"]:
        if p["name"] == "anneal_temperature_c":
            p["resolution"] = 5
        if p["name"] == "hfo2_loading_wt_pct":
            p["resolution"] = 0.01
        if p["name"] == "solid_content_mg_per_ml":  # 5 to 40: 19.191 has more than 4 significant figures
            p["resolution"] = 0.001
    data["batch_shared"] = ["anneal_temperature_c", "anneal_time_h", "anneal_atmosphere"]
    path = tmp_path / "grid.yaml"
    import yaml

    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, field", [
    ({"anneal_atmosphere": {"resolution": 1}}, "parameters[anneal_atmosphere].resolution: only a continuous"),
    ({"anneal_temperature_c": {"resolution": 0}}, "parameters[anneal_temperature_c]"),
    ({"batch_shared": ["anneal_temperature_c", "furnace_temperature"]}, "batch_shared: ['furnace_temperature']"),
])
def test_init_refuses_bad_resolution_or_batch_shared_naming_the_field_and_stores_nothing(
    doe_cmd, tmp_path: Path, change: dict[str, object], field: str,  # type: ignore[no-untyped-def]
) -> None:
    import yaml

    data = yaml.safe_load(_grid_config(tmp_path).read_text(encoding="utf-8"))
    for key, value in change.items():
        if key == "batch_shared":
            data["batch_shared"] = value
        else:
            next(p for p in data["parameters"] if p["name"] == key).update(value)  # type: ignore[arg-type]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    done = doe_cmd("init", "--config", "bad.yaml", "--name", "grid", check=False)
    assert done.returncode != 0
    assert field in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "grid" not in doe_cmd("list").stdout


def test_an_off_grid_control_recipe_prints_as_stored_and_an_off_grid_fixed_value_is_refused(  # type: ignore[no-untyped-def]
        doe_cmd, tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(_grid_config(tmp_path).read_text(encoding="utf-8"))
    reference = VirtualLab(0).config.reference_recipe()
    data["control_recipe"] = {**reference, "hfo2_loading_wt_pct": 0.835, "solid_content_mg_per_ml": 10.0}
    (tmp_path / "control.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    doe_cmd("init", "--config", "control.yaml", "--name", "grid")
    refused = doe_cmd("suggest", "-n", "2", "--fast", "--fixed", "anneal_temperature_c=333", check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "anneal_temperature_c" in refused.stderr and "330 and 335" in refused.stderr
    store = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert Campaign.load("grid", storage=store).history().empty  # nothing proposed
    done = doe_cmd("suggest", "-n", "3", "--fast", "--out", "runsheet.csv")
    loading = next(line for line in done.stdout.splitlines() if line.startswith("hfo2_loading_wt_pct"))
    assert "0.835" in loading.split()  # the control's value as stored, not 0.83 or 0.84
    sheet = read_table(tmp_path / "runsheet.csv", Campaign.load("grid", storage=store).config)
    assert sheet["hfo2_loading_wt_pct"].iloc[-1] == 0.835
    sheet["first_cycle_ce_pct"] = [90.0, 91.0, 92.0]
    write_table(sheet[["experiment_id", *PARAMS, "first_cycle_ce_pct"]], tmp_path / "done.csv")
    assert "3 row(s) recorded" in doe_cmd("record", "done.csv").stdout


@pytest.mark.slow
def test_suggest_prints_and_writes_each_parameter_at_its_resolution(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import re

    from openpyxl import load_workbook

    doe_cmd("init", "--config", str(_grid_config(tmp_path)), "--name", "grid")
    done = doe_cmd("suggest", "-n", "3", "--out", "runsheet.csv", "--fast")
    lines = {line.split("  ")[0].strip(): line for line in done.stdout.splitlines()}
    temperature = lines["anneal_temperature_c [C]"].split()[2:]
    loading = lines["hfo2_loading_wt_pct [wt%]"].split()[2:]
    assert len(temperature) == 3 and all(re.fullmatch(r"\d+", v) and int(v) % 5 == 0 for v in temperature)
    assert len(set(temperature)) == 1  # one furnace run: the shared value once per batch
    assert all(re.fullmatch(r"\d\.\d\d", v) for v in loading), loading
    solid = lines["solid_content_mg_per_ml [mg/mL]"].split()[2:]
    assert all(re.fullmatch(r"\d+\.\d{3}", v) for v in solid) and any(float(v) >= 10 for v in solid), solid
    ligand = lines["ligand_to_np_mass_ratio [g/g]"].split()[2:]
    assert all(len(re.sub(r"[^0-9]", "", v).lstrip("0")) <= 4 for v in ligand), ligand  # 4 significant figures
    text = (tmp_path / "runsheet.csv").read_text(encoding="utf-8-sig").splitlines()
    header = text[0].split(",")
    t_col = header.index("anneal_temperature_c [C]")
    assert all(re.fullmatch(r"\d+", row.split(",")[t_col]) for row in text[1:]), text
    # the CSV run sheet reads back: a recipe written at its resolution matches the stored one
    sheet = read_table(tmp_path / "runsheet.csv", Campaign.load("grid", storage=f"sqlite:///{tmp_path / 'cli.sqlite3'}").config)
    sheet["first_cycle_ce_pct"] = [90.0, 91.0, 92.0]
    write_table(sheet[["experiment_id", *PARAMS, "first_cycle_ce_pct"]], tmp_path / "done.csv")
    assert "3 row(s) recorded" in doe_cmd("record", "done.csv").stdout

    doe_cmd("suggest", "-n", "2", "--out", "runsheet.xlsx", "--fast")
    sheet_xlsx = load_workbook(tmp_path / "runsheet.xlsx").active
    assert sheet_xlsx is not None
    columns = {cell.value: cell.column for cell in sheet_xlsx[1]}
    t_cell = sheet_xlsx.cell(row=2, column=columns["anneal_temperature_c [C]"])
    l_cell = sheet_xlsx.cell(row=2, column=columns["hfo2_loading_wt_pct [wt%]"])
    assert t_cell.number_format == "0" and float(t_cell.value) % 5 == 0
    assert l_cell.number_format == "0.00" and round(float(l_cell.value), 2) == float(l_cell.value)
    # the empty entry cells show what a person types (a "0" format showed 85.46 as 85, and a
    # CSV saved from Excel then held 85)
    entry = sheet_xlsx.cell(row=2, column=columns["first_cycle_ce_pct [%]"])
    assert entry.value is None and entry.number_format == "General"


def test_suggest_shows_every_number_without_a_resolution_at_four_significant_figures(  # type: ignore[no-untyped-def]
        doe_cmd, tmp_path: Path) -> None:
    """A dose of 0.00215 mL beside 584.2 mL was written to the Excel run sheet with the column's
    one format '0.0' (shown as 0.0), and the command printed a speed of 12080 as 1.208e+04."""
    import yaml
    from openpyxl import load_workbook

    config = {"name": "sig", "seed": 5, "objectives": [{"name": "ce", "goal": "maximize"}],
              "parameters": [{"name": "speed_rpm", "type": "continuous", "bounds": [0, 20000], "unit": "rpm"},
                             {"name": "dose_ml", "type": "continuous", "bounds": [0.0001, 1000], "log_scale": True,
                              "unit": "mL"}]}
    (tmp_path / "sig.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    doe_cmd("init", "--config", "sig.yaml")
    doses = {1.690115: "1.69", 0.00215: "0.00215", 584.198016: "584.2", 0.000109: "0.000109"}
    speeds = {12080.3: "12080", 4992.0: "4992", 19463.1: "19460", 3132.2: "3132"}
    write_table(pd.DataFrame({"speed_rpm": list(speeds), "dose_ml": list(doses)}), tmp_path / "candidates.csv")
    done = doe_cmd("suggest", "-n", "4", "--candidates", "candidates.csv", "--out", "sig.xlsx", "--fast")
    lines = {line.split("  ")[0].strip(): line.split()[2:] for line in done.stdout.splitlines()}
    assert sorted(lines["dose_ml [mL]"]) == sorted(doses.values()), done.stdout
    assert sorted(lines["speed_rpm [rpm]"]) == sorted(speeds.values()), done.stdout
    sheet = load_workbook(tmp_path / "sig.xlsx").active
    assert sheet is not None
    columns = {cell.value: cell.column for cell in sheet[1]}
    formats = {sheet.cell(row=r, column=columns["dose_ml [mL]"]).value:
               sheet.cell(row=r, column=columns["dose_ml [mL]"]).number_format for r in range(2, 6)}
    # each cell shows 4 significant figures (Excel: 0.002150, 0.0001090) and keeps its whole value
    assert formats == {1.690115: "0.000", 0.00215: "0.000000", 584.198016: "0.0", 0.000109: "0.0000000"}
    speed = [sheet.cell(row=r, column=columns["speed_rpm [rpm]"]).number_format for r in range(2, 6)]
    assert speed == ["0"] * 4
    # recorded back, the sheet's recipes are the stored ones
    table = read_table(tmp_path / "sig.xlsx", Campaign.load("sig", storage=f"sqlite:///{tmp_path / 'cli.sqlite3'}").config)
    table["ce"] = [80.0, 81.0, 82.0, 83.0]
    write_table(table[["experiment_id", "speed_rpm", "dose_ml", "ce"]], tmp_path / "done.xlsx")
    assert "4 row(s) recorded (0 new experiment(s)" in doe_cmd("record", "done.xlsx").stdout


def test_import_and_clone_move_a_campaign_between_databases(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doe_cmd("init", "--template", "hfo2-ncm85", "--name", "coating")
    recipe = load_config("hfo2-ncm85").reference_recipe()
    write_table(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": r, "first_cycle_ce_pct": ce}
                              for r, ce in (("A", 89.0), ("B", 91.0))]), tmp_path / "cells.csv", file_format="csv")
    doe_cmd("record", "cells.csv")
    doe_cmd("export", "--out", "coating.json")
    other = tmp_path / "lab-server.sqlite3"  # stands in for the lab's shared database
    done = doe_cmd("import", "coating.json", "--name", "coating-lab", "--db", str(other))
    assert "campaign 'coating-lab' imported" in done.stdout and "1 experiment(s)" in done.stdout
    source = Campaign.load("coating", storage=f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    imported = Campaign.load("coating-lab", storage=f"sqlite:///{other}")
    assert imported.measurements()["value"].tolist() == source.measurements()["value"].tolist() == [89.0, 91.0]
    done = doe_cmd("clone", "coating-2", "--campaign", "coating", "--with-history", "--to-db", f"sqlite:///{other}")
    assert "cloned to 'coating-2'" in done.stdout
    clone = Campaign.load("coating-2", storage=f"sqlite:///{other}")
    assert clone.history()["first_cycle_ce_pct_n"].tolist() == [2]
    doe_cmd("clone", "empty-copy", "--campaign", "coating")
    assert Campaign.load("empty-copy", storage=f"sqlite:///{tmp_path / 'cli.sqlite3'}").history().empty
    # bad input: a clear error, nothing created
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "huge.json").write_text('{"a": ' + "1" * 5000 + "}", encoding="utf-8")
    exported = json.loads((tmp_path / "coating.json").read_text(encoding="utf-8"))
    exported["measurements"][0]["note"] = "gelled \ud800"  # a lone surrogate, as JSON's escape gives it
    (tmp_path / "surrogate.json").write_text(json.dumps(exported), encoding="utf-8")
    for args in (("import", "broken.json"), ("import", "huge.json"), ("import", "coating.json", "--name", "coating-lab", "--db", str(other)),
                 ("clone", "coating-2", "--campaign", "coating", "--to-db", f"sqlite:///{other}"),
                 ("import", "surrogate.json", "--name", "s", "--db", str(other)),
                 ("import", "coating.json", "--name", "m", "--db", ":memory:"),
                 ("clone", "m", "--campaign", "coating", "--to-db", "sqlite:///:memory:")):
        done = doe_cmd(*args, check=False)
        assert done.returncode == 1 and "Traceback" not in done.stderr, (args, done.stderr)
    assert "broken.json: not a JSON campaign export" in doe_cmd("import", "broken.json", check=False).stderr
    surrogate = doe_cmd("import", "surrogate.json", "--name", "s", "--db", str(other), check=False).stderr
    assert "measurements[0].note: holds a character that is not Unicode text" in surrogate
    # an in-memory target would be gone when the command ends, after it said "cloned"
    assert "--to-db: an in-memory database" in doe_cmd("clone", "m", "--campaign", "coating", "--to-db", ":memory:",
                                                       check=False).stderr
    again = doe_cmd("import", "coating.json", "--name", "coating-lab", "--db", str(other), check=False)
    assert "exists already" in again.stderr and "`doe import --name NAME`" in again.stderr
    assert sorted(list_campaigns(f"sqlite:///{other}", include_archived=True)["name"]) == ["coating-2", "coating-lab"]


def test_record_and_export_replicate_cells(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doe_cmd("init", "--template", "hfo2-ncm85", "--name", "cells")
    doe_cmd("suggest", "-n", "2", "--out", "runsheet.csv", "--fast")
    sheet = read_table(tmp_path / "runsheet.csv", VirtualLab(0).config)
    results = VirtualLab(3, failures=False).run(sheet[["experiment_id", *PARAMS]], replicates=3)
    results = results.drop(columns=["failed", "failure_reason"]).rename(columns={"replicate": "Replicate"})
    write_table(results, tmp_path / "results.csv", file_format="csv")
    done = doe_cmd("record", "results.csv")
    assert "6 row(s) recorded" in done.stdout
    doe_cmd("export", "--out", "history.csv")
    history = pd.read_csv(tmp_path / "history.csv")
    ce = next(c for c in history.columns if c.startswith("first_cycle_ce_pct ["))
    assert history["first_cycle_ce_pct_n"].tolist() == [3, 3]
    assert history[ce].tolist() == pytest.approx(results.groupby("experiment_id")["first_cycle_ce_pct"].mean().tolist())
    doe_cmd("export", "--out", "cells.csv", "--cells")
    cells = pd.read_csv(tmp_path / "cells.csv", dtype={"replicate": str})
    assert list(zip(cells["experiment_id"], cells["replicate"], strict=True)) == [
        ("E0001", "1"), ("E0001", "2"), ("E0001", "3"), ("E0002", "1"), ("E0002", "2"), ("E0002", "3")]
    assert cells[ce].tolist() == pytest.approx(results["first_cycle_ce_pct"].tolist())
    # the history read back is means, not cells: nothing added; an edited mean is refused, naming it
    again = doe_cmd("record", "history.csv")
    assert "measurements: 0 added, 12 unchanged" in again.stdout  # 6 outcomes of 2 experiments
    history.loc[0, ce] += 1.0
    history.to_csv(tmp_path / "edited.csv", index=False)
    refused = doe_cmd("record", "edited.csv", check=False)
    assert refused.returncode != 0 and "first_cycle_ce_pct" in refused.stderr and "mean of E0001's 3 cell(s)" in refused.stderr
    doe_cmd("export", "--out", "cells_after.csv", "--cells")
    assert pd.read_csv(tmp_path / "cells_after.csv", dtype={"replicate": str}).equals(cells)
    # a fourth cell that failed: the experiment keeps its results, the cell is stored and the output says so
    pd.DataFrame({"experiment_id": ["E0001"], "replicate": ["4"], "failure_reason": ["cracked pellet"]}).to_csv(
        tmp_path / "failed_cell.csv", index=False)
    told = doe_cmd("record", "failed_cell.csv").stdout
    assert "1 failed cell(s) (1 newly stored)" in told and "E0001 replicate '4': 'cracked pellet'" in told
    assert "marked failed" not in told  # one cell failed; the experiment did not
    assert "failed cells: 1" in doe_cmd("status").stdout
    doe_cmd("export", "--out", "cells_failed.csv", "--cells")
    listed = pd.read_csv(tmp_path / "cells_failed.csv", dtype={"replicate": str})
    failed = listed[listed["failed"]]
    assert list(zip(failed["experiment_id"], failed["replicate"], failed["failure_reason"], strict=True)) == [
        ("E0001", "4", "cracked pellet")]
    assert listed.drop(columns=["failed", "failure_reason"])[~listed["failed"]].reset_index(drop=True).equals(cells)
    # the same cell with a value now is refused, naming it; nothing changes
    pd.DataFrame({"experiment_id": ["E0001"], "replicate": ["4"], ce: [90.0]}).to_csv(tmp_path / "late.csv", index=False)
    late = doe_cmd("record", "late.csv", check=False)
    assert late.returncode != 0 and "E0001 replicate '4' is stored as failed" in late.stderr
    doe_cmd("export", "--out", "cells_again.csv", "--cells")
    assert pd.read_csv(tmp_path / "cells_again.csv", dtype={"replicate": str}).equals(listed)



def test_engine_settings_from_the_command_line_reach_the_stored_batch(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from doe.campaign import Campaign

    doe_cmd("run", "--simulate", "--campaign", "tr", "--budget", "6", "--batch-size", "3", "--seed", "2", "--fast",
            "--engine", "trust_region=adaptive", "--engine", "explore_untried=1", "--no-progress")
    doe_cmd("suggest", "--campaign", "tr", "-n", "2", "--engine", "kernel=matern52", "--engine",
            "trust_region_width=none")
    proposals = Campaign.load("tr", storage=f"sqlite:///{tmp_path / 'cli.sqlite3'}").proposals()
    settings = [m["settings"] for m in proposals["model_settings"]]
    assert all(s["trust_region"] == "adaptive" and s["explore_untried"] == 1 and s["num_restarts"] == 2
               for s in settings[:6])  # --fast with the two overrides
    assert settings[-1]["kernel"] == "matern52" and settings[-1]["trust_region_width"] is None
    assert settings[-1]["num_restarts"] == 4  # no --fast: the defaults and the overrides
    for bad, message in (("trust_region=wide", "trust_region"), ("restarts=4", "'restarts' does not exist"),
                         ("explore_untried=two", "explore_untried"), ("kernel", "NAME=VALUE")):
        done = doe_cmd("suggest", "--campaign", "tr", "-n", "1", "--engine", bad, check=False)
        assert done.returncode != 0 and message in done.stderr, done.stderr
    assert len(Campaign.load("tr", storage=f"sqlite:///{tmp_path / 'cli.sqlite3'}").proposals()) == len(settings)


@pytest.mark.parametrize("out", ["runsheet.csv", "runsheet.xlsx"])
def test_the_run_sheet_of_doe_suggest_is_filled_in_and_recorded_as_it_is(  # type: ignore[no-untyped-def]
        cli_in_folder, tmp_path: Path, out: str) -> None:
    """`doe suggest --out` said "fill in the outcomes and `doe record`", but its sheet had no
    outcome column (only the predictions' _mean and _sd), so the sheet as written was refused:
    it is the Plan page's sheet now, with empty outcome, failed and failure_reason columns."""
    cli_in_folder("init", "--template", "hfo2-ncm85", "--name", "sheet")
    cli_in_folder("suggest", "-n", "3", "--fast", "--out", out)
    path = tmp_path / out
    sheet = pd.read_csv(path) if out.endswith(".csv") else pd.read_excel(path)
    ce = "first_cycle_ce_pct [%]"
    assert {ce, "capacity_retention_pct [%]", "failed", "failure_reason"} <= set(sheet.columns)
    assert sheet[ce].isna().all() and not sheet["failed"].any()
    assert "first_cycle_ce_pct_mean" in sheet.columns  # the prediction, beside the column to fill in
    sheet[ce] = [88.5, 90.25, np.nan]
    sheet["failed"] = [False, False, True]
    sheet["failure_reason"] = [np.nan, np.nan, "dispersion gelled"]
    if out.endswith(".csv"):
        sheet.to_csv(path, index=False)
    else:
        sheet.to_excel(path, index=False)
    cli_in_folder("record", out)
    history = Campaign.load("sheet", storage=cli_in_folder.url).history().set_index("experiment_id")
    assert history.loc[["E0001", "E0002"], "first_cycle_ce_pct"].tolist() == [88.5, 90.25]
    assert history.loc["E0003", "status"] == "failed"
    assert history.loc["E0003", "failure_reason"] == "dispersion gelled"


def test_a_run_stopped_by_sigterm_says_so_and_continues_where_it_stopped(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A service manager's stop (SIGTERM) ended `doe run` without a word; it ends now as Ctrl-C
    does: exit 130, what is pending, how to go on; the next run takes the batch over."""
    doe_cmd("init", "--template", "hfo2-ncm85")
    env = {**os.environ, "DOE_HOME": str(tmp_path / "home"), "DOE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
           "DOE_ACTOR": "robot"}
    folder = tmp_path / "exchange"
    process = subprocess.Popen([sys.executable, "-m", "doe.cli", "run", "--folder", str(folder), "--budget", "3",
                                "--no-progress"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(folder.glob("runsheet_*.csv")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(folder.glob("runsheet_*.csv")), "no run sheet written"
        stored = Campaign.load("hfo2-ncm85", storage=env["DOE_DATABASE_URL"])
        while (stored.history()["status"] != "running").any() and time.monotonic() < deadline:
            time.sleep(0.1)  # the batch is accepted after its sheet is written
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, (out, err)
    assert "interrupted by SIGTERM; 3 experiment(s) still pending" in err
    assert "Run the same command again to continue" in err
    status = doe_cmd("status").stdout
    assert "running" in status


def test_suggest_writes_its_run_sheet_before_printing_to_a_pipe_closed_early(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`doe suggest --out rs.csv | head -1` stored the batch and wrote no sheet: the printing
    came first and failed on the closed pipe."""
    doe_cmd("init", "--template", "hfo2-ncm85")
    env = {**os.environ, "DOE_HOME": str(tmp_path / "home"), "DOE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
           "DOE_ACTOR": "robot"}
    subprocess.run(["bash", "-c", f"'{sys.executable}' -m doe.cli suggest -n 2 --out rs.csv --fast | head -c 0"],
                   cwd=tmp_path, env=env, check=False, timeout=300)
    sheet = pd.read_csv(tmp_path / "rs.csv", encoding="utf-8-sig")
    stored = Campaign.load("hfo2-ncm85", storage=env["DOE_DATABASE_URL"]).history()
    assert sheet["experiment_id"].tolist() == stored["experiment_id"].tolist() == ["E0001", "E0002"]


def test_a_run_sheet_that_cannot_be_written_says_the_batch_was_stored(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Another person's sheet appears at the --out path while the batch is computed: the sheet
    is refused and kept, and the message says the batch was stored all the same, by its id."""
    import logging

    store = f"sqlite:///{tmp_path / 'lab.sqlite3'}"
    monkeypatch.setenv("DOE_DATABASE_URL", store)
    monkeypatch.setenv("DOE_HOME", str(tmp_path / "home"))
    Campaign.from_config("hfo2-ncm85", storage=store, name="coat", actor="t")
    out = tmp_path / "runsheet.csv"

    class OtherPerson(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:  # once the batch is stored, before its sheet is written
            if record.getMessage().startswith("campaign 'coat': proposed") and not out.exists():
                out.write_text("their results\n", encoding="utf-8")

    watcher, campaign_log = OtherPerson(), logging.getLogger("doe.campaign")
    campaign_log.addHandler(watcher)
    level = campaign_log.level
    campaign_log.setLevel(logging.INFO)
    try:
        done = CliRunner().invoke(cli, ["suggest", "-n", "2", "--fast", "--out", str(out), "--actor", "t"])
    finally:
        campaign_log.removeHandler(watcher)
        campaign_log.setLevel(level)
    assert done.exit_code != 0, done.output
    stored = Campaign.load("coat", storage=store).history()
    assert stored["status"].tolist() == ["proposed", "proposed"]
    ids = ", ".join(stored["experiment_id"])
    assert f"batch {stored['batch_id'].iloc[0]} ({ids}) was stored as proposed" in done.output
    assert "runsheet.csv" in done.output and "doe export --campaign coat --out FILE" in done.output
    assert out.read_text(encoding="utf-8") == "their results\n"  # the other person's file is kept


def test_record_reads_the_workbook_sheet_named_by_sheet(cli_in_folder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A workbook with a notes sheet before the results could not be recorded by the doe command
    (it read the first sheet only); ``--sheet`` names the results sheet, and a CSV has none."""
    cli_in_folder("init", "--template", "hfo2-ncm85", "--name", "sheets")
    cli_in_folder("suggest", "-n", "2", "--fast", "--out", "runsheet.xlsx")
    sheet = pd.read_excel(tmp_path / "runsheet.xlsx")
    sheet["first_cycle_ce_pct [%]"] = [88.5, 90.25]
    with pd.ExcelWriter(tmp_path / "book.xlsx") as writer:
        pd.DataFrame({"note": []}).to_excel(writer, sheet_name="notes", index=False)
        sheet.to_excel(writer, sheet_name="results", index=False)
    refused = cli_in_folder("record", "book.xlsx", code=1)
    assert "sheet 'notes'" in refused.output and "doe record --sheet NAME" in refused.output
    stored = Campaign.load("sheets", storage=cli_in_folder.url)
    assert stored.history()["first_cycle_ce_pct"].isna().all()
    missing = cli_in_folder("record", "book.xlsx", "--sheet", "Results", code=1)
    assert "no sheet 'Results'; sheets: ['notes', 'results']" in missing.output
    sheet.to_csv(tmp_path / "book.csv", index=False)
    csv = cli_in_folder("record", "book.csv", "--sheet", "results", code=1)
    assert "a CSV file has no sheets" in csv.output
    assert stored.history()["first_cycle_ce_pct"].isna().all()
    cli_in_folder("record", "book.xlsx", "--sheet", "results")
    assert stored.history()["first_cycle_ce_pct"].tolist() == [88.5, 90.25]


def test_doe_run_refuses_a_folder_of_another_campaign(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two `doe run --folder` of two campaigns on one folder recorded a results file into both
    (every campaign numbers E0001, ...); the second now refuses the folder, storing nothing."""
    doe_cmd("init", "--template", "hfo2-ncm85", "--name", "line-A")
    doe_cmd("init", "--template", "hfo2-ncm85", "--name", "line-B")
    folder = tmp_path / "exchange"
    doe_cmd("run", "--folder", str(folder), "--campaign", "line-A", "--budget", "1", "--fast", "--timeout", "0.5",
            "--no-progress")  # line-A takes the folder (its experiment times out: no robot here)
    assert "line-A" in (folder / ".doe-campaign").read_text(encoding="utf-8")
    refused = doe_cmd("run", "--folder", str(folder), "--campaign", "line-B", "--budget", "1", "--fast",
                      "--timeout", "0.5", "--no-progress", check=False)
    assert refused.returncode != 0
    assert "belongs to campaign 'line-A'" in refused.stderr and "give each campaign its own folder" in refused.stderr
    assert "line-B" in refused.stderr and str(folder) in refused.stderr
    assert "(total 0)" in doe_cmd("status", "--campaign", "line-B").stdout  # nothing proposed


def test_suggest_prints_a_prediction_with_its_sd_at_two_figures_and_the_mean_to_match(tmp_path: Path) -> None:
    """`doe suggest` printed 'ce predicted 85.2 ± 1.497' (the mean at 4 significant figures, its
    sd at 4 too, so the mean was shown less precisely than its own sd) where the README, the run
    sheet explanations and the Plan page give '85.20 ± 1.5' style: sd at two figures, the mean to
    its decimal place."""
    import re

    db = str(tmp_path / "lab.sqlite3")
    config = {"name": "sd", "seed": 3, "objectives": [{"name": "ce", "goal": "maximize", "unit": "%"}],
              "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1], "resolution": 0.01}]}
    campaign = Campaign.from_config(config, storage=db)
    campaign.record(pd.DataFrame({"x": [0.1, 0.4, 0.7, 0.9], "ce": [81.3, 84.7, 83.9, 80.2]}))
    done = CliRunner().invoke(cli, ["suggest", "--db", db, "--campaign", "sd", "-n", "2", "--fast"])
    assert done.exit_code == 0, done.output
    line = next(line for line in done.output.splitlines() if line.startswith("ce [%] predicted"))
    shown = re.findall(r"(-?[\d.]+) ± ([\d.]+)", line)
    assert len(shown) == 2, line
    assert len(campaign.history(status="proposed")) == 2
    for mean, sd in shown:
        digits = sd.replace(".", "").lstrip("0")
        assert len(digits) == 2, line  # the sd at two significant figures
        places = len(sd.split(".")[1]) if "." in sd else 0
        assert (len(mean.split(".")[1]) if "." in mean else 0) == places, line  # the mean to the sd's place


def test_status_shows_the_best_recipes_mean_of_cells_with_its_sd_and_number_of_cells(tmp_path: Path) -> None:
    """`doe status` printed the best recipe's CE as '83' alone, the mean of three cells looking like
    one measurement, where the history, the report and the Insights page show each mean beside its
    spread and number of cells."""
    db = str(tmp_path / "lab.sqlite3")
    config = {"name": "cells", "seed": 3, "objectives": [{"name": "ce", "goal": "maximize", "unit": "%"}],
              "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1], "resolution": 0.1}]}
    campaign = Campaign.from_config(config, storage=db)
    campaign.record(pd.DataFrame({"experiment_id": ["H1", "H1", "H1", "H2"], "x": [0.3, 0.3, 0.3, 0.6],
                                  "replicate": ["A", "B", "C", "A"], "ce": [82.0, 83.0, 84.5, 80.0]}))
    done = CliRunner().invoke(cli, ["status", "--db", db, "--campaign", "cells"])
    assert done.exit_code == 0, done.output
    lines = {line.split()[0]: line.split()[1:] for line in done.output.splitlines() if line.strip()}
    assert lines["best:"][0] == "H1"
    assert lines["ce"] == ["[%]", "83.17"]
    assert lines["ce_sd"] == ["1.258"] and lines["ce_n"] == ["3"], done.output
