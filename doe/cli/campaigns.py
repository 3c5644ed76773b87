"""Campaign commands: ``doe init``, ``suggest``, ``record``, ``status``, ``list``, ``export``,
``import`` and ``clone``."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from doe.cli.common import (
    EXIT_INTERRUPTED,
    SIM_TEMPLATE,
    Env,
    campaign_option,
    check_out_path,
    cli,
    common_options,
    engine_option,
    engine_settings,
    lasting_database,
    masked,
    no_open_campaign,
    pairs,
    recipes_text,
    removed_if_refused,
    writing,
)
from doe.domain.active_mass import rule_mass
from doe.domain.config_notes import config_notes
from doe.domain.ranking import ranking_text
from doe.domain.table import ID_COLUMN
from doe.domain.typed_number import read_number
from doe.domain.values import same_text
from doe.errors import DoeError, shorten, shorten_text
from doe.storage.engine import mask_url


# ---------------------------------------------------------------------- init
@cli.command()
@click.option("--template", default=None, help=f"Built-in or user template [default: {SIM_TEMPLATE}].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A campaign configuration YAML file (instead of a template).")
@click.option("--name", default=None, help="Store the campaign under this name [default: the config's name].")
@click.option("--learn-from", "learn_from", multiple=True, metavar="CAMPAIGN",
              help="An earlier campaign in the same database whose results inform the model (repeatable).")
@common_options
def init(template: str | None, config_path: Path | None, name: str | None, learn_from: tuple[str, ...],
         env: Env) -> None:
    """Create a campaign from a template or a configuration file."""
    from doe.campaign import Campaign

    if template and config_path:
        raise DoeError("give --template or --config, not both")
    if config_path is not None and not config_path.is_file():
        raise DoeError(f"--config: no file {str(config_path)!r}")
    source: str | Path = config_path if config_path is not None else (template or SIM_TEMPLATE)
    with removed_if_refused(lasting_database(env.db, "--db")):
        campaign = Campaign.from_config(source, storage=env.db, name=name, actor=env.actor,
                                        learn_from=list(learn_from) if learn_from else None)
    config = campaign.config
    click.echo(f"created campaign {campaign.name!r} in {mask_url(campaign.storage_url)}")
    objectives = ", ".join(f"{o.name} ({o.goal_text()})" for o in config.objectives)
    click.echo(f"  {len(config.parameters)} parameters, objectives: {objectives}")
    if len(config.objectives) > 1:
        click.echo(f"  objective mode: {config.objective_mode} (best recipes {ranking_text(config)})")
    if config.learn_from:
        click.echo(f"  learns from: {', '.join(config.learn_from)} (see `doe status`)")
    for note in config_notes(config):
        click.echo(f"  note: {note}")
    click.echo(f"next: {env.command('suggest', '--campaign', campaign.name, '-n', '3', '--out', 'runsheet.csv')}")


# ---------------------------------------------------------------------- suggest
@cli.command()
@campaign_option
@click.option("-n", "n", type=click.IntRange(1, 1000), default=3, show_default=True,
              help="Experiments in the batch.")
@click.option("--fixed", multiple=True, metavar="NAME=VALUE",
              help="Hold a parameter at a value for the whole batch (repeatable, once per parameter).")
@click.option("--candidates", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Choose the batch among the recipes of this CSV/Excel file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the run sheet here (.csv or .xlsx); a new file unless --force.")
@click.option("--force", is_flag=True, help="Replace the --out file if it exists (a run sheet with results typed "
              "in and not yet recorded is lost).")
@click.option("--design", type=click.Choice(["model", "latin_hypercube", "screening"]), default="model",
              show_default=True, help="model: space-filling start, then the model; or a classical Latin "
              "hypercube or two-level screening design (Plackett-Burman; -n beyond its runs adds centre points; "
              "a second one is the first's fold-over).")
@click.option("--fast", is_flag=True, help="Quicker, less thorough search for the batch.")
@engine_option
@common_options
def suggest(campaign_name: str | None, n: int, fixed: tuple[str, ...], candidates: Path | None,
            out: Path | None, force: bool, design: str, fast: bool, engine_overrides: tuple[str, ...],
            env: Env) -> None:
    """Propose the next batch of experiments and write the run sheet."""
    if out is not None:  # before anything is stored: a batch without its run sheet helps no one
        check_out_path("--out", out, (".csv", ".xlsx"))
        refuse_existing("--out", out, force)  # last week's sheet may hold results typed in, not yet recorded
    fixed_values = pairs("--fixed", fixed)
    campaign = env.campaign(campaign_name, settings=engine_settings(fast, engine_overrides), writes=True)
    config = campaign.config
    candidate_table = None
    if candidates is not None:
        from doe.io import read_table

        candidate_table = read_table(candidates, config)
    batch = campaign.suggest(n, fixed=fixed_values or None, candidates=candidate_table,
                             design=design)  # type: ignore[arg-type]
    if out is not None:  # written before anything is printed: a closed pipe (`| head`) must not cost the sheet
        from doe.domain.display import column_decimals, significant_columns
        from doe.domain.exports import run_sheet
        from doe.io.writing import table_bytes, write_file

        # the Plan page's sheet: recipes, predictions, empty outcome, failed and failure_reason columns.
        # CSV: only gridded parameters are written at their resolution (exact); the others stay
        # in full so that `doe record` matches them to the stored recipe. XLSX: display formats
        # (the others at 4 significant figures, cell by cell; the cells keep the values).
        stored = (f"batch {batch['batch_id'].iloc[0]} ({', '.join(batch[ID_COLUMN])}) was stored as proposed: "
                  f"`doe export --campaign {shlex.quote(campaign.name)} --out FILE` lists its recipes, `doe status` "
                  "shows it (withdraw it with `doe abandon ID... --reason TEXT`); another `doe suggest` proposes a new "
                  "batch beside it")
        try:
            sheet = run_sheet(batch, config)
            csv = out.suffix.lower() == ".csv"
            payload = table_bytes(sheet, "csv" if csv else "xlsx", units=config.units, decimals=column_decimals(
                sheet, config), significant=significant_columns(sheet, config))
            with writing_new("--out", out):
                write_file(out, payload, replace=force)
        except DoeError as error:  # the batch is stored all the same: say so, not only why the sheet is missing
            raise DoeError(f"{error}; {stored}") from error
        except KeyboardInterrupt:  # as above: a script that only retries would store a second batch
            click.echo(f"\ninterrupted before the run sheet {str(out)!r} was written; {stored}", err=True)
            sys.exit(EXIT_INTERRUPTED)
    click.echo(f"campaign {campaign.name!r}: batch {batch['batch_id'].iloc[0]} "
               f"({', '.join(dict.fromkeys(batch['strategy'])) if 'strategy' in batch.columns else 'proposed'})")
    click.echo(recipes_text(batch, config, predictions=True))
    if out is not None:
        click.echo(f"run sheet written to {out}; fill in the outcomes and "
                   f"`{env.command('record', '--campaign', campaign.name, str(out))}`")


# ---------------------------------------------------------------------- record
@cli.command()
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@campaign_option
@click.option("--map", "mapping", multiple=True, metavar="FILECOL=NAME",
              help="Read file column FILECOL as NAME (repeatable), e.g. --map 'CE (%)=first_cycle_ce_pct'.")
@click.option("--correct", is_flag=True, help="Let results that differ from recorded ones (a value, a failure, a note, operator, sample id or date) replace them.")
@click.option("--valid-rows-only", is_flag=True, help="Record the valid rows and report the others.")
@click.option("--encoding", default=None, metavar="NAME",
              help="Text encoding of a CSV file, e.g. cp1252 for Excel's 'CSV (Windows)' [default: UTF-8].")
@click.option("--allow-duplicates", is_flag=True,
              help="Record rows without experiment_id even if the same parameters and values are "
                   "already recorded (true repeat runs).")
@click.option("--sheet", default=None, metavar="NAME",
              help="The Excel workbook's sheet to read, by the name its tab shows [default: the first].")
@common_options
def record(results: Path, campaign_name: str | None, mapping: tuple[str, ...], correct: bool,
           valid_rows_only: bool, encoding: str | None, allow_duplicates: bool, sheet: str | None,
           env: Env) -> None:
    """Record a CSV or Excel file of results (or of past experiments)."""
    column_mapping = {k: str(v) for k, v in pairs("--map", mapping, split_last=True).items()}
    campaign = env.campaign(campaign_name, writes=True)
    report = campaign.import_table(results, column_mapping=column_mapping or None, correct=correct,
                                   valid_rows_only=valid_rows_only, encoding=encoding,
                                   allow_duplicates=allow_duplicates, sheet=0 if sheet is None else sheet)
    click.echo(f"campaign {campaign.name!r}: {len(report.experiment_ids)} row(s) recorded "
               f"({len(report.created)} new experiment(s); measurements: {report.measurements_added} added, "
               f"{report.measurements_unchanged} unchanged, {report.measurements_corrected} corrected"
               + (f", {report.measurements_withdrawn} withdrawn from failed cells" if report.measurements_withdrawn
                  else "") + ")")
    for conversion in report.unit_conversions:
        click.echo(f"unit: {conversion}")
    if report.marked_failed:
        click.echo(f"marked failed: {', '.join(report.marked_failed)}")
    if report.context_not_stored:
        click.echo(f"{len(report.context_not_stored)} unchanged value(s) came with another note, operator, sample id "
                   "or date, which was not stored (record again with --correct to store it):")
        for line in report.context_not_stored[:50]:
            click.echo(f"  - {line}")
    if report.failed_cells:
        click.echo(f"{len(report.failed_cells)} failed cell(s) ({report.cell_failures_added} newly stored); other "
                   "cells of the experiment have results, so it stays completed (doe export --cells lists every cell):")
        for cell in report.failed_cells:
            click.echo(f"  - {cell}")
    if report.never_made:
        click.echo(f"{len(report.never_made)} row(s) left out, experiments never made in their campaign:")
        for problem in report.never_made[:50]:
            click.echo(f"  - {problem}")
    if report.not_measured:
        click.echo(f"{len(report.not_measured)} row(s) left out, experiments with no result yet (they stay pending):")
        for problem in report.not_measured[:50]:
            click.echo(f"  - {problem}")
    if report.rejected:
        click.echo(f"{len(report.rejected)} problem(s); these rows were left out:", err=True)
        for problem in report.rejected:
            click.echo(f"  - {problem}", err=True)


RECORD_FILES_WORDS = ((re.compile(r"\bactive_mass_mg\b"), "--active-mass-mg"),
                      (re.compile(r"\breference_cycle\b"), "--reference-cycle"),
                      (re.compile(r"(^|: )replicates: give one cell label per file"), r"\1--replicate: give one cell label per file"))


def cell_masses(given: tuple[str, ...]) -> float | dict[str, float] | None:
    """``--active-mass-mg`` as :meth:`doe.campaign.Campaign.record_files` takes it: none, one number
    for every cell, or ``LABEL=MG`` per cell (the label as ``--replicate`` gives it)."""
    if not given:
        return None
    if len(given) == 1 and "=" not in given[0]:
        return _milligrams(given[0], given[0])
    masses: dict[str, float] = {}
    for text in given:
        label, sign, number = text.rpartition("=")
        if not sign or not label.strip():
            raise click.BadParameter(f"{text!r}: give one mass for every cell (--active-mass-mg 11.5) or LABEL=MG "
                                     "once per cell (--active-mass-mg A=11.2 --active-mass-mg B=12.0), not both",
                                     param_hint="--active-mass-mg")
        if label.strip() in masses:
            raise click.BadParameter(f"{text!r}: cell {label.strip()!r} is given twice", param_hint="--active-mass-mg")
        masses[label.strip()] = _milligrams(number, text)
    return masses


def _milligrams(number: str, text: str) -> float:
    """A mass as the Record page reads one (11.5 or 11,5; not 1_1.5, which Python's float() takes)."""
    mass, why = read_number(number)
    if not math.isfinite(mass) or mass <= 0:
        raise click.BadParameter(f"{text!r}: {number.strip()!r} is not a mass above 0 mg ({why or 'write it like 11.5 or 11,5'})",
                                 param_hint="--active-mass-mg")
    return mass


@cli.command("record-files")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@campaign_option
@click.option("--experiment-id", required=True, help="The experiment the cells belong to.")
@click.option("--active-mass-mg", "active_masses", multiple=True, metavar="MG|LABEL=MG",
              help="Active cathode mass (mg), needed for cycling files: once for every cell, or LABEL=MG once per "
                   "cell (e.g. --active-mass-mg A=11.2 --active-mass-mg B=12.0).")
@click.option("--kind", type=click.Choice(["auto", "cycling", "impedance"]), default="auto", show_default=True,
              help="What the files are (auto: detected from their content).")
@click.option("--reference-cycle", type=click.IntRange(min=1), default=1, show_default=True,
              help="The cycle a capacity retention is relative to.")
@click.option("--replicate", "replicates", multiple=True, metavar="LABEL",
              help="The cell label of each file, once per file in the files' order (default: the file names "
                   "without suffix).")
@click.option("--confirm", is_flag=True, help="Record the values (without it: only show what would be recorded).")
@click.option("--correct", is_flag=True, help="Replace values recorded before (kept in the history as superseded).")
@common_options
def record_files(files: tuple[Path, ...], campaign_name: str | None, experiment_id: str, active_masses: tuple[str, ...],
                 kind: str, reference_cycle: int, replicates: tuple[str, ...], confirm: bool, correct: bool,
                 env: Env) -> None:
    """Compute outcomes from cycler files of one experiment, one replicate cell per file
    (BioLogic .mpt/.mpr, Neware CSV/.nda/.ndax, Arbin CSV, MACCOR text; impedance spectra:
    BioLogic PEIS .mpt, Gamry .DTA, CSV; rules in docs/how-to/instruments.md). Recorded files are
    kept with the campaign as evidence (see ``doe files``); the same files again change nothing."""
    active_mass_mg = cell_masses(active_masses)
    campaign = env.campaign(campaign_name, writes=True)
    try:
        preview = campaign.record_files(files, experiment_id=experiment_id, active_mass_mg=active_mass_mg,
                                        kind=kind, reference_cycle=reference_cycle,  # type: ignore[arg-type]
                                        replicates=list(replicates) or None, confirm=confirm, correct=correct)
    except DoeError as error:  # the API's parameter names, as this command's options
        message = str(error)
        for pattern, words in RECORD_FILES_WORDS:
            message = pattern.sub(words, message)
        raise DoeError(message) from error
    click.echo(preview.read.assign(cell=preview.table["replicate"].iloc[:len(preview.read)].tolist(),
                                   active_mass_mg=[math.nan if m is None else m for m in preview.masses])
               .to_string(index=False, na_rep="-"))
    if points := preview.points_text():
        click.echo(f"and {points}")
    if preview.skipped:
        click.echo(f"not recorded (no such outcome in the campaign, or not reached yet): {', '.join(preview.skipped)}")
    for problem in preview.out_of_range:
        click.echo(f"outside the campaign's valid_range (--confirm refuses it): {problem}")
    if preview.recorded is not None:
        click.echo(f"campaign {campaign.name!r}: {preview.recorded_text()}")
    else:
        click.echo("preview only: nothing was recorded; add --confirm to record these values")


@cli.command("files")
@campaign_option
@click.option("--download", "sha256", default=None, metavar="SHA256",
              help="Write this stored file (its SHA-256, or a unique prefix of at least 8 characters) to --output.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where --download writes the file (default: its original name in the current folder; - for stdout).")
@common_options
def files_(campaign_name: str | None, sha256: str | None, output: Path | None, env: Env) -> None:
    """The instrument files kept as evidence, or one of them downloaded byte for byte."""
    if output is not None and sha256 is None:
        raise click.BadParameter("writes the file --download names; give --download SHA256", param_hint="--output")
    campaign = env.campaign(campaign_name)
    stored = campaign.files()
    if sha256 is None:
        if stored.empty:
            click.echo(f"campaign {campaign.name!r}: no stored files")
            return
        shown = stored.assign(sha256=stored["sha256"].str[:16], uploaded_at=stored["uploaded_at"].dt.strftime(
            "%Y-%m-%d %H:%M UTC"), active_mass_mg=stored["rule"].map(rule_mass))[[  # each cell's own, as its capacities used
            "sha256", "file_name", "size_bytes", "kind", "file_format", "active_mass_mg", "experiment_ids",
            "uploaded_by", "uploaded_at"]]
        click.echo(shown.to_string(index=False, na_rep="-"))
        return
    if len(sha256) < 8:
        raise click.BadParameter(f"{sha256!r} is too short: give at least 8 characters of one SHA-256 listed by "
                                 "'doe files'", param_hint="--download")
    matches = stored[stored["sha256"].str.startswith(sha256.lower())]
    if len(matches) != 1:
        raise click.BadParameter(f"{len(matches)} stored files match {sha256!r} (give at least 8 characters of "
                                 "one SHA-256 listed by 'doe files')", param_hint="--download")
    name, content = campaign.file_content(str(matches["sha256"].iloc[0]))
    if str(output) == "-":  # the bytes on stdout, for a pipe
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    target = output or Path(Path(name).name)
    if target.exists():
        raise DoeError(f"--output: {shorten(str(target))} exists; choose another --output")
    if not target.expanduser().absolute().parent.is_dir():
        raise DoeError(f"--output: the folder {shorten(str(target.expanduser().absolute().parent))} does not exist; "
                       "create it first")
    from doe.io.writing import write_file

    with writing("--output", target):
        write_file(target, content, replace=False)  # whole or not at all
    click.echo(f"wrote {target} ({len(content)} bytes, sha256 {matches['sha256'].iloc[0]})")


# ---------------------------------------------------------------------- status / list / export
@cli.command()
@campaign_option
@common_options
def status(campaign_name: str | None, env: Env) -> None:
    """Counts by status, the best recipe so far and the pending experiments."""
    from doe.campaign import list_campaigns

    campaign = env.campaign(campaign_name)
    config = campaign.config
    history = campaign.history()
    counts = history["status"].value_counts()
    order = ["proposed", "running", "completed", "failed", "abandoned"]
    click.echo(f"campaign {campaign.name!r} ({mask_url(campaign.storage_url)}), config version "
               f"{campaign.config_version}")
    every = list_campaigns(campaign.storage_url, include_archived=True)
    if every.loc[every["name"].map(lambda n: same_text(n, campaign.name)), "archived"].any():
        click.echo(f"archived: closed to changes (suggest, record, config); `doe unarchive {shlex.quote(campaign.name)}` "
                   "reopens it")
    click.echo("experiments: " + ", ".join(f"{s} {int(counts.get(s, 0))}" for s in order)
               + f" (total {len(history)})")
    if len(failures := campaign.cell_failures()):
        click.echo(f"failed cells: {len(failures)} (doe export --cells lists them with their reasons)")
    best = campaign.best()
    if best.empty:
        click.echo("best: none yet (no completed experiment meets the constraints)")
    else:
        click.echo(f"best: {best[ID_COLUMN].iloc[0]} ({ranking_text(config)})")
        click.echo(recipes_text(best.head(1), config, outcomes=True))
    if config.learn_from:
        from doe.domain.transfer import informed_by_text

        try:
            report = campaign.transfer_report()
        except DoeError:  # no finished experiment yet
            report = None
        click.echo(informed_by_text(config.learn_from, report))
    pending = campaign.pending()
    if pending.empty:
        click.echo("pending: none")
    else:
        click.echo(f"pending ({len(pending)}):")
        click.echo(pending[[ID_COLUMN, "status", "batch_id"]].to_string(index=False))


@cli.command("list")
@click.option("--all", "include_archived", is_flag=True, help="Include archived campaigns.")
@common_options
def list_(include_archived: bool, env: Env) -> None:
    """The campaigns in the database."""
    from doe.campaign import list_campaigns

    if (path := env.missing_file()) is not None:  # said, not made (a mistyped --db made an empty database)
        click.echo(f"no campaign: no database file at {path!r} yet; `doe init --db {shlex.quote(path)}` creates one")
        return
    table = list_campaigns(env.db, include_archived=include_archived)
    if table.empty:
        click.echo(no_open_campaign(env.db))
        return
    keep = [c for c in ("name", "n_experiments", "config_version", "updated_at", "created_by", "archived")
            if c in table.columns]
    click.echo(table[keep].to_string(index=False))
    if not include_archived and (archived := int(list_campaigns(env.db, include_archived=True)["archived"].sum())):
        click.echo(f"and {archived} archived campaign(s), not shown: `doe list --all` lists them")


@cli.command()
@campaign_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Target file: .csv or .xlsx (the history) or .json (the whole campaign); a new file "
              "unless --force.")
