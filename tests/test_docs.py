"""The documentation site builds with ``mkdocs build --strict`` (a broken link, image or API
reference fails it), and its generated pages hold every command and the API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from doe.cli import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_cli_reference_lists_every_command(site: Path) -> None:
    page = (site / "reference" / "cli" / "index.html").read_text()
    import click

    for name in cli.list_commands(click.Context(cli)):
        assert f"doe {name}" in page, name
    assert "--engine" in page and "--active-mass-mg" in page


def test_the_api_reference_comes_from_the_docstrings(site: Path) -> None:
    page = (site / "reference" / "api" / "index.html").read_text()
    for anchor in ("doe.campaign.Campaign.suggest", "doe.campaign.Campaign.record_files",
                   "doe.engine.EngineSettings", "doe.simulate.VirtualLab"):
        assert f'id="{anchor}"' in page, anchor
    assert "a preview, recorded only with" in page  # text of Campaign.record_files' docstring


def test_the_tutorial_shows_the_screenshots_of_the_browser_test(site: Path) -> None:
    page = (site / "tutorials" / "process-engineers" / "index.html").read_text()
    images = re.findall(r'src="\.\./\.\./images/([a-z]+\.png)"', page)
    assert sorted(images) == ["campaigns.png", "history.png", "insights.png", "plan.png", "record.png"]
    for image in images:
        assert (site / "images" / image).stat().st_size > 20_000


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# x\n\nSee [the missing page](missing.md).\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nvalidation:\n  links:\n    not_found: warn\n")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode != 0 and "missing.md" in done.stderr
