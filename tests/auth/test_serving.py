"""Local addresses and single-sign-on settings for ``doe app``."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from doe.auth.serving import has_oidc_secrets, is_loopback, oidc_from_env, write_secrets


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "LOCALHOST"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "lab-server", "10.0.0.1", ""])
def test_other_addresses_are_not_local(host: str) -> None:
    assert not is_loopback(host)


def test_oidc_settings_from_env_round_trip_through_a_private_secrets_file(tmp_path: Path) -> None:
    env = {"DOE_OIDC_METADATA_URL": "https://idp.example/.well-known/openid-configuration",
           "DOE_OIDC_CLIENT_ID": "doe", "DOE_OIDC_CLIENT_SECRET": 'se"cr\\et'}
    settings = oidc_from_env(env, "lab-server", 8600)
    assert settings is not None
    assert settings["redirect_uri"] == "http://lab-server:8600/oauth2callback"
    assert len(settings["cookie_secret"]) >= 32
    path = write_secrets(settings, tmp_path / "run" / "secrets.toml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tomllib.loads(path.read_text())["auth"] == settings
    assert has_oidc_secrets([tmp_path / "missing.toml", path])
    assert oidc_from_env({}, "localhost", 8501) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]"])
def test_sso_on_every_address_needs_the_redirect_uri_the_browsers_use(host: str) -> None:
    """On 0.0.0.0 the default redirect was http://localhost:<port>/oauth2callback: after the
    provider's sign-in, every browser on another machine was sent to itself."""
    env = {"DOE_OIDC_METADATA_URL": "https://idp.example/.well-known/openid-configuration",
           "DOE_OIDC_CLIENT_ID": "doe", "DOE_OIDC_CLIENT_SECRET": "secret"}
    with pytest.raises(ValueError, match="set DOE_OIDC_REDIRECT_URI to the address your users' browsers reach"):
        oidc_from_env(env, host, 8501)
    given = {**env, "DOE_OIDC_REDIRECT_URI": "https://doe.lab.example/oauth2callback"}
    settings = oidc_from_env(given, host, 8501)
    assert settings is not None and settings["redirect_uri"] == "https://doe.lab.example/oauth2callback"
    named = oidc_from_env(env, "fd00::5", 8501)  # a named IPv6 address: in brackets in a URL
    assert named is not None and named["redirect_uri"] == "http://[fd00::5]:8501/oauth2callback"


def test_half_configured_oidc_names_the_missing_variables() -> None:
    with pytest.raises(ValueError, match="DOE_OIDC_CLIENT_SECRET"):
        oidc_from_env({"DOE_OIDC_CLIENT_ID": "doe", "DOE_OIDC_METADATA_URL": "https://x"}, "h", 1)


def test_secrets_without_auth_are_not_sso(tmp_path: Path) -> None:
    other = tmp_path / "secrets.toml"
    other.write_text('[db]\npassword = "x"\n')
    broken = tmp_path / "broken.toml"
    broken.write_text("[auth\n")
    assert not has_oidc_secrets([other, broken])
