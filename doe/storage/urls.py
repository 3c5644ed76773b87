"""Database URLs shown to people, and the PostgreSQL connection handed to libpq's tools.

* :func:`mask_url`: a URL with every password hidden, in the user part
  (``user:password@``) and in the query (``?password=``, ``?passfile=``), which libpq and
  SQLAlchemy both accept. Every message, log line, banner and ``repr`` that names a database
  shows it through this function.
* :func:`mask_secrets`: a driver's or a tool's message with the URL (as written or as shown)
  and the password taken out (see its docstring for which passwords are blanked as bare text).
* :func:`pg_connection`: the libpq connection (conninfo text, password apart) that SQLAlchemy
  itself opens for a URL, so that ``pg_dump``/``pg_restore`` reach the same database as every
  other command, including host, port and options given in the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy.engine import URL

from doe.errors import StorageError

SECRET_KEYS = frozenset({"password", "passfile"})
"""Query parameters whose value is never shown (libpq's names)."""
MIN_BARE_SECRET = 8
"""A password is blanked where it stands alone in a message only from this length on: a
shorter one (``doe``) is likely a common word or part of one ("does"), and blanking it
everywhere would both mangle the message and show which letters are the password. libpq and
pg_dump never echo a password alone; where one appears it is inside the URL or a
``password=`` option, which are masked whatever its length."""
MASK = "***"

# [scheme:][//]user:password@  and  password=value (query or conninfo), for text that is not a URL
_CREDENTIALS = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.\-]*:)?/*[^:/@]*:).*@")
_SECRET_OPTION = re.compile(r"(?i)\b(password|passfile)(\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'\"]+)")


def _parse(url: str) -> URL | None:
    try:
        return sa.engine.make_url(url)
    except Exception:  # any text may be given: None, and it is masked as text
        return None


def mask_url(url: str) -> str:
    """``url`` with its password (user part and ``password``/``passfile`` query parameters)
    replaced by ``***``, for messages, logs and display."""
    parsed = _parse(url) if isinstance(url, str) else None
    if parsed is None:
        return _SECRET_OPTION.sub(rf"\1\2{MASK}", _CREDENTIALS.sub(rf"\1{MASK}@", str(url)))
    if parsed.get_backend_name() == "sqlite" and not parsed.query and parsed.password is None:  # no secret; rendered again it would
        return url  # percent-encode a path's accents and not its spaces
    query = {k: (MASK if k.lower() in SECRET_KEYS else v) for k, v in parsed.query.items()}
    shown = parsed.set(query=query).render_as_string(hide_password=True)
    return shown.replace("%2A%2A%2A", MASK)


def where_texts(url: str) -> tuple[str, ...]:
    """The texts that say where the database ``url`` is, as doe's messages name it: the URL as
    given and masked, and an SQLite file's path; the longest first (to take them out of a message)."""
    parsed = _parse(url) if isinstance(url, str) else None
    texts = {url, mask_url(url)}
    if parsed is not None and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        texts.add(str(parsed.database))
    return tuple(sorted((t for t in texts if t), key=len, reverse=True))


def url_password(url: str | URL) -> str | None:
    """The password a connection to ``url`` sends: the query's ``password`` (which wins, as in
    SQLAlchemy's PostgreSQL dialects) or the user part's."""
    parsed = _parse(url) if isinstance(url, str) else url
    if parsed is None:
        return None
    query = parsed.query.get("password")
    if isinstance(query, tuple):
        query = query[-1] if query else None
    return query if query else (None if parsed.password is None else str(parsed.password))


def mask_secrets(text: str, url: str | URL | None) -> str:
    """``text`` (a driver's or tool's message) without the secrets of ``url``.

    Blanked: the URL in any form it may be echoed (as written, as rendered by SQLAlchemy,
    percent-decoded) and any ``password=``/``passfile=`` option; the password alone only when
    it has at least :data:`MIN_BARE_SECRET` characters (see there why not a shorter one)."""
    if url is not None:
        parsed = _parse(url) if isinstance(url, str) else url
        forms = {url if isinstance(url, str) else url.render_as_string(hide_password=False)}
        if parsed is not None:
            forms.add(parsed.render_as_string(hide_password=False))
        forms |= {unquote(f) for f in forms}
        for form in sorted(forms, key=len, reverse=True):
            if form:
                text = text.replace(form, mask_url(form))
        password = url_password(parsed) if parsed is not None else None
        if password and len(password) >= MIN_BARE_SECRET:
            text = text.replace(password, MASK)
    return _SECRET_OPTION.sub(rf"\1\2{MASK}", text)


@dataclass(frozen=True)
class PgConnection:
    """How libpq reaches a PostgreSQL database: ``conninfo`` (``key='value'`` pairs, no
    password) for ``--dbname`` or :func:`psycopg.connect`, and the password apart (for
    ``PGPASSWORD``, never a command line)."""

    conninfo: str
    password: str | None
    shown: str
    """The URL, masked, for messages."""


def pg_connection(url: URL) -> PgConnection:
    """The connection SQLAlchemy's psycopg dialect opens for ``url`` (host, port, user, database
    and every query option such as ``host=/run/pg``, ``sslmode`` or ``options``), as conninfo."""
    from psycopg.conninfo import make_conninfo

    url = url.set(drivername="postgresql+psycopg")
    shown = mask_url(url.render_as_string(hide_password=False))
    try:
        _, params = url.get_dialect()().create_connect_args(url)
    except (sa.exc.ArgumentError, ValueError) as err:
        raise StorageError(f"database {shown!r}: {mask_secrets(str(err), url)}") from err
    password = params.pop("password", None)
    settings: dict[str, Any] = {k: str(v) for k, v in params.items() if v is not None}
    try:
        conninfo = make_conninfo("", **settings)
    except Exception as err:  # psycopg.ProgrammingError: an option libpq does not know
        raise StorageError(f"database {shown!r}: {mask_secrets(str(err), url)}") from err
    return PgConnection(conninfo, None if password is None else str(password), shown)


__all__ = ["MIN_BARE_SECRET", "PgConnection", "mask_secrets", "mask_url", "pg_connection", "url_password", "where_texts"]
