"""Database URLs shown to people, and the PostgreSQL connection handed to libpq's tools.

* :func:`mask_url`: a URL with every password hidden, in the user part
  (``user:password@``) and in the query (``?password=``, ``?passfile=``), which libpq and
  SQLAlchemy both accept. Every message, log line, banner and ``repr`` that names a database
  shows it through this function.
* :func:`mask_secrets`: a driver's or a tool's message with the URL (as written or as shown)
  and the password taken out (see its docstring for which passwords are blanked as bare text).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy.engine import URL

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
    query = {k: (MASK if k.lower() in SECRET_KEYS else v) for k, v in parsed.query.items()}
    shown = parsed.set(query=query).render_as_string(hide_password=True)
    return shown.replace("%2A%2A%2A", MASK)


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


__all__ = ["MIN_BARE_SECRET", "mask_secrets", "mask_url", "url_password"]
