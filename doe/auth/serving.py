"""Where the web app may be served without sign-in, and single sign-on settings.

Local single-user use needs no login: ``doe app`` on a loopback address with no accounts is
open, as before. On any other address the app must ask for a sign-in: built-in accounts in
the database, or OpenID Connect through Streamlit's ``st.login`` (an ``[auth]`` section in a
Streamlit secrets file, or the ``DOE_OIDC_*`` variables that ``doe app`` writes into one).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path

OIDC_ENV = {
    "server_metadata_url": "DOE_OIDC_METADATA_URL",
    "client_id": "DOE_OIDC_CLIENT_ID",
    "client_secret": "DOE_OIDC_CLIENT_SECRET",
    "redirect_uri": "DOE_OIDC_REDIRECT_URI",
    "cookie_secret": "DOE_OIDC_COOKIE_SECRET",
}
"""Streamlit ``[auth]`` key -> environment variable read by ``doe app``."""
OIDC_REQUIRED = ("server_metadata_url", "client_id", "client_secret")
SIGN_IN_REQUIRED_ENV = "DOE_SIGN_IN_REQUIRED"
"""Set to ``1`` by ``doe app`` when it starts with accounts or single sign-on: the app it serves then
never opens without a sign-in, even once the database has no account (a backup without accounts
restored under it)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine (localhost, 127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def oidc_from_env(env: Mapping[str, str], host: str, port: int) -> dict[str, str] | None:
    """The ``[auth]`` settings from ``DOE_OIDC_*`` (None when no client id is set).

    The redirect URI defaults to ``http://<host>:<port>/oauth2callback``; served on every
    address (``0.0.0.0``, ``::``) it must be given.

    Raises ValueError naming the missing variables when the settings are incomplete.
    """
    values = {key: env.get(var, "").strip() for key, var in OIDC_ENV.items()}
    if not any(values[k] for k in OIDC_REQUIRED):
        return None
    missing = [OIDC_ENV[k] for k in OIDC_REQUIRED if not values[k]]
    if missing:
        raise ValueError(f"single sign-on is half configured: set {', '.join(missing)} as well")
    if not values["redirect_uri"]:
        if host.strip().strip("[]") in ("0.0.0.0", "::", ""):  # every address: which one browsers use is not known
            raise ValueError(
                f"single sign-on on {host or 'every address'!r}: set DOE_OIDC_REDIRECT_URI to the address "
                "your users' browsers reach, as registered with the provider (for example "
                "https://doe.lab.example/oauth2callback); the provider sends every sign-in back there")
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host  # an IPv6 address
        values["redirect_uri"] = f"http://{shown}:{port}/oauth2callback"
    if not values["cookie_secret"]:
        # signs the login cookie; a new one per start signs everybody out on restart
        values["cookie_secret"] = secrets.token_urlsafe(32)
    return values


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    if any(ord(ch) < 32 for ch in escaped):
        raise ValueError("an OIDC setting contains a control character")
    return f'"{escaped}"'


def write_secrets(settings: Mapping[str, str], path: Path) -> Path:
    """Write ``settings`` as a Streamlit secrets file with an ``[auth]`` section, readable by
    the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "[auth]\n" + "".join(f"{key} = {_toml_string(value)}\n" for key, value in settings.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)
    return path


def secrets_files(cwd: Path | None = None) -> list[Path]:
    """Streamlit's default secrets files: ``~/.streamlit/secrets.toml`` and ``./.streamlit/secrets.toml``."""
    return [Path.home() / ".streamlit" / "secrets.toml", (cwd or Path.cwd()) / ".streamlit" / "secrets.toml"]


def has_oidc_secrets(files: list[Path]) -> bool:
    """Whether one of ``files`` has an ``[auth]`` section with a client id."""
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        section = data.get("auth")
        if isinstance(section, dict) and (section.get("client_id") or any(
                isinstance(v, dict) and v.get("client_id") for v in section.values())):
            return True
    return False


__all__ = ["OIDC_ENV", "has_oidc_secrets", "is_loopback", "oidc_from_env", "secrets_files", "write_secrets"]
