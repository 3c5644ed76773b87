"""What every ``doe`` command shares: the command group, the common options, the error
handling and the helpers that print recipes and check arguments."""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
import numpy as np
import pandas as pd

from doe.domain.table import ID_COLUMN
from doe.errors import DataError, DoeError, shorten

if TYPE_CHECKING:
    from doe.campaign import Campaign
    from doe.domain.config import CampaignConfig

logger = logging.getLogger("doe.cli")

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERRUPTED = 130
SIM_TEMPLATE = "hfo2-ncm85"


# Hints of the Python API in doe's messages, as the doe command's options say them (the app has
# its own words: doe.ui.components.APP_WORDS).
CLI_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"To correct a value pass allow_corrections=True \(record with correct=True\); ?"),
     "To correct a value, record it again with --correct; "),
    (re.compile(r"With correct=True "), "With --correct "),
    (re.compile(r", pass allow_corrections=True \(record with correct=True\)"), ", record again with --correct"),
    (re.compile(r"\(pass allow_duplicates=True to record them again\)"), "(--allow-duplicates records them again)"),
    (re.compile(r"\bvalid_rows_only=True\b"), "--valid-rows-only"),
    (re.compile(r"read it with encoding='([\w-]+)'"), r"read it with --encoding \1 (doe record)"),
    (re.compile(r"^column_mapping names column"), "--map names column"),
)


def in_cli_words(message: str) -> str:
    """``message`` with the Python API's hints (``allow_corrections=True`` ...) replaced by the
    doe command's options (``--correct``)."""
    for pattern, words in CLI_WORDS:
        message = pattern.sub(words, message)
    return message


