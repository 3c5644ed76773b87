"""``doe run``: a closed-loop campaign on the virtual lab or through a folder of run sheets."""

from __future__ import annotations

import math
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np
import pandas as pd

from doe.cli.common import (
    EXIT_INTERRUPTED,
    SIM_TEMPLATE,
    Env,
    campaign_option,
    cli,
    common_options,
    engine_option,
    engine_settings,
    fmt,
    number,
    pairs,
    recipes_text,
)
from doe.domain.parameters import CategoricalParameter
from doe.domain.table import ID_COLUMN
from doe.domain.values import same_text
from doe.errors import DoeError
from doe.storage.engine import mask_url

if TYPE_CHECKING:
    from doe.campaign import Campaign
    from doe.domain.config import CampaignConfig
    from doe.runner import Progress


SIMULATED = "Simulated by `doe run --simulate`: every result is made up by the virtual coating lab."
"""The start of the description of a campaign ``doe run --simulate`` creates (for the reader: the
description is free text, so the run never takes it as a sign that a campaign is its own)."""

SIMULATION_ACTOR = " via doe run --simulate"
"""The end of the actor of everything ``doe run --simulate`` does (``"ada via doe run --simulate"``):
an experiment it proposed carries it as ``proposed_by``, so a later run tells its own pending
experiments from a lab's."""


# ---------------------------------------------------------------------- run
@cli.command("run")
@click.option("--simulate", is_flag=True, help="Run the experiments in the virtual coating lab.")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Exchange run sheets and results files through this folder (a person runs the experiments).")
@campaign_option
@click.option("--budget", type=click.IntRange(1, 10_000), default=30, show_default=True,
              help="Total experiments proposed by doe in the campaign (a rerun continues towards it).")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("--max-pending", type=click.IntRange(1, 10_000), default=None,
              help="Experiments in flight at most [default: the batch size].")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True,
              help="Seed of the virtual lab and of a new simulated campaign.")
@click.option("--target", multiple=True, metavar="OBJECTIVE=VALUE",
              help="Stop once one experiment reaches this value (repeatable, once per objective); for a set-point objective "
                   "(goal: target) VALUE is the largest acceptable distance from its target, e.g. 0.5.")
@click.option("--patience", type=click.IntRange(1, 10_000), default=None,
              help="Stop after this many batches without improvement.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Mark an experiment failed when its result takes longer (seconds).")
@click.option("--fast", is_flag=True, help="Quicker, less thorough proposals.")
@engine_option
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--replicates", type=click.IntRange(1, 100), default=None,
              help="With --simulate: cells built from each coated powder (replicate cells; each recorded with its "
                   "label, the history showing their mean, sd and n) [default: one cell, no label].")
@click.option("--calendar", is_flag=True,
              help="With --simulate: run in simulated calendar time (furnace, cell channels, results that "
                   "arrive over weeks; maximise the 200-cycle retention with CE >= 80 %).")
@click.option("--channels", type=click.IntRange(1, 10_000), default=16, show_default=True,
              help="--calendar: cell channels of the cycler.")
@click.option("--cells-per-experiment", type=click.IntRange(1, 100), default=1, show_default=True,
              help="--calendar: channels one experiment holds.")
@click.option("--cycle-hours", type=click.FloatRange(min=0, min_open=True), default=7.5, show_default=True,
              help="--calendar: hours per charge-discharge cycle (C/3 with rests: 7.5).")
@click.option("--upload-days", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="--calendar: cycler data are uploaded this often (days).")
@click.option("--weeks", type=click.FloatRange(min=0, min_open=True), default=52.0, show_default=True,
              help="--calendar: simulated horizon in weeks.")
@click.option("--early-stop", is_flag=True,
              help="--calendar: stop a cell once its predicted 200-cycle value is confidently below the best "
                   "(or its CE misses the constraint), freeing its channel.")
@click.option("--wait-for-end", is_flag=True,
              help="--calendar: record the retention only when cycle 200 arrives (no curve points).")
