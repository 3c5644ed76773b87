"""``doe run --simulate`` in real subprocesses (the ``doe_cmd`` fixture of ``tests/conftest.py``): it never
records made-up results into a lab's campaign."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from doe import Campaign, load_config

OPERATOR = "virtual lab"  # the operator of every simulated result


def test_simulate_refuses_a_lab_campaign_with_pending_experiments(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The lab's three proposed experiments were completed or failed with the virtual lab's values."""
    doe_cmd("init", "--name", "line-3")
    doe_cmd("suggest", "--campaign", "line-3", "-n", "3", "--design", "latin_hypercube", "--out", "runsheet.csv")
    before = Campaign.load("line-3", storage=str(tmp_path / "cli.sqlite3")).history()
    done = doe_cmd("run", "--simulate", "--campaign", "line-3", "--budget", "3", "--no-progress", "--fast", check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "holds 3 experiment(s) the virtual lab did not make (E0001, E0002, E0003)" in done.stderr
    assert "pick a new --campaign name" in done.stderr
    after = Campaign.load("line-3", storage=str(tmp_path / "cli.sqlite3")).history()
    pd.testing.assert_frame_equal(after, before)


def test_simulated_results_are_marked_and_the_simulated_campaign_continues(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "cli.sqlite3")
    campaign = Campaign.from_config(load_config("hfo2-ncm85").replace(name="empty"), storage=db)
    doe_cmd("run", "--simulate", "--campaign", "sim", "--budget", "6", "--batch-size", "3", "--seed", "3", "--fast",
            "--no-progress")
    done = doe_cmd("run", "--simulate", "--campaign", "sim", "--budget", "9", "--seed", "3", "--fast", "--no-progress")
    assert "continuing campaign 'sim' (6 experiments so far)" in done.stderr
    sim = Campaign.load("sim", storage=db)
    cells = sim.measurements()
    assert len(cells) and (cells["operator"] == OPERATOR).all()
    doe_cmd("export", "--campaign", "sim", "--out", "sim.csv")
    history = pd.read_csv(tmp_path / "sim.csv")
    assert len(history) == 9
    finished = history[history["status"] == "completed"]
    assert len(finished) and finished["note"].str.contains("simulated by the virtual lab").all()
    failed = history[history["status"] == "failed"]
    assert len(failed) and failed["failure_reason"].str.startswith(f"{OPERATOR}: ").all()
    # an empty campaign of the lab's parameters may be simulated, and continued once it holds only simulated runs
    for budget in ("3", "6"):
        doe_cmd("run", "--simulate", "--campaign", "empty", "--budget", budget, "--seed", "1", "--fast",
                "--no-progress")
    assert len(campaign.history()) == 6


def test_simulate_continues_past_experiments_that_hold_nothing_and_its_own_older_campaigns(  # type: ignore[no-untyped-def]
        doe_cmd, tmp_path: Path) -> None:
    """Found by a review: an abandoned experiment (withdrawn as suggest's message advises) blocked
    the next simulated run of a campaign it had filled, and a campaign `doe run --simulate` made
    before results were marked could not be continued, the message saying the lab had not made
    its experiments."""
    db = str(tmp_path / "cli.sqlite3")
    campaign = Campaign.from_config(load_config("hfo2-ncm85").replace(name="mine"), storage=db)
    doe_cmd("run", "--simulate", "--campaign", "mine", "--budget", "3", "--seed", "1", "--fast", "--no-progress")
    pending = campaign.suggest(2, design="latin_hypercube")["experiment_id"].tolist()
    campaign.abandon(pending, "withdrawn")
    doe_cmd("run", "--simulate", "--campaign", "mine", "--budget", "6", "--seed", "1", "--fast", "--no-progress")
    assert campaign.history()["status"].value_counts().get("abandoned") == 2
    # an older simulated campaign: default name, the template's description, results without a mark
    old = Campaign.from_config(load_config("hfo2-ncm85").replace(name="sim-hfo2-ncm85-seed4"), storage=db)
    old.record(pd.DataFrame([{**dict(old.config.reference_recipe() or {}), "first_cycle_ce_pct": 88.0}]))
    done = doe_cmd("run", "--simulate", "--budget", "4", "--seed", "4", "--fast", "--no-progress")
    assert "continuing campaign 'sim-hfo2-ncm85-seed4' (1 experiments so far)" in done.stderr


def test_simulate_refuses_a_lab_batch_in_a_clone_of_a_simulated_campaign(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Found by a probe: a clone of a simulated campaign keeps its description, which starts with
    the simulation's mark, and the run took that free text as its own campaign's sign, recording
    made-up results into the lab's pending batch. Pending experiments a simulated run proposed
    itself (an interrupted run's) are still continued."""
    db = str(tmp_path / "cli.sqlite3")
    doe_cmd("run", "--simulate", "--campaign", "sim", "--budget", "3", "--seed", "2", "--fast", "--no-progress")
    real = Campaign.load("sim", storage=db).clone("real-2027")
    assert (real.config.description or "").startswith("Simulated by `doe run --simulate`")
    real.suggest(1, design="latin_hypercube")  # the lab's pending batch
    before = real.history()
    done = doe_cmd("run", "--simulate", "--campaign", "real-2027", "--budget", "2", "--batch-size", "1", "--fast",
                   "--no-progress", check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "holds 1 experiment(s) the virtual lab did not make (E0001)" in done.stderr
    pd.testing.assert_frame_equal(Campaign.load("real-2027", storage=db).history(), before)
    assert Campaign.load("real-2027", storage=db).measurements().empty
    # a batch a simulated run proposed and did not finish (as an interrupted run leaves it) is its own
    sim = Campaign.load("sim", storage=db, actor="cli-test via doe run --simulate")
    left = sim.suggest(2, design="latin_hypercube")["experiment_id"].tolist()
    done = doe_cmd("run", "--simulate", "--campaign", "sim", "--budget", "5", "--seed", "2", "--fast", "--no-progress")
    assert "continuing campaign 'sim' (5 experiments so far)" in done.stderr
    history = Campaign.load("sim", storage=db).history().set_index("experiment_id")
    assert history.loc[left, "status"].isin(["completed", "failed"]).all()
    assert history["proposed_by"].eq("cli-test via doe run --simulate").all()


def test_simulate_says_how_to_continue_past_a_batch_an_older_simulated_run_left(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Found by review: a batch an older `doe run --simulate` proposed (under the plain actor, as
    an interrupted run left it) blocked the same command, the message saying the virtual lab did
    not make them and only offering a new campaign name. The batch is still refused (a lab's batch
    in a clone looks the same), but the message gives the command that lets the run continue."""
    db = str(tmp_path / "cli.sqlite3")
    doe_cmd("run", "--simulate", "--campaign", "my sim", "--budget", "3", "--seed", "2", "--fast", "--no-progress")
    left = Campaign.load("my sim", storage=db, actor="cli-test").suggest(2, design="latin_hypercube")
    command = ("run", "--simulate", "--campaign", "my sim", "--budget", "5", "--seed", "2", "--fast", "--no-progress")
    done = doe_cmd(*command, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    hint = ("abandon them and run the same command again: doe abandon E0004 E0005 --campaign 'my sim' --reason "
            "'left by an older doe run --simulate'")
    assert left["experiment_id"].tolist() == ["E0004", "E0005"] and hint in " ".join(done.stderr.split())
    assert Campaign.load("my sim", storage=db).history()["status"].eq("proposed").sum() == 2
    doe_cmd("abandon", "E0004", "E0005", "--campaign", "my sim", "--reason", "left by an older doe run --simulate")
    done = doe_cmd(*command)
    assert "continuing campaign 'my sim' (5 experiments so far)" in done.stderr
    history = Campaign.load("my sim", storage=db).history().set_index("experiment_id")
    assert history.loc[["E0004", "E0005"], "status"].eq("abandoned").all()
    assert not history["status"].isin(["proposed", "running"]).any()


def test_abandon_refuses_a_blank_reason_and_takes_an_id_listed_twice_once(doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Found by a probe: `doe abandon E0004 --reason ''` abandoned with no reason (the app asks for
    one; the option is required), and `doe abandon E0006 E0006` was refused as 'E0006: abandoned ->
    abandoned' though E0006 was still proposed (the second listing read as a change of the first)."""
    db = str(tmp_path / "cli.sqlite3")
    doe_cmd("init", "--name", "line-4")
    doe_cmd("suggest", "--campaign", "line-4", "-n", "2", "--design", "latin_hypercube", "--out", "runsheet.csv")
    for blank in ("", "   "):
        done = doe_cmd("abandon", "E0001", "--campaign", "line-4", "--reason", blank, check=False)
        assert done.returncode == 2 and "--reason" in done.stderr and "say why they are abandoned" in done.stderr
    assert Campaign.load("line-4", storage=db).history()["status"].eq("proposed").all()
    done = doe_cmd("abandon", "E0001", "E0001", "--campaign", "line-4", "--reason", "  dispersion gelled ")
    assert "abandoned E0001\n" in done.stdout
    history = Campaign.load("line-4", storage=db).history().set_index("experiment_id")
    assert history.loc["E0001", "status"] == "abandoned" and history.loc["E0002", "status"] == "proposed"
    trail = Campaign.load("line-4", storage=db).audit()
    changed = trail[(trail["action"] == "status_changed") & trail["detail"].str.contains("abandoned")]
    assert len(changed) == 1 and "dispersion gelled" in changed["detail"].iloc[0]
