"""The ``doe`` command: campaigns from the shell.

::

    doe init --template hfo2-ncm85 --name coating-2024
    doe suggest -n 3 --out runsheet.csv
    doe record results.csv
    doe status
    doe run --simulate --budget 30

Every command takes ``--db URL`` (default: ``DOE_DATABASE_URL`` or the SQLite file in the
data folder), ``--actor NAME`` and ``-v``. Errors a user can cause are printed to stderr
without a traceback and end with a non-zero exit code.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import numpy as np
import pandas as pd

from doe.domain.parameters import CategoricalParameter
from doe.domain.ranking import ranking_text
from doe.domain.table import ID_COLUMN
from doe.errors import DataError, DoeError, shorten

if TYPE_CHECKING:
    from doe.campaign import Campaign
    from doe.domain.config import CampaignConfig
    from doe.runner import Progress

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERRUPTED = 130
SIM_TEMPLATE = "hfo2-ncm85"


class _Group(click.Group):
    """Turns a DoeError into a one-line message on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DoeError as error:
            logger.debug("command failed", exc_info=True)
            raise click.ClickException(str(error)) from None


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s", force=True)
    if verbose < 2:
        # the numerical libraries are chatty at INFO
        for name in ("botorch", "gpytorch", "linear_operator", "alembic", "sqlalchemy"):
            logging.getLogger(name).setLevel(logging.WARNING)


class _Env:
    """What the common options hold."""

    def __init__(self, db: str | None, actor: str | None) -> None:
        from doe.paths import data_home, default_database_url

        if not db and not os.environ.get("DOE_DATABASE_URL"):
            data_home().mkdir(parents=True, exist_ok=True)  # first use: the default SQLite file's folder
        self.db = db or default_database_url()
        self.actor = actor

    def campaign(self, name: str | None, *, settings: Any = None) -> Campaign:
        from doe.campaign import Campaign

        return Campaign.load(name or self.default_campaign(), storage=self.db, actor=self.actor, settings=settings)

    def default_campaign(self) -> str:
        from doe.campaign import list_campaigns

        table = list_campaigns(self.db)
        if table.empty:
            raise DoeError(f"there is no campaign in {_masked(self.db)}; create one with `doe init --template {SIM_TEMPLATE}`")
        if len(table) == 1:
            return str(table["name"].iloc[0])
        order = table.sort_values("updated_at", kind="stable", na_position="first")
        name = str(order["name"].iloc[-1])
        click.echo(f"using campaign {name!r}, the most recently updated of {len(table)} "
                   "(choose another with --campaign)", err=True)
        return name


def _common(fn: F) -> F:
    """``--db``, ``--actor`` and ``-v`` on every command; passes ``env`` to the command."""

    @click.option("--db", "db", metavar="URL", default=None,
                  help="Database: an SQLAlchemy URL or an SQLite file path "
                       "[default: $DOE_DATABASE_URL or the SQLite file in the doe data folder].")
    @click.option("--actor", metavar="NAME", default=None, help="Who acts (recorded in the audit trail) "
                                                                "[default: $DOE_ACTOR or the login name].")
    @click.option("-v", "--verbose", count=True, help="Log more (-v: info, -vv: debug).")
    @functools.wraps(fn)
    def wrapper(*args: Any, db: str | None, actor: str | None, verbose: int, **kwargs: Any) -> Any:
        _configure_logging(verbose)
        return fn(*args, env=_Env(db, actor), **kwargs)

    return wrapper  # type: ignore[return-value]


_campaign_option = click.option(
    "--campaign", "campaign_name", metavar="NAME", default=None,
    help="Campaign name [default: the only campaign, or the most recently updated].")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="doe", prog_name="doe")
def cli() -> None:
    """Bayesian design of experiments for battery cathode coatings.

    Start with `doe init`, then alternate `doe suggest` (a run sheet of recipes to make)
    and `doe record` (the measured results); or let `doe run --simulate` close the loop on
    the virtual coating lab.
    """