@click.option("--cells", is_flag=True,
              help="CSV/Excel: one row per replicate cell (with its replicate label; failed cells with their "
              "reasons) instead of the means.")
@click.option("--force", is_flag=True, help="Replace the --out file if it exists.")
@common_options
def export(campaign_name: str | None, out: Path, cells: bool, force: bool, env: Env) -> None:
    """Write the history (CSV, Excel) or the whole campaign (JSON)."""
    from doe.io.writing import write_file

    check_out_path("--out", out, (".csv", ".xlsx", ".json"))
    if cells and out.suffix.lower() == ".json":
        raise DoeError("--cells: a .json export holds every cell already; --cells applies to .csv and .xlsx")
    refuse_existing("--out", out, force)
    campaign = env.campaign(campaign_name)
    suffix = out.suffix.lower()
    if suffix == ".json":
        payload = json.dumps(campaign.export_json(), indent=2, default=str).encode("utf-8")
    else:
        buffer = io.BytesIO()
        campaign.export_table(buffer, file_format="xlsx" if suffix == ".xlsx" else "csv", cells=cells)
        payload = buffer.getvalue()
    with writing_new("--out", out):
        write_file(out, payload, replace=force)
    click.echo(f"campaign {campaign.name!r} exported to {out}")


def refuse_existing(option: str, path: Path, force: bool) -> None:
    """Refuse a file that exists unless ``--force``, before any work is done: ``--campaign``
    defaults to the most recently updated campaign, and the file may be another campaign's
    only copy outside the database."""
    if not force and os.path.lexists(path):
        raise _exists_already(option, path)


