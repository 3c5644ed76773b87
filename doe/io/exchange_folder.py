"""The exchange folder of a :class:`~doe.executors.FileExecutor`: whose it is, when a results
file is complete, and taking a file so that no other process records it too.

Three rules keep a folder's results in the right campaign, once and whole:

* **One campaign per folder.** The first run writes ``.doe-campaign`` into the folder, naming
  its campaign and database; a run of another campaign refuses the folder (every campaign
  numbers its experiments E0001, E0002, ...: a results file of one would be recorded into the
  other). A folder without the file is adopted.
* **A file is read only when complete.** Hidden names (``.name``), Excel's owner files
  (``~$name``) and names that are no results file are ignored, so a robot writes under such a
  name and renames the file when done. A results file is read once its size and modification
  time have not changed for ``settle_s`` seconds of watching, or were last changed ``settle_s``
  ago by the clock (a file dated in the future, from a robot's PC an hour ahead, is watched), a
  CSV only once it ends with a line end, and it is read again later when it changed while it
  was read.
* **A file is claimed before it is read.** It is renamed into ``.doe-claimed/`` under a name
  of this process (an atomic rename: of two runs, one gets it), and leaves there for
  ``processed/`` or ``rejected/``. A claim of a run that died is given back to the folder when
  the next run starts.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from doe.errors import DoeError

logger = logging.getLogger(__name__)

MARKER = ".doe-campaign"
CLAIMED = ".doe-claimed"
RESULT_NAME = re.compile(r"(results_.+|.+\.results)\.(csv|xlsx)", re.IGNORECASE)  # use fullmatch


# ---------------------------------------------------------------------- whose folder
def own_folder(folder: Path, campaign: str, database: str) -> None:
    """Make ``folder`` campaign ``campaign``'s (of ``database``, a URL without password), or
    refuse it when it is another campaign's.

    Raises:
        DoeError: the folder belongs to another campaign or database, naming both and the fix.
    """
    marker = folder / MARKER
    mine = {"campaign": campaign, "database": database}
    try:
        with marker.open("x", encoding="utf-8") as file:  # exclusive: of two first runs, one writes it
            json.dump(mine, file, indent=1)
        logger.info("exchange folder %s is campaign %r's from now on (%s)", folder, campaign, marker)
        return
    except FileExistsError:
        pass
    try:
        owner = json.loads(marker.read_text(encoding="utf-8"))
        owner_campaign, owner_database = str(owner["campaign"]), str(owner["database"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DoeError(f"exchange folder {str(folder)!r}: its owner file {MARKER} cannot be read ({error}); if the "
                       f"folder is campaign {campaign!r}'s, delete {str(marker)!r} and run again") from error
    if (owner_campaign, owner_database) != (campaign, database):
        raise DoeError(
            f"exchange folder {str(folder)!r} belongs to campaign {owner_campaign!r} (database {owner_database}), "
            f"not to campaign {campaign!r} (database {database}): give each campaign its own folder (its results "
            f"files would be recorded into the wrong campaign). If the folder is {campaign!r}'s (the database "
            f"moved), delete {str(marker)!r} and run again")


# ---------------------------------------------------------------------- when a file is complete
def is_results_name(name: str) -> bool:
    """Whether a file of this name is a results file (not hidden, not an Excel owner file)."""
    return not name.startswith((".", "~$")) and RESULT_NAME.fullmatch(name) is not None


@dataclass
class _Watch:
    signature: tuple[int, int]  # size (bytes), modification time (ns)
    since: float  # monotonic s since it has had this signature


def signature(path: Path) -> tuple[int, int] | None:
    """Size and modification time of a regular file; None when it is gone or not a file."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    return st.st_size, st.st_mtime_ns


UTF16_LINE_ENDS = {b"\xff\xfe": (b"\n\x00", b"\r\x00"), b"\xfe\xff": (b"\x00\n", b"\x00\r")}
"""A UTF-16 file's line ends, by its byte-order mark (little-, big-endian)."""


def ends_complete(path: Path) -> bool:
    """Whether a CSV file ends with a line end (a robot still writing it has cut its last line);
    other formats: True."""
    if path.suffix.lower() != ".csv":
        return True
    try:
        with path.open("rb") as file:
            # Excel's 'Unicode Text' (UTF-16 with its mark, as doe reads it) ends a line in two bytes
            line_ends = UTF16_LINE_ENDS.get(file.read(2), (b"\n", b"\r"))
            file.seek(0, os.SEEK_END)
            if file.tell() == 0:
                return False
            file.seek(-min(len(line_ends[0]), file.tell()), os.SEEK_END)
            return file.read() in line_ends
    except OSError:
        return True  # unreadable now: the read says why


