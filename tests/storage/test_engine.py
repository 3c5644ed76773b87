"""Database URLs: a plain path is the SQLite file exactly as written (a '?' or '%' in its
name included), a URL keeps a URL's meaning. Real SQLite files in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from doe import Campaign
from doe.errors import StorageError
from doe.storage.engine import resolve_url, sqlite_path, sqlite_url
from doe.templates import resolve_config

NAMES = ["run?2.sqlite3", "lab 100%25.sqlite3", "a#b&c=d;e.sqlite3", "Müller ?%3F@x:y.sqlite3", "plain.sqlite3"]
CONFIG = resolve_config("hfo2-ncm85")


def _files(folder: Path) -> list[str]:
    """The database files in ``folder``, without SQLite's -wal and -shm files beside them."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm")))


# any file name: printable text and spaces, no folder separator and no NUL (no file can have them)
FILE_NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1,
                     max_size=40).filter(lambda s: s not in (".", ".."))


@given(FILE_NAMES)
def test_the_url_of_a_file_reads_back_as_that_file(name: str) -> None:
    path = Path("/data/lab") / name
    url = sqlite_url(path)
    assert sqlite_path(url) == path
    assert not make_url(url).query  # nothing in the name became URL options


@pytest.mark.parametrize("name", NAMES)
def test_a_plain_path_is_the_file_exactly_as_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    campaign = Campaign.from_config(CONFIG, storage=str(path), name="coating", actor="tester")
    assert _files(tmp_path) == [name]
    assert sqlite_path(campaign.storage_url) == path
    assert resolve_url(str(path)) == (campaign.storage_url, False)
    # the same file again, by its path and by the URL doe reports for it
    assert Campaign.load("coating", storage=str(path)).name == "coating"
    assert Campaign.load("coating", storage=campaign.storage_url).name == "coating"
    assert _files(tmp_path) == [name]


def test_a_url_keeps_the_meaning_of_a_url(tmp_path: Path) -> None:
    """In a URL '%3F' is an escaped '?' and what follows a '?' are options, as SQLAlchemy reads it."""
    Campaign.from_config(CONFIG, storage=f"sqlite:///{tmp_path}/notes%3Fv2.sqlite3", name="a", actor="tester")
    Campaign.from_config(CONFIG, storage=f"sqlite:///{tmp_path}/plain.sqlite3?timeout=5", name="b",
                         actor="tester")
    assert _files(tmp_path) == ["notes?v2.sqlite3", "plain.sqlite3"]


def test_the_folder_of_a_new_file_is_made(tmp_path: Path) -> None:
    path = tmp_path / "new?folder" / "doe.sqlite3"
    resolve_url(str(path))
    assert path.parent.is_dir() and _files(tmp_path) == ["new?folder"]


def test_a_path_with_a_colon_still_needs_dot_slash() -> None:
    with pytest.raises(StorageError, match="looks like a URL"):
        resolve_url("postgresql:/user:pw@host/db")
    url, _ = resolve_url("./ab:cd?.sqlite3")
    assert sqlite_path(url) == Path("ab:cd?.sqlite3").resolve()