def _exists_already(option: str, path: Path) -> DoeError:
    return DoeError(f"{option}: the file {shorten(str(path))} exists already; choose a new name, "
                    "or pass --force to replace it")


@contextmanager
def writing_new(option: str, path: Path) -> Iterator[None]:
    """:func:`writing`, and a file that appeared at ``path`` since the command began refused
    as :func:`refuse_existing` refuses one (the writer raised FileExistsError and kept it)."""
    with writing(option, path):
        try:
            yield
        except FileExistsError:
            raise _exists_already(option, path) from None


@cli.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Store the campaign under this name [default: the exported name].")
@common_options
def import_(source: Path, name: str | None, env: Env) -> None:
    """Create a campaign from SOURCE, a whole-campaign export (`doe export --out x.json`): its
    configuration versions, experiments, measurements with corrections, instrument files and
    audit trail, e.g. to move it from the embedded SQLite file to the lab's PostgreSQL server."""
    from doe.campaign import Campaign
    from doe.io.campaign_json import refuse_repeated_keys

    try:  # a byte-order mark (Windows Notepad) is read; a key given twice is refused, naming it
        data = json.loads(source.read_text(encoding="utf-8-sig"), object_pairs_hook=refuse_repeated_keys)
    except DoeError:
        raise
    except (ValueError, RecursionError) as err:  # bad UTF-8, bad JSON, a number of over 4300 digits
        raise DoeError(f"{source.name}: not a JSON campaign export ({shorten_text(str(err), 200)})") from None
    with removed_if_refused(lasting_database(env.db, "--db")):
        campaign = Campaign.import_json(data, storage=env.db, name=name, actor=env.actor)
    click.echo(f"campaign {campaign.name!r} imported into {masked(campaign.storage_url)}: "
               f"{len(campaign.history())} experiment(s), {len(campaign.files())} instrument file(s)")