@common_options
def run_(simulate: bool, folder: Path | None, campaign_name: str | None, budget: int, batch_size: int,
         max_pending: int | None, seed: int, target: tuple[str, ...], patience: int | None,
         timeout_s: float | None, fast: bool, engine_overrides: tuple[str, ...], no_progress: bool,
         replicates: int | None, calendar: bool, channels: int, cells_per_experiment: int, cycle_hours: float, upload_days: float,
         weeks: float, early_stop: bool, wait_for_end: bool, env: Env) -> None:
    """Run a closed-loop campaign: propose, run, record, repeat.

    With --simulate the virtual coating lab makes and tests every recipe (a new campaign
    `sim-hfo2-ncm85-seed<SEED>` unless --campaign names one; a campaign holding experiments
    the virtual lab did not make is refused), each result marked with operator "virtual lab",
    and the run ends with the best recipe found, its distance from the published recipe and its true outcomes.
    With --folder each batch is written there as a run sheet and the run waits for a
    results file (results_<batch>.csv). Write it under another name (.results_<batch>.csv.tmp:
    names starting with a dot or ~$ are ignored) and rename it when complete, or it may be read
    half-written. The folder is one campaign's: give each campaign its own. Stop with Ctrl-C
    (or SIGTERM) at any time; the same command continues where it stopped.
    """
    from doe.executors import FileExecutor, VirtualLabExecutor
    from doe.runner import Stop, run

    # Every option is checked before a campaign is created or a folder made: a run refused
    # later would leave them behind.
    if simulate == (folder is not None):
        raise DoeError("say who runs the experiments: --simulate (the virtual lab) or --folder DIR (a person)")
    settings = engine_settings(fast, engine_overrides)
    if timeout_s is not None and math.isnan(timeout_s):
        raise DoeError("--timeout: give a positive number of seconds, got nan")
    if replicates is not None and (not simulate or calendar):
        raise DoeError("--replicates sets the virtual lab's cells per powder: use it with --simulate (with --calendar, "
                       "--cells-per-experiment)")
    if calendar:
        if not simulate:
            raise DoeError("--calendar simulates calendar time in the virtual lab: use it with --simulate")
        if target or patience or timeout_s or max_pending:
            raise DoeError("--calendar runs to its budget or --weeks; --target, --patience, --timeout and "
                           "--max-pending do not apply")
        if not math.isfinite(weeks):
            raise DoeError(f"--weeks: give a positive number of simulated weeks, got {weeks}")
        from doe.simulate.calendar import CalendarSettings

        calendar_run(env, campaign_name, seed, settings, budget, weeks, early_stop, not wait_for_end,
                     CalendarSettings(channels=channels, cells_per_experiment=cells_per_experiment,
                                      cycle_hours=cycle_hours, upload_days=upload_days, batch_size=batch_size))
        return
    targets = {k: number("--target", k, v) for k, v in pairs("--target", target).items()}
    stop = Stop(target=targets or None, patience=patience)
    if max_pending is not None and max_pending < batch_size:
        raise DoeError(f"--max-pending ({max_pending}) must be at least --batch-size ({batch_size})")
    if simulate:
        from doe.simulate import VirtualLab

        lab = VirtualLab(seed)
        campaign = _simulation_campaign(env, campaign_name, seed, lab.config, settings, targets)
        executor: Any = VirtualLabExecutor(lab, seed=seed, timeout_s=timeout_s, outcomes=campaign.config.outcome_names,
                                           replicates=replicates)
    else:
        assert folder is not None
        campaign = env.campaign(campaign_name, settings=settings, writes=True)
        check_targets(targets, campaign.config, campaign.name)
        executor = FileExecutor(folder, timeout_s=timeout_s)
        click.echo(f"run sheets go to {folder}; drop results_<batch>.csv files there, each written under another "
                   "name (e.g. .results_<batch>.csv.tmp) and renamed when complete", err=True)
    started = time.monotonic()
    stopped_by: list[str] = []

    def on_sigterm(signum: int, frame: object) -> None:  # a service manager's stop, as Ctrl-C
        stopped_by.append("SIGTERM")
        raise KeyboardInterrupt

    previous, previous_int = signal.signal(signal.SIGTERM, on_sigterm), signal.getsignal(signal.SIGINT)
    try:
        with _progress_bar(enabled=not no_progress) as on_progress:
            result = run(campaign, executor, budget=budget, batch_size=batch_size, stop=stop,
                         max_pending=max_pending, on_progress=on_progress)
    except KeyboardInterrupt:
        # a second Ctrl-C or SIGTERM while the database is read below: still this message and exit code
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        pending = campaign.pending()
        click.echo(f"\ninterrupted{' by ' + stopped_by[0] if stopped_by else ''}; {len(pending)} experiment(s) "
                   f"still pending in campaign {campaign.name!r}. Run the same command again to continue.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    elapsed = time.monotonic() - started
    click.echo(f"campaign {campaign.name!r}: {result.message}; {result.experiments} experiments "
               f"({result.proposed} proposed, {result.finished} finished, {result.failed} failed in this run, "
               f"{result.rounds} batches) in {elapsed:.0f} s")
    if result.best.empty:
        rules = [c.text() for c in campaign.config.outcome_constraints]
        click.echo("no completed experiment meets the constraints yet"
                   + (f" ({', '.join(rules)}); a larger --budget continues the campaign" if rules else ""))
        return
    best = result.best.head(1)
    click.echo(f"best recipe: {best[ID_COLUMN].iloc[0]}")
    if simulate:
        click.echo(simulation_report(campaign.config, best, lab))
    else:
        click.echo(recipes_text(best, campaign.config, outcomes=True))


def calendar_run(env: Env, campaign_name: str | None, seed: int, settings: Any, budget: int, weeks: float,
                 early_stop: bool, curve_points: bool, calendar: Any) -> None:
    """``doe run --simulate --calendar``: the campaign in simulated calendar time."""
    from doe.calendar_run import run_calendar
    from doe.domain.early_stop import EarlyStop
    from doe.simulate import VirtualLab
    from doe.simulate.calendar import CURVE_OUTCOME, CalendarLab, calendar_config

    lab = VirtualLab(seed)
    campaign = _simulation_campaign(env, campaign_name, seed, calendar_config(lab.config, at=calendar.at), settings,
                                    default_name=f"sim-calendar-{SIM_TEMPLATE}-seed{seed}")
    if CURVE_OUTCOME not in campaign.config.curve_outcomes:
        raise DoeError(f"campaign {campaign.name!r} does not measure {CURVE_OUTCOME} over cycles; --calendar needs "
                       "a campaign it created (pick another --campaign)")
    result = run_calendar(campaign, CalendarLab(lab, calendar, curve_points=curve_points, seed=seed), budget,
                          weeks=weeks, early_stop=EarlyStop() if early_stop else None)
    click.echo(f"campaign {campaign.name!r}: {result.weeks:.1f} simulated weeks; {result.started} experiments "
               f"started, {result.finished} finished at cycle {calendar.at}, {result.stopped} stopped early, "
               f"{result.failed} failed; {result.rounds} batches; at most {result.max_channels_busy} of "
               f"{calendar.channels} channels busy")
    if result.best.empty:
        click.echo("no experiment meets the constraints yet (a longer --weeks or larger --budget continues)")
        return
    over_time = result.best_over_time
    changed = over_time[ID_COLUMN].ne(over_time[ID_COLUMN].shift())
    changed.iloc[-1] = True  # and where it stands at the end
    over_time = over_time[changed].copy()
    value, sd = over_time.columns[2], over_time.columns[3]
    over_time["week"] = over_time["week"].map(lambda w: f"{w:.1f}")
    over_time[value] = [f"{v:.2f} +- {s:.2f}" if s > 0 else f"{v:.2f}" for v, s in zip(
        over_time[value], over_time[sd], strict=True)]
    click.echo("best recipe over time, when it changed (measured at cycle 200, or predicted +- sd while cycling):")
    click.echo(over_time.drop(columns=[sd]).to_string(index=False))
    best = result.best.head(1)
    click.echo(f"best recipe: {best[ID_COLUMN].iloc[0]}")
    click.echo(simulation_report(campaign.config, best, lab))


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[Progress], None] | None]:
    """A tqdm bar on stderr drawn from the runner's progress reports (None when disabled):
    experiments finished of the budget, the best objective values and the experiments pending."""
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm

    bar: Any = None

    def draw(progress: Progress) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=progress.budget, initial=progress.done, desc=progress.campaign, unit="exp",
                       file=sys.stderr, dynamic_ncols=True)
        elif progress.done > bar.n:
            bar.update(progress.done - bar.n)
        postfix = {name: f"{value:.4g}" for name, value in progress.best.items()}
        postfix["pending"] = str(progress.pending)
        bar.set_postfix(postfix, refresh=True)

    try:
        yield draw
    finally:
        if bar is not None:
            bar.close()


