"""``scripts/gpu_check.sh --quick`` runs in CI (CPU half, tiny n), so the GPU check cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_quick_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "gpu.md"
    env = {**os.environ, "PYTHON": sys.executable, "GPU_CHECK_OUT": str(out)}
    done = subprocess.run(["bash", "scripts/gpu_check.sh", "--quick"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = out.read_text()
    assert "| cpu | 60 | float64 |" in report
    if not torch.cuda.is_available():
        assert "No CUDA device on this machine: only the CPU half was run." in report