class Watcher:
    """Results files of a folder that are ready to read: unchanged for ``settle_s`` seconds of
    watching, and complete."""

    def __init__(self, folder: Path, settle_s: float) -> None:
        self.folder = folder
        self.settle_s = settle_s
        self._watch: dict[Path, _Watch] = {}
        self._told: set[Path] = set()

    def ready(self, skip: set[Path]) -> list[tuple[Path, tuple[int, int]]]:
        """Files to read now, with the signature each was found ready with: unchanged for
        ``settle_s`` of watching, or last modified ``settle_s`` ago or more by the clock (a file
        there before the run is read at the first look; one dated in the future is watched)."""
        now, wall_ns = time.monotonic(), time.time_ns()
        found: list[tuple[Path, tuple[int, int]]] = []
        present: set[Path] = set()
        for path in sorted(self.folder.iterdir()):
            if not is_results_name(path.name) or path in skip or (sig := signature(path)) is None:
                continue
            present.add(path)
            watch = self._watch.get(path)
            if watch is None or watch.signature != sig:
                self._watch[path] = watch = _Watch(sig, now)
            settled_by_clock = (wall_ns - sig[1]) / 1e9 >= self.settle_s  # False for a file dated in the future
            if now - watch.since < self.settle_s and not settled_by_clock:
                continue
            if not ends_complete(path):
                if path not in self._told:
                    self._told.add(path)
                    logger.warning("results file %s does not end with a line end: waiting for the rest (is it still "
                                   "being written? write it under another name, e.g. .%s.tmp, and rename it when "
                                   "complete; if it is complete, save it again with a line end)", path.name, path.name)
                continue
            found.append((path, sig))
        for gone in set(self._watch) - present:
            del self._watch[gone]
            self._told.discard(gone)
        return found

    def changed(self, path: Path) -> None:
        """``path`` changed while it was read: watch it again from now."""
        self._watch.pop(path, None)


# ---------------------------------------------------------------------- claiming a file
_HOST = socket.gethostname().replace("~", "_") or "host"


def new_token() -> str:
    """A claim name prefix of this process: host, process id and a random part."""
    return f"{_HOST}~{os.getpid()}~{uuid.uuid4().hex[:8]}"


def claim(path: Path, token: str) -> Path | None:
    """Rename ``path`` into the folder's claim folder; None when another process took it first.

    Raises:
        OSError: it cannot be renamed now (held open on Windows or a share, read-only).
    """
    claimed = path.parent / CLAIMED / f"{token}~{path.name}"
    claimed.parent.mkdir(exist_ok=True)
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        logger.info("results file %s was taken by another process", path.name)
        return None
    return claimed


def original_name(claimed: Path) -> str:
    """The name a claimed file had in the folder."""
    return claimed.name.split("~", 3)[-1]


def put_back(claimed: Path, folder: Path) -> Path | None:
    """Give a claimed file back to the folder under its own name (a free one where that is
    taken); None when it cannot be moved now (it stays claimed, and a later run gives it back)."""
    target = free_name(folder / original_name(claimed))
    try:
        os.rename(claimed, target)
    except OSError as error:
        logger.warning("results file %s could not be given back to %s: %s", original_name(claimed), folder, error)
        return None
    return target


def recover_claims(folder: Path) -> list[Path]:
    """Give back to the folder the files claimed by runs that are over (a run killed between
    reading and recording a file): files of no live process of this host."""
    claims = folder / CLAIMED
    if not claims.is_dir():
        return []
    back: list[Path] = []
    for claimed in sorted(claims.iterdir()):
        parts = claimed.name.split("~", 3)
        if len(parts) == 4 and parts[0] == _HOST and parts[1].isdigit() and _alive(int(parts[1])):
            continue
        if (target := put_back(claimed, folder)) is not None:
            logger.info("results file %s, taken by a run that is over, read again", target.name)
            back.append(target)
    return back


def _alive(pid: int) -> bool:
    if os.name != "posix":  # no safe check without a library: a claim is given back at the next start
        return pid == os.getpid()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_name(path: Path) -> Path:
    """``path``, or ``<stem>_<k><suffix>`` with the first free ``k`` when it exists."""
    if not path.exists():
        return path
    for k in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}_{k}{path.suffix}")
        if not candidate.exists():
            return candidate
    return path.with_name(f"{path.stem}_{math.floor(time.time())}{path.suffix}")
