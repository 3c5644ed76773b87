"""The README's promises: its Python example runs as written, and its commands are the ones
CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


@pytest.mark.slow
def test_the_python_example_runs_as_written(tmp_path) -> None:
    example = _blocks("python")[0]
    env = {**os.environ, "DOE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "first_cycle_ce_pct" in out.stdout


def test_ci_runs_the_readme_test_command() -> None:
    bash = _blocks("bash")
    assert "bash scripts/test.sh" in [b.strip() for b in bash]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^bash scripts/test.sh$", ci, flags=re.M)
    assert "set -euo pipefail" in ci


def test_setup_installs_the_cpu_torch_wheel_before_the_project() -> None:
    run_command = next(b for b in _blocks("bash") if "doe app" in b)
    assert run_command.index("pip install torch==2.13.0") < run_command.index('pip install ".[instruments]"')
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert script.index("pip install -q torch==2.13.0") < script.index('pip install -q -e ".[dev]"')