class DoeGroup(click.Group):
    """Turns a DoeError into a one-line message on stderr (in the command's words) and exit code 1,
    and Ctrl-C into "interrupted" and exit code 130 (:data:`EXIT_INTERRUPTED`), so that a script
    tells an interrupt from a refused input. Ctrl-C at a prompt (a password's) counts too: Click
    turns it into ``click.Abort`` ("Aborted!", exit 1), as it does end of input (Ctrl-D), which
    stays so."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DoeError as error:
            logger.debug("command failed", exc_info=True)
            raise click.ClickException(in_cli_words(str(error))) from None
        except KeyboardInterrupt:
            _interrupted(ctx)
        except click.Abort as abort:
            # click.prompt raises Abort from the KeyboardInterrupt it caught (its context)
            if not isinstance(abort.__context__, KeyboardInterrupt):
                raise
            _interrupted(ctx)


def _interrupted(ctx: click.Context) -> NoReturn:
    """Say "interrupted" on stderr and exit with :data:`EXIT_INTERRUPTED`."""
    click.echo("\ninterrupted", err=True)
    ctx.exit(EXIT_INTERRUPTED)


def configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s", force=True)
    if verbose < 2:
        # the numerical libraries are chatty at INFO
        for name in ("botorch", "gpytorch", "linear_operator", "alembic", "sqlalchemy"):
            logging.getLogger(name).setLevel(logging.WARNING)


def lasting_database(url: str, option: str) -> str:
    """``url``, unless it names an in-memory database, for the commands that exist to store
    something (init, import, clone, and the user and member commands that change
    accounts): each command is its own process, so what it wrote there would be gone when it
    ends, after it said it was stored. (``doe run --simulate --db
    :memory:`` is a throwaway loop and may use one.)"""
    from doe.storage.engine import is_in_memory

    if is_in_memory(url):
        raise DoeError(f"{option}: an in-memory database ({url!r}) is gone when the command ends; "
                       "give an SQLite file (e.g. lab.sqlite3) or a server URL")
    return url


@contextmanager
def removed_if_refused(url: str) -> Iterator[None]:
    """Run a command that creates a campaign in ``url``; where that is an SQLite file that did
    not exist before and the command is refused (or interrupted), remove the file and the
    folders opening it made, so that no empty database is left behind to answer a later,
    mistyped ``--db`` with "no campaign". A file that holds a campaign or an account by then
    (another process's) is kept."""
    from doe.storage.engine import is_in_memory, sqlite_path

    path = None
    if not is_in_memory(url):
        path = Path(url).expanduser().resolve() if "://" not in url else sqlite_path(url)
    if path is None or path.exists():
        yield
        return
    made = [folder for folder in path.parents if not folder.exists()]  # deepest first
    try:
        yield
    except BaseException:
        _remove_new_database(path, made)
        raise


def _remove_new_database(path: Path, made: list[Path]) -> None:
    import sqlite3

    from doe.storage.sql import close_all

    close_all()  # the engines this process opened on the file
    if path.exists():
        try:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                held = sum(int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                           for t in ("campaigns", "users") if t in tables)
            finally:
                conn.close()
        except sqlite3.Error:
            return
        if held:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            return


class Env:
    """What the common options hold."""

    def command(self, *words: str) -> str:
        """``doe WORDS``, each quoted for a shell, with ``--db`` where the database was named
        (a URL with a password is left out: it would print the password), to suggest as next."""
        from doe.storage.engine import mask_url

        db = ["--db", self.db] if self.named and mask_url(self.db) == self.db else []
        return " ".join(["doe", *(shlex.quote(w) for w in [*words, *db])])

    def __init__(self, db: str | None, actor: str | None) -> None:
        from doe.paths import data_home, default_database_url

        self.named = bool(db or os.environ.get("DOE_DATABASE_URL"))  # else the data folder's default file
        if not self.named:
            data_home().mkdir(parents=True, exist_ok=True)  # first use: the default SQLite file's folder
        self.db = db or default_database_url()
        self.actor = None if actor is None else actor.strip()  # as the API stores it (doe.paths.acting)

    def missing_file(self) -> str | None:
        """The path of a named SQLite database file that does not exist, else None."""
        from doe.storage.engine import resolve_url, sqlite_path

        path = sqlite_path(resolve_url(self.db)[0]) if self.named else None
        return str(path) if path is not None and not path.exists() else None

    def existing_db(self) -> str:
        """The database URL, for a command that reads or changes what is there: a named SQLite file
        that does not exist is refused (a mistyped --db made an empty file and answered for it)."""
        if (path := self.missing_file()) is not None:
            raise DoeError(f"no database file at {path!r}: check --db (or DOE_DATABASE_URL); `doe init` creates "
                           "a campaign in a new one")
        return self.db

    def campaign(self, name: str | None, *, settings: Any = None, writes: bool = False) -> Campaign:
        """The campaign ``name``, else the default one (:meth:`default_campaign`)."""
        from doe.campaign import Campaign

        return Campaign.load(name or self.default_campaign(writes=writes), storage=self.existing_db(),
                             actor=self.actor, settings=settings)

    def default_campaign(self, *, writes: bool = False) -> str:
        """The only open campaign; with several, the most recently updated for a command that
        reads, while a command that ``writes`` is refused: on a shared server another engineer's
        or robot's campaign may be the most recently updated one, and results recorded there
        would be stored under the wrong campaign."""
        from doe.campaign import list_campaigns

        table = list_campaigns(self.existing_db())
        if table.empty:
            raise DoeError(no_open_campaign(self.db))
        if len(table) == 1:
            return str(table["name"].iloc[0])
        if writes:
            names = ", ".join(repr(str(n)) for n in sorted(table["name"].tolist())[:5])
            more = f" and {len(table) - 5} more" if len(table) > 5 else ""
            raise DoeError(f"this database holds {len(table)} campaigns ({names}{more}): a command that stores "
                           "something names its campaign with --campaign; nothing was written")
        order = table.sort_values("updated_at", kind="stable", na_position="first")
        name = str(order["name"].iloc[-1])
        click.echo(f"using campaign {name!r}, the most recently updated of {len(table)} "
                   "(choose another with --campaign)", err=True)
        return name


def _not_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An option given as empty text (a robot's unset ``$CAMPAIGN`` or ``$DB``) is refused, not
    read as left out: that fell back to another campaign or database and wrote there."""
    if value is not None and not value.strip():
        raise click.BadParameter("is empty; give a value, or leave the option out for its default")
    return value


def common_options(fn: F) -> F:
    """``--db``, ``--actor`` and ``-v`` on every command; passes ``env`` to the command."""

    @click.option("--db", "db", metavar="URL", default=None, callback=_not_empty,
                  help="Database: an SQLAlchemy URL or an SQLite file path "
                       "[default: $DOE_DATABASE_URL or the SQLite file in the doe data folder].")
    @click.option("--actor", metavar="NAME", default=None, help="Who acts (recorded in the audit trail) "
                                                                "[default: $DOE_ACTOR or the login name].")
    @click.option("-v", "--verbose", count=True, help="Log more (-v: info, -vv: debug).")
    @functools.wraps(fn)
    def wrapper(*args: Any, db: str | None, actor: str | None, verbose: int, **kwargs: Any) -> Any:
        configure_logging(verbose)
        if actor is not None and not actor.strip():  # a robot's unset $ROBOT: not the server's login
            raise DoeError("--actor is empty; give the name of who acts, or leave --actor out to act as $DOE_ACTOR "
                           "or the login name")
        return fn(*args, env=Env(db, actor), **kwargs)

    return wrapper  # type: ignore[return-value]


campaign_option = click.option(
    "--campaign", "campaign_name", metavar="NAME", default=None, callback=_not_empty,
    help="Campaign name [default: the only campaign; with several, the most recently updated for a command "
         "that only reads, while one that stores something needs --campaign].")


@click.group(cls=DoeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="doe", prog_name="doe")
def cli() -> None:
    """Bayesian design of experiments for battery cathode coatings.

    Start with `doe init`, then alternate `doe suggest` (a run sheet of recipes to make)
    and `doe record` (the measured results); or let `doe run --simulate` close the loop on
    the virtual coating lab.
    """


def no_open_campaign(url: str) -> str:
    """What ``doe list`` says of a database without an open (unarchived) campaign."""
    from doe.campaign import list_campaigns
    from doe.storage.engine import is_in_memory

    if is_in_memory(url):
        return (f"no campaign in the in-memory database {url!r}: each command starts with an empty one; give an "
                "SQLite file or a server URL with --db (`doe init --db lab.sqlite3` creates one)")
    archived = int(list_campaigns(url, include_archived=True)["archived"].sum())
    if not archived:
        return f"no campaign in {masked(url)}; create one with `doe init --template {SIM_TEMPLATE}`"
    return (f"no open campaign in {masked(url)}: {archived} archived campaign(s), listed by `doe list --all`; "
            "`doe unarchive NAME` reopens one")


def masked(url: str) -> str:
    from doe.storage.sql import mask_url

    return mask_url(url)


# ---------------------------------------------------------------------- helpers
def engine_settings(fast: bool, overrides: tuple[str, ...] = ()) -> Any:
    """The engine settings of ``--fast`` and ``--engine NAME=VALUE`` (None: the defaults)."""
    if not fast and not overrides:
        return None
    from doe.engine import EngineSettings

    base = EngineSettings.fast() if fast else EngineSettings()
    return base.with_text(pairs("--engine", overrides))


engine_option = click.option(
    "--engine", "engine_overrides", multiple=True, metavar="NAME=VALUE",
    help="An engine setting for this run (repeatable), e.g. --engine trust_region=adaptive "
         "--engine explore_untried=1; the settings and their meaning: doe.engine.EngineSettings.")


def pairs(option: str, items: tuple[str, ...], *, split_last: bool = False) -> dict[str, str]:
    """The ``NAME=VALUE`` items of a repeatable option; a name given twice is refused (which
    value was meant cannot be told). ``split_last``: split at the last ``=`` (the value is a
    campaign's column name, which has none; a file's column name may)."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.rpartition("=") if split_last else item.partition("=")
        if not sep or not key.strip():
            raise DoeError(f"{option}: expected NAME=VALUE, got {item!r}")
        key = key.strip()
        if key in pairs:
            raise DoeError(f"{option}: {key!r} is given twice ({pairs[key]!r} and {value.strip()!r}); give it once")
        pairs[key] = value.strip()
    return pairs


def number(option: str, key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise DoeError(f"{option} {key}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise DoeError(f"{option} {key}: expected a finite number, got {value!r}")
    return number


def check_table_suffix(option: str, path: Path, allowed: tuple[str, ...]) -> None:
    if path.suffix.lower() not in allowed:
        raise DataError(f"{option}: {shorten(str(path))} must end in {' or '.join(allowed)}")


def check_out_path(option: str, path: Path, allowed: tuple[str, ...]) -> None:
    """Refuse an output file that cannot be written, before any work is done or stored."""
    check_table_suffix(option, path, allowed)
    shown = shorten(str(path))
    folder = path.expanduser().absolute().parent
    if path.is_dir():
        raise DoeError(f"{option}: {shown} is a folder; give a file name ending in {' or '.join(allowed)}")
    if not folder.is_dir():
        raise DoeError(f"{option}: the folder {shorten(str(folder))} of {shown} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise DoeError(f"{option}: {shown} cannot be written (no permission)")


@contextmanager
def writing(option: str, path: Path) -> Iterator[None]:
    """Turn an operating-system error while writing ``path`` into a message naming it."""
    try:
        yield
    except OSError as err:
        raise DoeError(f"{option}: cannot write {shorten(str(path))}: {err.strerror or err}") from err


def recipes_text(table: pd.DataFrame, config: CampaignConfig, *, predictions: bool = False,
                  outcomes: bool = False) -> str:
    """Experiments as columns, parameters (and predictions or outcomes) as rows."""
    from doe.domain.display import column_decimals, format_number
    from doe.domain.explain import prediction_text
    from doe.domain.replicates import n_column, with_summaries

    rows: dict[str, list[str]] = {}
    # each parameter at the lab's resolution (more for a value off its grid), others at 4 figures
    decimals = column_decimals(table[config.parameter_names], config)
    for name in config.parameter_names:
        unit = config.unit_of(name)
        rows[f"{name} [{unit}]" if unit else name] = [format_number(v, decimals.get(name)) for v in table[name]]
    for name in config.outcome_names:
        unit = f" [{config.unit_of(name)}]" if config.unit_of(name) else ""
        if predictions and f"{name}_mean" in table.columns:
            means, sds = table[f"{name}_mean"], table.get(f"{name}_sd")
            # the sd at two figures and the mean to its place, as the Plan page and the README show it
            rows[f"{name}{unit} predicted"] = [
                prediction_text(m, s) or "-"
                for m, s in zip(means, sds if sds is not None else [None] * len(means), strict=True)]
        elif outcomes and name in table.columns:
            rows[f"{name}{unit}"] = [fmt(v) for v in table[name]]
            # a mean of replicate cells is shown beside its spread and number of cells, never alone
            for column in with_summaries([name], table.columns)[1:]:
                rows[column] = [str(int(v)) if column == n_column(name) and not is_nan(v) else fmt(v)
                                for v in table[column]]
    frame = pd.DataFrame(rows, index=table[ID_COLUMN].astype(str).tolist()).T
    return frame.to_string()


def is_nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(value: Any) -> str:
    """A number at 4 significant figures (12080, not 1.208e+04; 0.0001090 keeps its digits)."""
    from doe.domain.display import format_number

    if is_nan(value):
        return "-"
    if isinstance(value, float | np.floating):
        return format_number(float(value))
    return str(value)