@cli.command()
@click.argument("new_name")
@campaign_option
@click.option("--with-history", is_flag=True,
              help="Copy the completed and failed experiments too: every cell and curve point with its note, "
              "failed cells, and the instrument files behind the values.")
@click.option("--to-db", "to_db", metavar="URL", default=None,
              help="Create the copy in this database [default: the campaign's own].")
@common_options
def clone(new_name: str, campaign_name: str | None, with_history: bool, to_db: str | None, env: Env) -> None:
    """Start a campaign named NEW_NAME with this campaign's configuration."""
    target = None if to_db is None else lasting_database(to_db, "--to-db")
    campaign = env.campaign(campaign_name)
    if target is None:
        other = campaign.clone(new_name, storage=target, with_history=with_history)
    else:
        with removed_if_refused(target):
            other = campaign.clone(new_name, storage=target, with_history=with_history)
    click.echo(f"campaign {campaign.name!r} cloned to {other.name!r} in {masked(other.storage_url)}: "
               f"{len(other.history())} experiment(s)")


@cli.command()
@click.argument("name")
@common_options
def unarchive(name: str, env: Env) -> None:
    """Reopen the archived campaign NAME: listed again, and open to suggest, record and config changes."""
    from doe.campaign import Campaign

    Campaign.load(name, storage=env.existing_db(), actor=env.actor).archive(False)
    click.echo(f"campaign {name!r} is open again in {masked(env.db)}")