def _simulation_campaign(env: Env, name: str | None, seed: int, lab_config: CampaignConfig,
                         settings: Any, targets: Mapping[str, float] | None = None, *,
                         default_name: str | None = None) -> Campaign:
    """The campaign ``name`` of the virtual lab (``default_name``, the name the command gives,
    when None), created if it does not exist yet (once the ``--target`` values are checked
    against it, so that a refused run creates nothing)."""
    from doe.campaign import Campaign
    from doe.errors import StorageError

    default_name = default_name or f"sim-{SIM_TEMPLATE}-seed{seed}"
    name = name or default_name
    actor = simulation_actor(env.actor)
    try:
        campaign = Campaign.load(name, storage=env.db, actor=actor, settings=settings)
    except StorageError:
        config = lab_config.replace(name=name, seed=seed, description=f"{SIMULATED} {lab_config.description or ''}".strip())
        check_targets(targets or {}, config, name)
        campaign = Campaign.from_config(config, storage=env.db, actor=actor, settings=settings)
        click.echo(f"created campaign {name!r} in {mask_url(campaign.storage_url)}", err=True)
        return campaign
    if real := _not_simulated(campaign, default_name):
        raise DoeError(f"campaign {name!r} holds {len(real)} experiment(s) the virtual lab did not make "
                       f"({', '.join(real[:5])}{', ...' if len(real) > 5 else ''}); doe run --simulate records "
                       "made-up results only into experiments it proposed itself (or an empty campaign): pick a new "
                       f"--campaign name (nothing was changed){_older_batch_hint(campaign, real)}")
    if campaign.config.parameter_names != lab_config.parameter_names:
        raise DoeError(f"campaign {name!r} does not use the {SIM_TEMPLATE} parameters the virtual lab "
                       f"simulates; pick another --campaign")
    if missing := [o for o in campaign.config.objective_names if o not in lab_config.outcome_names]:
        raise DoeError(f"campaign {name!r}: the virtual lab does not simulate the objective(s) {missing}; it measures "
                       f"{list(lab_config.outcome_names)}; pick another --campaign")
    check_targets(targets or {}, campaign.config, name)
    click.echo(f"continuing campaign {name!r} ({len(campaign.history())} experiments so far)", err=True)
    return campaign


