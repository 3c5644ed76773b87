"""``python -m doe.ui.server run app.py [streamlit options]``: Streamlit's own command line, run
once the app's libraries are imported and the recent campaigns' models are fitted.

Streamlit imports what a page needs only when the first visitor's script runs, and the app's
warm-up (:func:`doe.ui.resources.warm_up`) starts then too, so without this the first visit after
a start waited for torch, BoTorch and Plotly to import (about 2-3 s on 2 cores) while model fits
ran beside its page. Here both happen before the server answers: the imports, then the fits of
the :data:`~doe.ui.resources.WARM_CAMPAIGNS` most recently changed campaigns, waited for up to
:data:`WARM_WAIT_S` (longer fits go on in the background). ``doe app`` starts the server this
way, and so do the browser tests and ``benchmarks/bench_app.py``."""

from __future__ import annotations

import importlib
import logging
import sys
import time

PRELOAD: tuple[str, ...] = (
    "torch",
    "gpytorch",
    "botorch",
    "plotly.graph_objects",
    "doe.campaign",
    "doe.engine",
    "doe.plots",
)
"""Modules imported before the server starts."""
WARM_WAIT_S = 20.0
"""The longest the server start waits for the recent campaigns' model fits."""

logger = logging.getLogger(__name__)


def prepare() -> None:
    """Import :data:`PRELOAD` and fit the recent campaigns' models (a failure is logged: the
    pages report it, e.g. an unreachable database, when they are opened)."""
    started = time.perf_counter()
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # the page that needs it reports it when it is opened
            logger.exception("importing %s before the server starts failed", name)
    import streamlit  # noqa: F401 - sets up its loggers, one of which is quietened below

    # the app's data caches are created inside the Streamlit runtime at their first call; their
    # declaration here, before the runtime exists, only logs that it is missing
    caching = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = caching.level
    caching.setLevel(logging.ERROR)
    try:
        from doe.ui import resources
    finally:
        caching.setLevel(level)
    try:
        ready = resources.warm_up_and_wait(resources.database_url(), WARM_WAIT_S)
    except Exception:  # the server still starts; the page says what is wrong when opened
        logger.exception("preparing the app's campaigns failed")
        ready = []
    print(f"doe: app prepared in {time.perf_counter() - started:.1f} s (models ready: {', '.join(ready) or 'none'})",
          file=sys.stderr)


def main() -> None:
    """:func:`prepare`, then hand the command line to Streamlit."""
    prepare()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *sys.argv[1:]]
    streamlit_main()


if __name__ == "__main__":
    main()
