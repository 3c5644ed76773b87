"""The markers in pyproject select what they say: ``-m "not postgres"`` leaves out every test
that needs a PostgreSQL server, ``-m "not browser"`` the Chromium test (collection only)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _collect(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 5), done.stdout[-3000:] + done.stderr[-3000:]  # 5: nothing selected
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_not_postgres_deselects_every_test_on_a_postgres_database() -> None:
    everything = _collect("tests/storage")
    # the store_url[postgres] tests (and their postgres-... combinations), not ids that merely
    # contain a postgresql:// URL
    on_postgres = {t for t in everything if re.search(r"\[postgres[-\]]", t)}
    assert on_postgres, "the storage tests run on PostgreSQL too"
    # and a test that asks for the postgres_url fixture itself
    on_postgres.add("tests/storage/test_backup.py::test_postgres_dump_and_restore_are_identical")
    marked = set(_collect("tests/storage", "-m", "postgres"))
    assert on_postgres <= marked
    assert all(re.search(r"\[postgres[-\]]|postgres_", t) for t in marked), sorted(marked)
    assert sorted(_collect("tests/storage", "-m", "not postgres")) == sorted(set(everything) - marked)


@pytest.mark.parametrize("path", ["tests/ui/test_e2e_browser.py", "tests/ui/test_e2e_signin.py",
                                  "tests/ui/test_e2e_oidc.py", "tests/ui/test_e2e_cycler.py"])
def test_the_browser_tests_are_marked_browser_and_slow(path: str) -> None:
    browser = _collect(path)
    assert browser
    assert _collect(path, "-m", "not browser") == []
    assert _collect(path, "-m", "not slow") == []