# ---------------------------------------------------------------------- init
@cli.command()
@click.option("--template", default=None, help=f"Built-in or user template [default: {SIM_TEMPLATE}].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A campaign configuration YAML file (instead of a template).")
@click.option("--name", default=None, help="Store the campaign under this name [default: the config's name].")
@_common
def init(template: str | None, config_path: Path | None, name: str | None, env: _Env) -> None:
    """Create a campaign from a template or a configuration file."""
    from doe.campaign import Campaign

    if template and config_path:
        raise DoeError("give --template or --config, not both")
    if config_path is not None and not config_path.is_file():
        raise DoeError(f"--config: no file {str(config_path)!r}")
    source: str | Path = config_path if config_path is not None else (template or SIM_TEMPLATE)
    campaign = Campaign.from_config(source, storage=env.db, name=name, actor=env.actor)
    config = campaign.config
    click.echo(f"created campaign {campaign.name!r} in {campaign.storage_url}")
    objectives = ", ".join(f"{o.name} ({o.goal_text()})" for o in config.objectives)
    click.echo(f"  {len(config.parameters)} parameters, objectives: {objectives}")
    if len(config.objectives) > 1:
        click.echo(f"  objective mode: {config.objective_mode} (best recipes {ranking_text(config)})")
    click.echo("next: doe suggest -n 3 --out runsheet.csv")


# ---------------------------------------------------------------------- suggest
@cli.command()
@_campaign_option
@click.option("-n", "n", type=click.IntRange(1, 1000), default=3, show_default=True,
              help="Experiments in the batch.")
@click.option("--fixed", multiple=True, metavar="NAME=VALUE",
              help="Hold a parameter at a value for the whole batch (repeatable).")
