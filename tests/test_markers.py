"""The markers in pyproject select what they say: ``-m "not postgres"`` leaves out every test
that needs a PostgreSQL server, ``-m "not browser"`` the Chromium test (collection only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _collect(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 5), done.stdout[-3000:] + done.stderr[-3000:]  # 5: nothing selected
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_not_postgres_deselects_every_test_on_a_postgres_database() -> None:
    everything = _collect("tests/storage")
    on_postgres = [t for t in everything if "[postgres" in t]
    assert on_postgres, "the storage tests run on PostgreSQL too"
    assert sorted(_collect("tests/storage", "-m", "postgres")) == sorted(on_postgres)
    assert sorted(_collect("tests/storage", "-m", "not postgres")) == sorted(set(everything) - set(on_postgres))


def test_the_browser_test_is_marked_browser_and_slow() -> None:
    browser = _collect("tests/ui/test_e2e_browser.py")
    assert browser
    assert _collect("tests/ui/test_e2e_browser.py", "-m", "not browser") == []
    assert _collect("tests/ui/test_e2e_browser.py", "-m", "not slow") == []
