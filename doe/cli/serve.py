"""``doe app``: serve the web app, refusing an open server on a shared address."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from doe.cli.common import Env, cli, common_options, engine_option, engine_settings, masked
from doe.errors import DoeError

STREAMLIT_OPTIONS: tuple[str, ...] = (
    "--server.headless", "true", "--browser.gatherUsageStats", "false",
    # a lab tool, not a Streamlit development session: no "Deploy" button, no developer menu
    "--client.toolbarMode", "viewer",
)
"""Options of every ``streamlit run`` that serves the app (the browser tests start it with them too)."""


# ---------------------------------------------------------------------- app
@cli.command()
@click.option("--host", default="localhost", show_default=True, help="Address to serve on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.option("--allow-open-server", is_flag=True,
              help="Serve on a non-local address without any sign-in (anyone who reaches it can change "
                   "everything). Without it, such a server needs accounts (doe user add) or single sign-on.")
@engine_option
@common_options
def app(host: str, port: int, allow_open_server: bool, engine_overrides: tuple[str, ...], env: Env) -> None:
    """Start the web app (Streamlit) on the database.

    Before the server answers, it loads the modelling libraries and fits the models of the
    three most recently changed campaigns (waiting 20 s at most; longer fits go on in the
    background), so that the first visit does not wait for them.

    On localhost with no accounts the app is open (single-user use). Once accounts exist
    (`doe user add`) or single sign-on is configured (DOE_OIDC_* or a Streamlit secrets file
    with [auth]), it asks for a sign-in.
    """
    from doe.auth import serving
    from doe.paths import data_home
    from doe.storage.accounts import AccountStore

    entry = Path(__file__).resolve().parents[1] / "ui" / "launch" / "app.py"  # no pages/ folder beside it
    if not entry.is_file():
        raise DoeError(f"the web app is not installed with this package (missing {entry})")
    try:
        oidc = serving.oidc_from_env(os.environ, host, port)
    except ValueError as err:
        raise DoeError(str(err)) from None
    has_accounts = AccountStore.open(env.db).any_accounts()  # the app asks for a sign-in once any exists
    has_sso = oidc is not None or serving.has_oidc_secrets(serving.secrets_files())
    if not serving.is_loopback(host) and not (has_accounts or has_sso) and not allow_open_server:
        raise DoeError(
            f"refusing to serve on {host!r} without sign-in: anyone who reaches it could change every "
            "campaign. Create an admin account first (doe user add admin --role admin), or configure "
            "single sign-on (DOE_OIDC_METADATA_URL, DOE_OIDC_CLIENT_ID, DOE_OIDC_CLIENT_SECRET), or "
            "serve on localhost; pass --allow-open-server only if an open server is what you want")
    os.environ["DOE_DATABASE_URL"] = env.db
    if has_accounts or has_sso:  # started asking for a sign-in: it never falls back to an open app
        os.environ[serving.SIGN_IN_REQUIRED_ENV] = "1"
    if engine_overrides:  # checked here, applied by the app to every suggestion
        engine_settings(False, engine_overrides)
        existing = os.environ.get("DOE_ENGINE_SETTINGS", "").strip()
        os.environ["DOE_ENGINE_SETTINGS"] = ";".join([existing or "default", *engine_overrides])
    # A database without campaigns gets the demo campaign before the first visit (doe.demo).
    from doe.demo import seed_demo_campaign

    seed_demo_campaign(env.db)
    prepare_job_queue(env.db)
    if env.actor:
        os.environ["DOE_ACTOR"] = env.actor
    # Streamlit's command line, once the app's libraries are imported and recent models fitted
    args = [sys.executable, "-m", "doe.ui.server", "run", str(entry), *STREAMLIT_OPTIONS,
            "--server.address", host, "--server.port", str(port)]
    if oidc is not None:
        secrets_path = serving.write_secrets(oidc, data_home() / "run" / f"secrets-{port}.toml")
        args += ["--secrets.files", str(secrets_path)]
    login = "single sign-on" if has_sso else "built-in accounts" if has_accounts else "none (open)"
    click.echo(f"serving the doe app on http://{host}:{port} (database {masked(env.db)}; sign-in: {login}); "
               "Ctrl-C stops it", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)


def prepare_job_queue(db: str) -> None:
    """On PostgreSQL with procrastinate installed, create the job queue's tables if missing, so
    the app can queue suggestions for ``doe worker`` processes started later."""
    from doe.workers import ensure_schema, is_postgres, queue_installed

    if is_postgres(db) and queue_installed():
        ensure_schema(db)