@click.option("--candidates", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Choose the batch among the recipes of this CSV/Excel file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the run sheet here (.csv or .xlsx).")
@click.option("--fast", is_flag=True, help="Quicker, less thorough search for the batch.")
@_common
def suggest(campaign_name: str | None, n: int, fixed: tuple[str, ...], candidates: Path | None,
            out: Path | None, fast: bool, env: _Env) -> None:
    """Propose the next batch of experiments and write the run sheet."""
    if out is not None:  # before anything is stored: a batch without its run sheet helps no one
        _check_out_path("--out", out, (".csv", ".xlsx"))
    campaign = env.campaign(campaign_name, settings=_settings(fast))
    config = campaign.config
    fixed_values = _pairs("--fixed", fixed)
    candidate_table = None
    if candidates is not None:
        from doe.io import read_table

        candidate_table = read_table(candidates, config)
    batch = campaign.suggest(n, fixed=fixed_values or None, candidates=candidate_table)
    click.echo(f"campaign {campaign.name!r}: batch {batch['batch_id'].iloc[0]} "
               f"({batch['strategy'].iloc[0] if 'strategy' in batch.columns else 'proposed'})")
    click.echo(_recipes_text(batch, config, predictions=True))
    if out is not None:
        from doe.domain.display import column_decimals
        from doe.io import write_table

        # CSV: only gridded parameters are written at their resolution (exact); the others stay
        # in full so that `doe record` matches them to the stored recipe. XLSX: display formats.
        decimals = column_decimals(batch, config, exact_only=out.suffix.lower() == ".csv")
        with _writing("--out", out):
            write_table(batch, out, units=config.units, decimals=decimals)
        click.echo(f"run sheet written to {out}; fill in the outcomes and `doe record {out}`")


# ---------------------------------------------------------------------- record
@cli.command()
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_campaign_option
@click.option("--map", "mapping", multiple=True, metavar="FILECOL=NAME",
              help="Read file column FILECOL as NAME (repeatable), e.g. --map 'CE (%)=first_cycle_ce_pct'.")
@click.option("--correct", is_flag=True, help="Let values that differ from recorded ones replace them.")
@click.option("--valid-rows-only", is_flag=True, help="Record the valid rows and report the others.")
@click.option("--encoding", default=None, metavar="NAME",
              help="Text encoding of a CSV file, e.g. cp1252 for Excel's 'CSV (Windows)' [default: UTF-8].")
@click.option("--allow-duplicates", is_flag=True,
              help="Record rows without experiment_id even if the same parameters and values are "
                   "already recorded (true repeat runs).")
@_common
def record(results: Path, campaign_name: str | None, mapping: tuple[str, ...], correct: bool,
           valid_rows_only: bool, encoding: str | None, allow_duplicates: bool, env: _Env) -> None:
    """Record a CSV or Excel file of results (or of past experiments)."""
    column_mapping = {k: str(v) for k, v in _pairs("--map", mapping).items()}
    campaign = env.campaign(campaign_name)
    report = campaign.import_table(results, column_mapping=column_mapping or None, correct=correct,
                                   valid_rows_only=valid_rows_only, encoding=encoding,
                                   allow_duplicates=allow_duplicates)
    click.echo(f"campaign {campaign.name!r}: {len(report.experiment_ids)} row(s) recorded "
               f"({len(report.created)} new experiment(s); measurements: {report.measurements_added} added, "
               f"{report.measurements_unchanged} unchanged, {report.measurements_corrected} corrected)")
    if report.rejected:
        click.echo(f"{len(report.rejected)} problem(s); these rows were left out:", err=True)
        for problem in report.rejected:
            click.echo(f"  - {problem}", err=True)


# ---------------------------------------------------------------------- status / list / export
@cli.command()
@_campaign_option
@_common
def status(campaign_name: str | None, env: _Env) -> None:
    """Counts by status, the best recipe so far and the pending experiments."""
    campaign = env.campaign(campaign_name)
    config = campaign.config
    history = campaign.history()
    counts = history["status"].value_counts()
    order = ["proposed", "running", "completed", "failed", "abandoned"]
    click.echo(f"campaign {campaign.name!r} ({campaign.storage_url}), config version {campaign.config_version}")
    click.echo("experiments: " + ", ".join(f"{s} {int(counts.get(s, 0))}" for s in order)
               + f" (total {len(history)})")
    best = campaign.best()
    if best.empty:
        click.echo("best: none yet (no completed experiment meets the constraints)")
    else:
        click.echo(f"best: {best[ID_COLUMN].iloc[0]} ({ranking_text(config)})")
        click.echo(_recipes_text(best.head(1), config, outcomes=True))
    pending = campaign.pending()
    if pending.empty:
        click.echo("pending: none")
    else:
        click.echo(f"pending ({len(pending)}):")
        click.echo(pending[[ID_COLUMN, "status", "batch_id"]].to_string(index=False))


@cli.command("list")
@click.option("--all", "include_archived", is_flag=True, help="Include archived campaigns.")
@_common
def list_(include_archived: bool, env: _Env) -> None:
    """The campaigns in the database."""
    from doe.campaign import list_campaigns

    table = list_campaigns(env.db, include_archived=include_archived)
    if table.empty:
        click.echo(f"no campaign in {_masked(env.db)}; create one with `doe init --template {SIM_TEMPLATE}`")
        return
    keep = [c for c in ("name", "n_experiments", "config_version", "updated_at", "created_by", "archived")
            if c in table.columns]
    click.echo(table[keep].to_string(index=False))


@cli.command()
@_campaign_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Target file: .csv or .xlsx (the history) or .json (the whole campaign).")
@click.option("--cells", is_flag=True,
              help="CSV/Excel: one row per replicate cell (with its replicate label) instead of the means.")
@_common
def export(campaign_name: str | None, out: Path, cells: bool, env: _Env) -> None:
    """Write the history (CSV, Excel) or the whole campaign (JSON)."""
    _check_out_path("--out", out, (".csv", ".xlsx", ".json"))
    campaign = env.campaign(campaign_name)
    with _writing("--out", out):
        if out.suffix.lower() == ".json":
            data = campaign.export_json()
            out.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        else:
            campaign.export_table(out, cells=cells)
    click.echo(f"campaign {campaign.name!r} exported to {out}")


# ---------------------------------------------------------------------- run
@cli.command("run")
@click.option("--simulate", is_flag=True, help="Run the experiments in the virtual coating lab.")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Exchange run sheets and results files through this folder (a person runs the experiments).")
@_campaign_option
@click.option("--budget", type=click.IntRange(1, 10_000), default=30, show_default=True,
              help="Total experiments proposed by doe in the campaign (a rerun continues towards it).")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("--max-pending", type=click.IntRange(1, 10_000), default=None,
              help="Experiments in flight at most [default: the batch size].")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True,
              help="Seed of the virtual lab and of a new simulated campaign.")