def simulation_actor(actor: str | None) -> str:
    """Who acts in ``doe run --simulate``: ``actor`` (``--actor``, or :func:`doe.paths.acting`'s
    default) followed by :data:`SIMULATION_ACTOR`."""
    from doe.paths import acting
    from doe.storage.values import MAX_ACTOR

    who = acting(actor)
    if len(who) + len(SIMULATION_ACTOR) > MAX_ACTOR:
        raise DoeError(f"--actor: at most {MAX_ACTOR - len(SIMULATION_ACTOR)} characters for doe run --simulate, "
                       f"which acts as {who[:20]!r}...{SIMULATION_ACTOR!r} (got {len(who)})")
    return who + SIMULATION_ACTOR


def _older_batch_hint(campaign: Campaign, real: list[str]) -> str:
    """How to continue when the experiments ``real`` (:func:`_not_simulated`) are all pending: an
    older doe's simulated run proposed its batch under the plain actor, and only a batch proposed
    as :data:`SIMULATION_ACTOR` counts as the run's own (a lab's batch in a clone must not)."""
    from doe.domain.records import PENDING_STATUSES

    history = campaign.history()
    pending = set(history.loc[history["status"].isin(PENDING_STATUSES), ID_COLUMN].astype(str))
    if not set(real) <= pending:
        return ""
    return (". If they are the pending batch of a doe run --simulate that an older doe left, abandon them and run "
            f"the same command again: doe abandon {' '.join(map(shlex.quote, real))} --campaign "
            f"{shlex.quote(campaign.name)} --reason 'left by an older doe run --simulate' (with the run's --db, if it named one)")


