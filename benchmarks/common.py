"""Shared helpers of the benchmark scripts: environment stamp, threads, statistics, output.

The benchmarks are scripts, not part of the ``doe`` package: they may print, and they write
their results as Markdown under ``benchmarks/results/``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""
RESULTS = Path(__file__).resolve().parent / "results"
"""Where the committed results go."""
MATERIALS_DATA = Path(os.environ.get("DOE_MATERIALS_DATA", "/work/shared/benchmarks/materials"))
"""The public materials datasets (Liang et al. 2021), see that folder's README.md."""
BENCH_VENV_PYTHON = Path(os.environ.get("DOE_BENCH_PYTHON", str(ROOT / ".venv-bench" / "bin" / "python")))
"""Python of the separate venv holding the peers (Ax, BayBE)."""

VERSIONED = ("doe", "torch", "botorch", "gpytorch", "numpy", "scipy", "pandas", "scikit-learn")


def single_thread() -> None:
    """One BLAS/torch thread per process: the benchmarks run at most two processes on two
    shared cores, and timings are less noisy without oversubscription."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import torch

    torch.set_num_threads(1)


def command_line() -> str:
    """The command that started this process, as a user would type it from the repo root
    (the benchmarks run as modules: ``python -m benchmarks.bench_x``)."""
    script = Path(sys.argv[0]).resolve()
    try:
        module = ".".join(script.relative_to(ROOT).with_suffix("").parts)
    except ValueError:
        return shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])
    return shlex.join([".venv/bin/python", "-m", module, *sys.argv[1:]])


def package_versions(names: Iterable[str] = VERSIONED) -> dict[str, str]:
    out: dict[str, str] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> str:
    """Cores, CPU model and GPU (if torch sees one)."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = "no GPU available on this machine"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = f"GPU: {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.machine()}; {gpu}"


def git_revision(root: Path | str = ROOT) -> str:
    """Short commit of the checkout at ``root`` (this one by default), marked when it has
    uncommitted changes; ``"unknown"`` when git cannot tell."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                               text=True, check=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def header(title: str, *, command: str | None = None, runtime_s: float | None = None,
           extra_versions: dict[str, str] | None = None) -> str:
    """The Markdown preamble every result file starts with: command, date, machine, versions."""
    versions = package_versions()
    if extra_versions:
        versions.update(extra_versions)
    lines = [
        f"# {title}",
        "",
        f"- Command (from the repository root): `{command or command_line()}`",
        f"- Date: {_dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Machine: {machine()}; torch threads per process: 1",
        f"- Code: git {git_revision()}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
    ]
    if runtime_s is not None:
        lines.append(f"- Wall time of the run: {format_duration(runtime_s)}")
    return "\n".join(lines) + "\n"


LABS = ("virtual", "second", "needle", "third", "coupled", "mirror")
"""The simulated labs of the closed-loop benchmarks (see :func:`make_lab`)."""


def make_lab(lab: str, seed: int) -> Any:
    """A simulated lab with ``run`` and ``truth``: ``"virtual"`` (:class:`doe.simulate.VirtualLab`,
    tuning), ``"second"`` (:class:`benchmarks.second_lab.SecondLab`, test), ``"needle"``
    (:class:`benchmarks.needle_lab.NeedleLab`, tuning), ``"third"``
    (:class:`benchmarks.third_lab.ThirdLab`, test) or ``"coupled"``
    (:class:`benchmarks.coupled_lab.CoupledLab`, furnace batches only) or ``"mirror"``
    (:class:`benchmarks.mirror_lab.MirrorLab`, tuning, furnace batches)."""
    if lab == "virtual":
        from doe.simulate import VirtualLab

        return VirtualLab(seed)
    if lab == "second":
        from benchmarks.second_lab import SecondLab

        return SecondLab(seed)
    if lab == "needle":
        from benchmarks.needle_lab import NeedleLab

        return NeedleLab(seed)
    if lab == "third":
        from benchmarks.third_lab import ThirdLab

        return ThirdLab(seed)
    if lab == "coupled":
        from benchmarks.coupled_lab import CoupledLab

        return CoupledLab(seed)
    if lab == "mirror":
        from benchmarks.mirror_lab import MirrorLab

        return MirrorLab(seed)
    raise ValueError(f"unknown lab {lab!r}; choose from {LABS}")


HAND_WRITTEN = ("\n## Notes (hand-written", "\n## Reading (hand-written")
"""Headings of the sections written by hand below a generated result; a rerun keeps them."""


def write_result(path: Path, text: str) -> None:
    """Write a generated Markdown result to ``path``, keeping the hand-written sections
    (:data:`HAND_WRITTEN`, from the first of them to the end) of the file already there."""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        starts = [i for i in (old.find(h) for h in HAND_WRITTEN) if i >= 0]
        if starts:
            text = text.rstrip("\n") + "\n" + old[min(starts):]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def format_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def progress_logger(name: str, log_file: Path | None) -> logging.Logger:
    """A logger that writes timestamped progress lines to stderr and, if given, a file."""
    logger = logging.getLogger(f"benchmarks.{name}")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for h in handlers:
        h.setFormatter(fmt)
        logger.addHandler(h)
    logger.propagate = False
    return logger


def quartiles(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """(25 %, median, 75 %) of the finite values; NaN if there are none."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return (float("nan"),) * 3  # type: ignore[return-value]
    q = np.percentile(arr, [25, 50, 75])
    return float(q[0]), float(q[1]), float(q[2])


def median_with_misses(values: Sequence[float]) -> tuple[float, int]:
    """Median of counts where ``inf`` means "not reached": the median is ``inf`` when more
    than half missed. Returns (median, number not reached)."""
    arr = np.asarray(values, dtype=float)
    misses = int(np.sum(~np.isfinite(arr)))
    return float(np.median(arr)), misses


def fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if np.isinf(value):
        return "not reached"
    return f"{value:.{digits}f}"


def paired_text(by_seed: Any, variant: str, baseline: str = "default") -> str:
    """``variant`` against ``baseline`` seed by seed (columns of ``by_seed``, one row per seed):
    mean difference; seeds better / worse; two-sided Wilcoxon signed-rank p ("-" for the
    baseline itself or when it is missing)."""
    from scipy.stats import wilcoxon

    if variant == baseline or baseline not in by_seed:
        return "-"
    diff = (by_seed[variant] - by_seed[baseline]).dropna().to_numpy()
    p = wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0
    return f"{diff.mean():+.2f}; {int((diff > 0).sum())} / {int((diff < 0).sum())}; p = {p:.3f}"


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def pareto_front_2d(points: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``points`` (n, 2), both columns larger-is-better."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return pts
    order = np.lexsort((-pts[:, 1], -pts[:, 0]))  # by x desc, then y desc
    front = []
    best_y = -np.inf
    for i in order:
        if pts[i, 1] > best_y:
            front.append(pts[i])
            best_y = pts[i, 1]
    return np.array(front)


def hypervolume_2d(points: np.ndarray, reference: Sequence[float]) -> float:
    """Area dominated by ``points`` (n, 2, larger is better) and bounded below by ``reference``."""
    ref = np.asarray(reference, dtype=float)
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = pts[np.all(pts > ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    front = pareto_front_2d(pts)  # x descending, y ascending
    area = 0.0
    prev_y = ref[1]
    for x, y in front:
        area += (x - ref[0]) * (y - prev_y)
        prev_y = y
    return float(area)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