@click.option("--target", multiple=True, metavar="OBJECTIVE=VALUE",
              help="Stop once one experiment reaches this value (repeatable).")
@click.option("--patience", type=click.IntRange(1, 10_000), default=None,
              help="Stop after this many batches without improvement.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Mark an experiment failed when its result takes longer (seconds).")
@click.option("--fast", is_flag=True, help="Quicker, less thorough proposals.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@_common
def run_(simulate: bool, folder: Path | None, campaign_name: str | None, budget: int, batch_size: int,
         max_pending: int | None, seed: int, target: tuple[str, ...], patience: int | None,
         timeout_s: float | None, fast: bool, no_progress: bool, env: _Env) -> None:
    """Run a closed-loop campaign: propose, run, record, repeat.

    With --simulate the virtual coating lab makes and tests every recipe (a new campaign
    `sim-hfo2-ncm85-seed<SEED>` unless --campaign names one), and the run ends with the
    best recipe found, its distance from the published recipe and its true outcomes.
    With --folder each batch is written there as a run sheet and the run waits for a
    results file (results_<batch>.csv). Stop with Ctrl-C at any time; the same command
    continues where it stopped.
    """
    from doe.executors import FileExecutor, VirtualLabExecutor
    from doe.runner import Stop, run

    if simulate == (folder is not None):
        raise DoeError("say who runs the experiments: --simulate (the virtual lab) or --folder DIR (a person)")
    settings = _settings(fast)
    targets = {k: _number("--target", k, v) for k, v in _pairs("--target", target).items()}
    stop = Stop(target=targets or None, patience=patience)
    if simulate:
        from doe.simulate import VirtualLab

        lab = VirtualLab(seed)
        campaign = _simulation_campaign(env, campaign_name, seed, lab.config, settings)
        executor: Any = VirtualLabExecutor(lab, seed=seed, timeout_s=timeout_s)
    else:
        assert folder is not None
        campaign = env.campaign(campaign_name, settings=settings)
        executor = FileExecutor(folder, timeout_s=timeout_s)
        click.echo(f"run sheets go to {folder}; drop results_<batch>.csv files there", err=True)
    started = time.monotonic()
    try:
        with _progress_bar(enabled=not no_progress) as on_progress:
            result = run(campaign, executor, budget=budget, batch_size=batch_size, stop=stop,
                         max_pending=max_pending, on_progress=on_progress)
    except KeyboardInterrupt:
        pending = campaign.pending()
        click.echo(f"\ninterrupted; {len(pending)} experiment(s) still pending in campaign {campaign.name!r}. "
                   "Run the same command again to continue.", err=True)
        sys.exit(EXIT_INTERRUPTED)
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
        click.echo(_simulation_report(campaign.config, best, lab))
    else:
        click.echo(_recipes_text(best, campaign.config, outcomes=True))


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


def _simulation_campaign(env: _Env, name: str | None, seed: int, lab_config: CampaignConfig,
                         settings: Any) -> Campaign:
    from doe.campaign import Campaign
    from doe.errors import StorageError

    name = name or f"sim-{SIM_TEMPLATE}-seed{seed}"
    try:
        campaign = Campaign.load(name, storage=env.db, actor=env.actor, settings=settings)
    except StorageError:
        config = lab_config.replace(name=name, seed=seed)
        campaign = Campaign.from_config(config, storage=env.db, actor=env.actor, settings=settings)
        click.echo(f"created campaign {name!r} in {campaign.storage_url}", err=True)
        return campaign
    if campaign.config.parameter_names != lab_config.parameter_names:
        raise DoeError(f"campaign {name!r} does not use the {SIM_TEMPLATE} parameters the virtual lab "
                       f"simulates; pick another --campaign")
    click.echo(f"continuing campaign {name!r} ({len(campaign.history())} experiments so far)", err=True)
    return campaign


def _simulation_report(config: CampaignConfig, best: pd.DataFrame, lab: Any) -> str:
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
            d = 0.0 if str(found) == str(ref) else 1.0
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
        "measured (found)": [_fmt(v) for v in measured],
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


# ---------------------------------------------------------------------- backup / restore
@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="New backup file (SQLite database, or pg_dump custom-format archive for PostgreSQL).")
@_common
def backup(out: Path, env: _Env) -> None:
    """Copy the whole database (every campaign) into a new file, safely while others write."""
    from doe.storage.backup import backup as run_backup

    report = run_backup(env.db, out)
    click.echo(f"backed up {report.counts} (schema {report.schema_version}) from {report.url} to {report.path}")