def _not_simulated(campaign: Campaign, default_name: str) -> list[str]:
    """The experiments of ``campaign`` the virtual lab did not make: none in a campaign bearing
    the name ``default_name`` the command gives (one made before results were marked); elsewhere
    each one but those pending that a run of ``doe run --simulate`` proposed (``proposed_by``
    ends with :data:`SIMULATION_ACTOR`), those finished with the virtual lab's mark
    (:func:`doe.simulate.virtual_lab.mark_simulated`) and those that hold nothing: abandoned,
    or failed by a run's timeout. The campaign's description, free text that a clone copies,
    counts for nothing."""
    from doe.domain.records import PENDING_STATUSES
    from doe.runner import TIMED_OUT
    from doe.simulate.virtual_lab import OPERATOR

    if campaign.name == default_name:
        return []
    history = campaign.history()
    cells = campaign.measurements()
    simulated = set(cells.loc[cells["operator"] == OPERATOR, ID_COLUMN].astype(str))
    reasons = history["failure_reason"].map(
        lambda r: isinstance(r, str) and (r.startswith(f"{OPERATOR}: ") or r.startswith(TIMED_OUT)))
    proposed_here = history["status"].isin(PENDING_STATUSES) & history["proposed_by"].map(
        lambda a: isinstance(a, str) and a.endswith(SIMULATION_ACTOR))
    simulated |= set(history.loc[reasons.astype(bool) | proposed_here.astype(bool)
                                 | history["status"].eq("abandoned"), ID_COLUMN].astype(str))
    return [str(i) for i in history[ID_COLUMN] if str(i) not in simulated]


def check_targets(targets: Mapping[str, float], config: CampaignConfig, name: str) -> None:
    """Refuse a ``--target`` that is no objective of campaign ``name`` (``config``), or a
    negative distance for a set-point objective, before the run creates or proposes anything
    (:func:`doe.runner.run` checks the same once the campaign exists)."""
    if unknown := [k for k in targets if k not in config.objective_names]:
        raise DoeError(f"--target: {', '.join(map(repr, unknown))} is not an objective of campaign {name!r}; "
                       f"its objectives: {', '.join(config.objective_names)}")
    for o in config.objectives:
        if o.goal == "target" and targets.get(o.name, 0.0) < 0:
            raise DoeError(f"--target {o.name}: for the set-point objective {o.name!r} (target {o.target:g}) the "
                           f"value is the largest acceptable distance from it, a number >= 0; got {targets[o.name]:g}")


def simulation_report(config: CampaignConfig, best: pd.DataFrame, lab: Any) -> str:
    """Best recipe beside the study's, the distance between them and their true outcomes."""
    study = lab.study_recipe()
    names = config.parameter_names
    rows = []
    cube: list[float] = []
    for name in names:
        p = config.parameter(name)
        found, ref = best[name].iloc[0], study[name].iloc[0]
        unit = f" [{p.unit}]" if p.unit else ""
        if isinstance(p, CategoricalParameter):
            d = 0.0 if same_text(found, ref) else 1.0
            rows.append((f"{name}{unit}", str(found), str(ref), "same" if d == 0 else "differs", d))
        else:
            lo, hi = float(p.lower), float(p.upper)
            a, b = float(found), float(ref)
            if getattr(p, "log_scale", False):
                d = abs(math.log(a) - math.log(b)) / (math.log(hi) - math.log(lo))
            else:
                d = abs(a - b) / (hi - lo)
            rows.append((f"{name}{unit}", f"{a:.4g}", f"{b:.4g}", f"{a - b:+.3g}", d))
        cube.append(d)
    table = pd.DataFrame(rows, columns=["parameter", "found", "study", "difference", "unit-cube distance"])
    table["unit-cube distance"] = table["unit-cube distance"].map(lambda v: f"{v:.2f}")
    distance = float(np.sqrt(np.sum(np.square(cube))))
    truth = pd.concat([lab.truth(best[names]), lab.truth(study)], ignore_index=True)
    outcomes = [o for o in config.outcome_names if o in truth.columns]
    measured = [float(best[o].iloc[0]) if o in best.columns else float("nan") for o in outcomes]
    compare = pd.DataFrame({
        "outcome": [f"{o} [{config.unit_of(o)}]" if config.unit_of(o) else o for o in outcomes],
        "measured (found)": [fmt(v) for v in measured],
        "true (found)": [f"{v:.4g}" for v in truth[outcomes].iloc[0]],
        "true (study)": [f"{v:.4g}" for v in truth[outcomes].iloc[1]],
    })
    return "\n".join([
        table.set_index("parameter").rename_axis(None).to_string(),
        f"distance from the study's recipe in the unit cube: {distance:.2f} "
        f"(0 = same recipe, {math.sqrt(len(names)):.0f} = opposite corner; per parameter above)",
        "true outcomes (virtual lab, noise-free) of the best recipe and of the study's:",
        compare.set_index("outcome").rename_axis(None).to_string(),
    ])
