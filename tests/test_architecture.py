"""The package tree's import rules (STYLE.md): importing doe loads no torch, SQLAlchemy or
Streamlit; torch only in doe/engine, SQLAlchemy only in doe/storage, Streamlit only in doe/ui."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "doe"


def test_importing_doe_and_its_domain_loads_no_heavy_framework() -> None:
    code = ("import sys, doe, doe.domain, doe.templates, doe.errors; "
            "print(sorted(m for m in ('torch', 'botorch', 'gpytorch', 'sqlalchemy', 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_frameworks_are_imported_only_in_their_layer() -> None:
    allowed = {"torch": "engine", "botorch": "engine", "gpytorch": "engine", "linear_operator": "engine",
               "sqlalchemy": "storage", "alembic": "storage", "streamlit": "ui"}
    wrong = []
    for path in ROOT.rglob("*.py"):
        layer = path.relative_to(ROOT).parts[0]
        for module in _imports(path) & set(allowed):
            if layer != allowed[module]:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert wrong == []


def test_domain_imports_nothing_from_outer_layers() -> None:
    outer = {"engine", "storage", "ui", "campaign", "cli", "runner", "simulate", "plots"}
    wrong = []
    for path in (ROOT / "domain").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("doe.")
                    and node.module.split(".")[1] in outer):
                wrong.append(f"{path.name}: {node.module}")
    assert wrong == []
