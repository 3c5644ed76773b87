"""Run sheets out and result files in through a folder, as an executor (see :mod:`doe.executors`)."""

from __future__ import annotations

import logging
import math
import re
import shlex
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from doe.domain.display import texts_apart
from doe.domain.file_rows import file_problems, keep_rows
from doe.domain.table import ID_COLUMN, failed_flag
from doe.domain.values import is_blank
from doe.errors import CellProblem, ConflictError, DataError, DoeError
from doe.executors.base import (
    BaseExecutor,
    check_timeout,
    empty_results,
)
from doe.io import exchange_folder as exchange

if TYPE_CHECKING:
    from doe.campaign import Campaign
    from doe.domain.config import CampaignConfig

logger = logging.getLogger("doe.executors")

class FileExecutor(BaseExecutor):
    """Hands experiments to people through a folder: run sheets out, result files in.

    For each batch it writes ``runsheet_<batch_id>.csv`` (or ``.xlsx``) into ``folder``.
    Whoever runs the experiments drops a results file beside it, named
    ``results_<anything>.csv`` or ``<anything>.results.csv`` (``.xlsx`` works too), with
    ``experiment_id`` and the measured outcomes (the run sheet with outcome columns filled
    in is fine; a ``failed``/``failure_reason`` column marks runs that gave nothing). Write
    the file under another name (``.results_B0001.csv.tmp``: hidden names and Excel's
    ``~$`` owner files are ignored) and rename it when complete: a file is read once its size
    and modification time have not changed for ``settle_s`` seconds, a CSV only once it ends
    with a line end, but a robot that pauses while writing in place can still be read early.

    The folder is one campaign's: the first run writes ``.doe-campaign`` there and a run of
    another campaign refuses the folder (:mod:`doe.io.exchange_folder`). A results file is
    claimed (renamed into ``.doe-claimed/``) before it is read, so two runs never record one
    file; it moves to ``processed/`` once its results are recorded (a run killed in between
    gives it back to the folder at the next start; results recorded before change nothing).
    A file that was read and found bad, with an id that is a mistyped form of one of the
    campaign's (``e0002`` for ``E0002``; another unknown id's row is left out, logged), or with a row
    that gives results without an id, is moved to ``rejected/`` with ``<file>.error.txt`` beside it naming every bad cell; its experiments
    stay in flight until a corrected file comes (or the timeout). A file that cannot be read
    or moved now (held open by the robot or a virus scanner, the share offline) stays, and
    is read again. The run sheets must stay in the folder while their experiments are under
    way: a restarted run hands out again the pending experiments of no run sheet there.

    Args:
        folder: the exchange folder (created if missing).
        file_format: format of the run sheets.
        timeout_s: see :class:`BaseExecutor`.
        settle_s: seconds a results file must stay unchanged before it is read.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        file_format: Literal["csv", "xlsx"] = "csv",
        timeout_s: float | None = None,
        settle_s: float = 1.0,
    ) -> None:
        if file_format not in ("csv", "xlsx"):
            raise DoeError(f"file_format: 'csv' or 'xlsx', got {file_format!r}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.file_format = file_format
        self.timeout_s = check_timeout(timeout_s)
        self.settle_s = float(settle_s)
        self._campaign: Campaign | None = None
        self._watcher = exchange.Watcher(self.folder, self.settle_s)
        self._token = exchange.new_token()
        self._claims: dict[Path, Path] = {}  # file returned by collect -> its claimed path, until recorded or rejected
        self._stuck: set[Path] = set()  # files this run could not move out of the folder: not read again
        self._unreadable: dict[Path, str] = {}  # files that could not be read or claimed now -> the error told

    def __repr__(self) -> str:
        return f"FileExecutor({str(self.folder)!r})"

    @property
    def processed_dir(self) -> Path:
        return self.folder / "processed"

    @property
    def rejected_dir(self) -> Path:
        return self.folder / "rejected"

    def start(self, campaign: Campaign) -> None:
        """Make the folder the campaign's (refused when it is another's), and give back the files
        that a run killed before recording them had claimed."""
        from doe.storage.engine import mask_url

        exchange.own_folder(self.folder, campaign.name, mask_url(campaign.storage_url))
        self._campaign = campaign
        exchange.recover_claims(self.folder)

    def _config(self) -> CampaignConfig:
        if self._campaign is None:
            raise DoeError("FileExecutor: not started; doe.run() calls start(campaign) first")
        return self._campaign.config

    def submit(self, experiments: pd.DataFrame) -> None:
        from doe.domain.exports import run_sheet
        from doe.io import write_table

        if experiments.empty:
            return
        config = self._config()
        batches = experiments["batch_id"].fillna("manual") if "batch_id" in experiments.columns else pd.Series(
            ["manual"] * len(experiments), index=experiments.index)
        for batch_id, part in experiments.groupby(batches, sort=False):
            stem = f"runsheet_{_safe(str(batch_id))}"
            path = self.folder / f"{stem}.{self.file_format}"
            k = 2
            while path.exists():
                path = self.folder / f"{stem}_{k}.{self.file_format}"
                k += 1
            sheet = run_sheet(part.reset_index(drop=True), config)  # the Plan page's: outcomes to fill in
            tmp = path.with_name(f".{path.name}.tmp")
            write_table(sheet, tmp, file_format=self.file_format, units=config.units)
            tmp.replace(path)
            logger.info("run sheet written: %s (%d experiment(s))", path, len(sheet))

    def _ready_files(self) -> list[tuple[Path, tuple[int, int]]]:
        return self._watcher.ready(self._stuck | set(self._claims))

    def collect(self, timeout_s: float) -> pd.DataFrame:
        """The next results file that is ready (one file per call), or an empty frame."""
        config = self._config()
        deadline = time.monotonic() + max(float(timeout_s), 0.0)
        while True:
            for path, signature in self._ready_files():
                table = self._take(path, signature, config)
                if table is not None:
                    return table
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return empty_results()
            time.sleep(min(0.2, remaining))

    def _take(self, path: Path, signature: tuple[int, int], config: CampaignConfig) -> pd.DataFrame | None:
        """Claim and read one results file: its table, or None (taken by another run, not
        readable now, changed while read, or rejected)."""
        from doe.io import read_table

        try:
            claimed = exchange.claim(path, self._token)
        except OSError as error:  # held open (Windows, a virus scanner), a share gone read-only: later
            self._cannot_read_now(path, f"it cannot be moved now: {error}")
            return None
        if claimed is None:
            return None
        try:
            table = read_table(claimed, config)
        except OSError as error:  # held open, or the share went away: not the file's fault
            self._give_back(claimed)
            self._cannot_read_now(path, f"it cannot be read now: {error}")
            return None
        except Exception as error:  # a bad table, or a file that is none (encoding, broken workbook)
            self._reject_file(claimed, path, error)
            return None
        if exchange.signature(claimed) != signature:  # the robot still writes it (a rename keeps the file open)
            logger.warning("results file %s changed while it was read: read again once it stays unchanged (write it "
                           "under another name and rename it when complete)", path.name)
            self._give_back(claimed)
            self._watcher.changed(path)
            return None
        self._unreadable.pop(path, None)
        if ID_COLUMN not in table.columns:
            self._reject_file(claimed, path, DataError(
                f"{path.name}: the results need an {ID_COLUMN!r} column (copy it from the run sheet)"))
            return None
        with_id = [not is_blank(v) for v in table[ID_COLUMN]]
        if not any(with_id):
            self._reject_file(claimed, path, DataError(
                f"{path.name}: no row has an {ID_COLUMN} (copy them from the run sheet)"))
            return None
        if lost := _results_without_id(table, with_id, config):  # recording the rest would lose their values
            self._reject_file(claimed, path, DataError(
                f"{path.name}: {len(lost)} row(s) give results but no {ID_COLUMN}; nothing was recorded",
                file_problems(lost, table)))
            return None
        table = keep_rows(table, with_id)
        if (other := self._other_recipes(table, path.name)) is not None:
            self._reject_file(claimed, path, other)
            return None
        table.attrs["doe_source"] = str(path)
        self._claims[path] = claimed
        logger.info("results file read: %s (%d row(s))", path.name, len(table))
        return table

    def _cannot_read_now(self, path: Path, problem: str) -> None:
        if self._unreadable.get(path) != problem:  # once per problem, not at every look
            self._unreadable[path] = problem
            logger.warning("results file %s not read yet, %s; trying again", path.name, problem)

    def _give_back(self, claimed: Path, *, stuck: bool = False) -> None:
        """Put a claimed file back into the folder (under a free name where a new file took its
        own), to be read again; ``stuck``: not by this run (it could not be moved on)."""
        back = exchange.put_back(claimed, self.folder)
        if back is not None and stuck:
            self._stuck.add(back)

    def recorded(self, results: pd.DataFrame) -> None:
        source = results.attrs.get("doe_source")
        if source is None or (claimed := self._claims.pop(Path(source), None)) is None:
            return
        target = exchange.free_name(self.processed_dir / Path(source).name)
        if not _move(claimed, target):
            self._give_back(claimed, stuck=True)  # recorded: read again by the next run, it changes nothing

    def rejected(self, results: pd.DataFrame, error: DoeError) -> bool:
        source = results.attrs.get("doe_source")
        if source is None or (claimed := self._claims.pop(Path(source), None)) is None or not claimed.exists():
            return False
        self._reject_file(claimed, Path(source), error)
        return True

    def _reject_file(self, claimed: Path, path: Path, error: BaseException) -> None:
        target = exchange.free_name(self.rejected_dir / path.name)
        if not _move(claimed, target):
            self._give_back(claimed, stuck=True)
            logger.warning("results file %s not recorded: %s", path.name, error)
            return
        advice, text = "", str(error).strip()
        if isinstance(error, ConflictError):  # the runner's own advice, first, for the API's (about correct=True)
            advice = (f"The runner records no correction (doe run has no option for one). To replace the recorded "
                      f"values with this file's, record it by hand: doe record {shlex.quote(str(target))} --correct "
                      "(the old values stay in the history)\n\n")
            text = text.removesuffix(error.advice.strip()).strip() if error.advice else text
        try:
            target.with_name(target.name + ".error.txt").write_text(
                f"{advice}{type(error).__name__}: {text}\n", encoding="utf-8")
        except OSError as failure:
            logger.warning("the reason for rejecting %s could not be written: %s", path.name, failure)
        logger.warning("results file %s rejected (moved to %s): %s", path.name, target, error)

    def _sheets(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """The run sheets of the folder that can be read, with an experiment id column: name, table."""
        from doe.io import read_table

        for path in sorted(self.folder.glob("runsheet_*")):
            if path.suffix.lower() not in (".csv", ".xlsx"):
                continue
            try:
                sheet = read_table(path, self._config())
            except Exception as error:
                logger.warning("cannot read run sheet %s: %s", path, error)
                continue
            if ID_COLUMN in sheet.columns:
                yield path.name, sheet

    def in_flight(self) -> set[str]:
        """Ids in the run sheets of the folder (the runner keeps those still pending)."""
        return {str(i) for _, sheet in self._sheets() for i in sheet[ID_COLUMN].dropna()}

    def _other_recipes(self, table: pd.DataFrame, name: str) -> DataError | None:
        """Why the results file ``name`` may not be recorded: a run sheet in the folder gives one of
        its experiments another recipe than the stored one (the campaign was restored or replaced
        after the sheet was written and the id given out again), or None."""
        assert self._campaign is not None  # collect() checked it
        stored = self._campaign.history().set_index(ID_COLUMN)
        wanted = set(table[ID_COLUMN].astype(str)) & set(stored.index.astype(str))
        found: list[str] = []
        for sheet_name, sheet in self._sheets():
            for _, row in sheet[sheet[ID_COLUMN].astype(str).isin(wanted)].iterrows():
                exp_id = str(row[ID_COLUMN])
                recipe = stored.loc[exp_id].to_dict()
                found += [f"{exp_id} {p}: {given} on {sheet_name}, {kept} stored"
                          for p in self._config().parameter_names
                          if p in sheet.columns and p in recipe and not _same(row[p], recipe[p])
                          for given, kept in [texts_apart(row[p], recipe[p])]]
        if not found:
            return None
        ids = sorted({f.split(" ", 1)[0] for f in found})
        return DataError(
            f"{name}: the run sheet(s) in this folder give {', '.join(ids)} other recipes than the ones stored "
            f"({'; '.join(found)}); these results were measured on a recipe that is not the stored one (the campaign "
            "was restored from a backup or replaced after the sheet was written, and the id given out again), so "
            "nothing was recorded. Record them by hand against the recipe made (its parameter columns, without the "
            "experiment_id, record a new experiment), and remove the outdated run sheet from the folder")


def _results_without_id(table: pd.DataFrame, with_id: list[bool], config: CampaignConfig) -> list[CellProblem]:
    """The rows of a results file that give an outcome, a failure reason or a ``failed`` of True but
    no experiment id (rows blank but for a copied recipe or a ``failed`` of False give nothing to lose)."""
    given = [c for c in (*config.outcome_names, "failure_reason") if c in table.columns]

    def filled(k: int) -> list[str]:
        said = [c for c in given if not is_blank(table[c].iloc[k])]
        return [*said, "failed"] if "failed" in table.columns and failed_flag(table["failed"].iloc[k]) is not False \
            and not is_blank(table["failed"].iloc[k]) else said

    return [CellProblem(k, ID_COLUMN, None, "a row with results needs the experiment_id its run sheet gives it "
                        f"(a recipe of your own is recorded by hand: doe record) ({', '.join(said)} given)")
            for k, has_id in enumerate(with_id) if not has_id and (said := filled(k))]


def _same(sheet: object, stored: object) -> bool:
    """Whether a run sheet's value is the stored one (numbers to 9 significant digits: a workbook keeps 15)."""
    if pd.isna(sheet) and pd.isna(stored):  # type: ignore[call-overload]
        return True
    try:
        return math.isclose(float(sheet), float(stored), rel_tol=1e-9, abs_tol=1e-12)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(sheet) == str(stored)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:64] or "batch"


def _move(path: Path, target: Path) -> bool:
    """Move a claimed file to ``target``; False when it cannot be moved now (the share offline)."""
    try:
        target.parent.mkdir(exist_ok=True)
        shutil.move(str(path), target)
    except OSError as error:
        logger.warning("results file %s could not be moved to %s: %s", exchange.original_name(path), target.parent,
                       error)
        return False
    return True


__all__ = ["FileExecutor"]