@cli.command()
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Backup file written by `doe backup` (or pg_dump -Fc).")
@click.option("--force", is_flag=True, help="Replace a target database that already holds campaigns.")
@_common
def restore(source: Path, force: bool, env: _Env) -> None:
    """Restore a backup into an empty database (--db) and bring it to the newest schema."""
    from doe.storage.backup import restore as run_restore

    report = run_restore(env.db, source, force=force)
    click.echo(f"restored {report.counts} from {report.path} into {report.url} (schema {report.schema_version})")


# ---------------------------------------------------------------------- app
@cli.command()
@click.option("--host", default="localhost", show_default=True, help="Address to serve on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.option("--allow-open-server", is_flag=True,
              help="Serve on a non-local address without any sign-in (anyone who reaches it can change "
                   "everything). Without it, such a server needs accounts (doe user add) or single sign-on.")
@_common
def app(host: str, port: int, allow_open_server: bool, env: _Env) -> None:
    """Start the web app (Streamlit) on the database.

    On localhost with no accounts the app is open (single-user use). Once accounts exist
    (`doe user add`) or single sign-on is configured (DOE_OIDC_* or a Streamlit secrets file
    with [auth]), it asks for a sign-in.
    """
    from doe.auth import serving
    from doe.paths import data_home
    from doe.storage.accounts import AccountStore

    entry = Path(__file__).resolve().parent / "ui" / "entry.py"
    if not entry.is_file():
        raise DoeError(f"the web app is not installed with this package (missing {entry})")
    try:
        oidc = serving.oidc_from_env(os.environ, host, port)
    except ValueError as err:
        raise DoeError(str(err)) from None
    has_accounts = AccountStore.open(env.db).has_accounts()
    has_sso = oidc is not None or serving.has_oidc_secrets(serving.secrets_files())
    if not serving.is_loopback(host) and not (has_accounts or has_sso) and not allow_open_server:
        raise DoeError(
            f"refusing to serve on {host!r} without sign-in: anyone who reaches it could change every "
            "campaign. Create an admin account first (doe user add admin --role admin), or configure "
            "single sign-on (DOE_OIDC_METADATA_URL, DOE_OIDC_CLIENT_ID, DOE_OIDC_CLIENT_SECRET), or "
            "serve on localhost; pass --allow-open-server only if an open server is what you want")
    os.environ["DOE_DATABASE_URL"] = env.db
    # The demo campaign (template + the study's two recipes) is ready before the first visit.
    from doe.campaign import ensure_demo_campaign

    ensure_demo_campaign(env.db)
    if env.actor:
        os.environ["DOE_ACTOR"] = env.actor
    args = [sys.executable, "-m", "streamlit", "run", str(entry),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.address", host, "--server.port", str(port)]
    if oidc is not None:
        secrets_path = serving.write_secrets(oidc, data_home() / "run" / f"secrets-{port}.toml")
        args += ["--secrets.files", str(secrets_path)]
    login = "single sign-on" if has_sso else "built-in accounts" if has_accounts else "none (open)"
    click.echo(f"serving the doe app on http://{host}:{port} (database {_masked(env.db)}; sign-in: {login}); "
               "Ctrl-C stops it", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)


def _masked(url: str) -> str:
    from doe.storage.sql import mask_url

    return mask_url(url)


# ---------------------------------------------------------------------- accounts
def _acting(env: _Env) -> str:
    import getpass

    return env.actor or os.environ.get("DOE_ACTOR") or getpass.getuser()


def _read_password(password_stdin: bool, prompt: str) -> str:
    """A new password from stdin (one line) or an interactive prompt typed twice; never argv."""
    if password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise DoeError("--password-stdin: nothing on standard input; pipe the password in")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise DoeError("no terminal to ask for the password: pass --password-stdin and pipe it in")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@cli.group(cls=_Group)
def user() -> None:
    """Accounts of the web app: viewer (reads), engineer (plans and records in their campaigns),
    admin (everything)."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["viewer", "engineer", "admin"]), required=True)
@click.option("--email", default=None, help="E-mail (single-sign-on users are matched by it).")
@click.option("--sso", is_flag=True, help="A single-sign-on account: no password; signs in through the "
                                           "identity provider with this e-mail (default: USERNAME).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@_common
def user_add(username: str, role: str, email: str | None, sso: bool, password_stdin: bool, env: _Env) -> None:
    """Add an account (the password is asked for, or read with --password-stdin)."""
    from doe.auth.accounts import Accounts

    accounts = Accounts(env.db)
    password = None if sso else _read_password(password_stdin, f"password for {username}")
    if sso and email is None:
        email = username
    added = accounts.add_user(username, role, password=password, email=email, actor=_acting(env))
    kind = "single-sign-on account" if sso else "account"
    click.echo(f"added {kind} {added.username!r} with role {added.role}")


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input (one line).")
@_common
def user_passwd(username: str, password_stdin: bool, env: _Env) -> None:
    """Set a new password."""
    from doe.auth.accounts import Accounts

    accounts = Accounts(env.db)
    accounts.store.get_user(username)  # an unknown name fails before the prompt
    accounts.set_password(username, _read_password(password_stdin, f"new password for {username}"))
    click.echo(f"password of {username!r} changed")


@user.command("disable")
@click.argument("username")
@_common
def user_disable(username: str, env: _Env) -> None:
    """Disable an account: it can no longer sign in (its history stays)."""
    from doe.storage.accounts import AccountStore

    AccountStore.open(env.db).set_disabled(username, True)
    click.echo(f"account {username!r} disabled")


@user.command("enable")
@click.argument("username")
@_common
def user_enable(username: str, env: _Env) -> None:
    """Enable a disabled account again."""
    from doe.storage.accounts import AccountStore

    AccountStore.open(env.db).set_disabled(username, False)
    click.echo(f"account {username!r} enabled")


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(["viewer", "engineer", "admin"]))
@_common
def user_role(username: str, role: str, env: _Env) -> None:
    """Change an account's role."""
    from doe.storage.accounts import AccountStore

    AccountStore.open(env.db).set_role(username, role)
    click.echo(f"role of {username!r} is now {role}")


@user.command("list")
@_common
def user_list(env: _Env) -> None:
    """The accounts (never their passwords)."""
    from doe.storage.accounts import AccountStore

    table = AccountStore.open(env.db).users()
    if table.empty:
        click.echo("no accounts: the app is open on localhost (add one with doe user add NAME --role admin)")
        return
    shown = table[["username", "role", "email", "disabled", "sso"]].fillna("")
    click.echo(shown.to_string(index=False))


@cli.group(cls=_Group)
def member() -> None:
    """Campaign members: engineers plan and record only in campaigns they are members of."""


@member.command("add")
@click.argument("campaign")
@click.argument("username")
@_common
def member_add(campaign: str, username: str, env: _Env) -> None:
    """Make USERNAME a member of CAMPAIGN."""
    from doe.storage.accounts import AccountStore

    added = AccountStore.open(env.db).add_member(campaign, username, actor=_acting(env))
    click.echo(f"{username!r} {'is now' if added else 'was already'} a member of {campaign!r}")


@member.command("remove")
@click.argument("campaign")
@click.argument("username")
@_common
def member_remove(campaign: str, username: str, env: _Env) -> None:
    """End USERNAME's membership of CAMPAIGN."""
    from doe.storage.accounts import AccountStore

    removed = AccountStore.open(env.db).remove_member(campaign, username)
    click.echo(f"{username!r} {'is no longer' if removed else 'was not'} a member of {campaign!r}")


@member.command("list")
@click.argument("campaign", required=False)
@_common
def member_list(campaign: str | None, env: _Env) -> None:
    """The members of CAMPAIGN (or of every campaign)."""
    from doe.storage.accounts import AccountStore

    table = AccountStore.open(env.db).members(campaign)
    if table.empty:
        click.echo("no members" + (f" in {campaign!r}" if campaign else ""))
        return
    click.echo(table[["campaign", "username", "role"]].to_string(index=False))


# ---------------------------------------------------------------------- helpers
def _settings(fast: bool) -> Any:
    if not fast:
        return None
    from doe.engine import EngineSettings

    return EngineSettings.fast()


def _pairs(option: str, items: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DoeError(f"{option}: expected NAME=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def _number(option: str, key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise DoeError(f"{option} {key}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise DoeError(f"{option} {key}: expected a finite number, got {value!r}")
    return number


def _check_table_suffix(option: str, path: Path, allowed: tuple[str, ...]) -> None:
    if path.suffix.lower() not in allowed:
        raise DataError(f"{option}: {shorten(str(path))} must end in {' or '.join(allowed)}")


def _check_out_path(option: str, path: Path, allowed: tuple[str, ...]) -> None:
    """Refuse an output file that cannot be written, before any work is done or stored."""
    _check_table_suffix(option, path, allowed)
    shown = shorten(str(path))
    folder = path.expanduser().absolute().parent
    if path.is_dir():
        raise DoeError(f"{option}: {shown} is a folder; give a file name ending in {' or '.join(allowed)}")
    if not folder.is_dir():
        raise DoeError(f"{option}: the folder {shorten(str(folder))} of {shown} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise DoeError(f"{option}: {shown} cannot be written (no permission)")


@contextmanager
def _writing(option: str, path: Path) -> Iterator[None]:
    """Turn an operating-system error while writing ``path`` into a message naming it."""
    try:
        yield
    except OSError as err:
        raise DoeError(f"{option}: cannot write {shorten(str(path))}: {err.strerror or err}") from err


def _recipes_text(table: pd.DataFrame, config: CampaignConfig, *, predictions: bool = False,
                  outcomes: bool = False) -> str:
    """Experiments as columns, parameters (and predictions or outcomes) as rows."""
    from doe.domain.display import format_number, parameter_decimals

    rows: dict[str, list[str]] = {}
    decimals = parameter_decimals(config)  # each parameter at the lab's resolution, others at 4 figures
    for name in config.parameter_names:
        unit = config.unit_of(name)
        rows[f"{name} [{unit}]" if unit else name] = [format_number(v, decimals.get(name)) for v in table[name]]
    for name in config.outcome_names:
        unit = f" [{config.unit_of(name)}]" if config.unit_of(name) else ""
        if predictions and f"{name}_mean" in table.columns:
            means, sds = table[f"{name}_mean"], table.get(f"{name}_sd")
            rows[f"{name}{unit} predicted"] = [
                _fmt(m) + (f" ± {_fmt(s)}" if sds is not None and not _nan(s) else "")
                for m, s in zip(means, sds if sds is not None else [None] * len(means), strict=True)]
        elif outcomes and name in table.columns:
            rows[f"{name}{unit}"] = [_fmt(v) for v in table[name]]
    frame = pd.DataFrame(rows, index=table[ID_COLUMN].astype(str).tolist()).T
    return frame.to_string()


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt(value: Any) -> str:
    if _nan(value):
        return "-"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``doe`` console script."""
    cli.main(args=argv, prog_name="doe")


if __name__ == "__main__":
    main()