@cli.command()
@click.argument("experiment_ids", nargs=-1, required=True)
@campaign_option
@click.option("--reason", required=True, help="Why they are given up (kept in the audit trail).")
@common_options
def abandon(experiment_ids: tuple[str, ...], campaign_name: str | None, reason: str, env: Env) -> None:
    """Give up the proposed or running experiments EXPERIMENT_IDS: they stop counting as pending
    (the Plan page's 'Abandon the chosen ones' in the app)."""
    if not reason.strip():
        raise click.BadParameter("say why they are abandoned (kept in the audit trail); nothing was abandoned",
                                 param_hint="'--reason'")
    ids = list(dict.fromkeys(experiment_ids))
    campaign = env.campaign(campaign_name, writes=True)
    campaign.abandon(ids, reason.strip())
    click.echo(f"campaign {campaign.name!r}: abandoned {', '.join(ids)}")


@cli.command()
@campaign_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Target file: .html (opens anywhere, no network needed) or .pdf (printed by Chromium); a new "
              "file unless --force.")
@click.option("--force", is_flag=True, help="Replace the --out file if it exists.")
@common_options
def report(campaign_name: str | None, out: Path, force: bool, env: Env) -> None:
    """The campaign report for the lab meeting: progress, best recipes, Pareto front, the
    model's trust, the next batch with its reasons, and every measurement behind them."""
    from doe.report import write_report

    check_out_path("--out", out, (".html", ".pdf"))
    refuse_existing("--out", out, force)
    campaign = env.campaign(campaign_name)
    with writing_new("--out", out):
        write_report(campaign, out, replace=force)
    click.echo(f"campaign {campaign.name!r}: report written to {out}")
