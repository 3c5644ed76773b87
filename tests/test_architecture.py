"""The package tree's import rules (STYLE.md), read from the source with ``ast``.

Every import in ``doe/`` and ``app.py`` counts: ``import doe.x``, ``from doe import x``,
``from doe.x import y``, relative imports, imports inside functions and under
``TYPE_CHECKING``. Each module belongs to one layer of :data:`LAYERS`; a module may import
its own package and any layer below its own, nothing above and nothing beside it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "doe"

# lowest first; a module may import from earlier layers and from its own unit (the entry's
# package or module), never from a later layer or from another unit of the same layer
LAYERS: tuple[tuple[str, ...], ...] = (
    ("doe.errors", "doe.paths", "doe.version"),  # leaves: import nothing from doe
    ("doe.domain",),
    ("doe.templates",),  # names of configurations: the domain knows none of them
    ("doe.engine", "doe.storage", "doe.io", "doe.plots", "doe.simulate", "doe.datasets", "doe.instruments",
     "doe.workers"),  # workers: the suggestion queue (procrastinate); the campaign defers to it
    ("doe.campaign", "doe.auth"),  # auth: accounts and sign-in, beside the campaign
    ("doe.executors", "doe.report", "doe.demo"),  # demo: the campaign the app puts in an empty database
    ("doe.runner", "doe.calendar_run"),
    ("doe.ui", "doe.cli"),
    ("doe", "app"),  # the public API (doe/__init__.py) and the Streamlit entry
)
FRAMEWORKS = {"torch": "doe.engine", "botorch": "doe.engine", "gpytorch": "doe.engine",
              "linear_operator": "doe.engine", "sqlalchemy": "doe.storage", "alembic": "doe.storage",
              "streamlit": "doe.ui", "galvani": "doe.instruments", "NewareNDA": "doe.instruments",
              "impedance": "doe.instruments", "procrastinate": "doe.workers"}
FRAMEWORK_EXTRA = {"streamlit": {"app"}}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {_module_name(p): p for p in ROOT.rglob("*.py")}
    found["app"] = REPO / "app.py"
    return found


SOURCES = _sources()


def _imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` for every import in ``path``, relative ones resolved.

    ``from package import name`` yields ``package.name`` when that is a module of its own,
    else ``package``.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                yield node.lineno, full if full in SOURCES else source


def _contains(entry: str, module: str) -> bool:
    # "doe" is the package's __init__ alone: a new doe/x.py must be placed in the map
    return module == entry or (entry != "doe" and module.startswith(entry + "."))


def _unit(module: str) -> tuple[int, str] | None:
    """``(layer index, layer entry)`` of a doe module, or None where the map has no place for it."""
    for index, layer in enumerate(LAYERS):
        for entry in layer:
            if _contains(entry, module):
                return index, entry
    return None


def _is_doe(module: str) -> bool:
    return module == "doe" or module.startswith("doe.")


def layer_violations() -> list[str]:
    wrong = []
    for module, path in sorted(SOURCES.items()):
        own = _unit(module)
        if own is None:
            continue  # reported by test_every_module_has_a_place_in_the_layer_map
        for line, imported in _imports(module, path):
            if not _is_doe(imported):
                continue
            target = _unit(imported)
            where = f"{module}:{line} ({own[1]}) imports {imported}"
            if target is None:
                wrong.append(f"{where}, which is in no layer")
            elif target[1] == own[1]:
                continue
            elif target[0] > own[0]:
                wrong.append(f"{where} ({target[1]}), a higher layer")
            elif target[0] == own[0]:
                wrong.append(f"{where} ({target[1]}), beside it in the same layer")
    return wrong


def test_every_module_has_a_place_in_the_layer_map() -> None:
    entries = [entry for layer in LAYERS for entry in layer]
    assert len(entries) == len(set(entries))
    assert [m for m in sorted(SOURCES) if _unit(m) is None] == []
    assert [e for e in entries if not any(_contains(e, m) for m in SOURCES)] == []


def test_imports_point_down_the_layers_only() -> None:
    assert layer_violations() == []


def test_the_parser_sees_every_form_of_import() -> None:
    seen = dict.fromkeys(name for _, name in _imports("doe.ui.pages.campaigns", SOURCES["doe.ui.pages.campaigns"]))
    assert "doe.templates" in seen  # from doe import templates
    assert "doe.campaign" in seen
    # function-level imports (doe.cli.run imports the runner only when `doe run` runs)
    assert "doe.runner" in dict.fromkeys(name for _, name in _imports("doe.cli.run", SOURCES["doe.cli.run"]))


@pytest.mark.parametrize(("module", "line", "expected"), [
    ("doe.domain.config", "from doe import templates", "doe.templates"),
    ("doe.domain.config", "from doe.templates import load", "doe.templates"),
    ("doe.domain.config", "import doe.templates", "doe.templates"),
    ("doe.domain.config", "from .. import templates", "doe.templates"),
    ("doe.domain.config", "from ..templates import load", "doe.templates"),
    ("doe.domain.config", "from . import parameters", "doe.domain.parameters"),
    ("doe.domain", "from . import config", "doe.domain.config"),
    ("doe.domain.config", "def f():\n    from doe.campaign import Campaign", "doe.campaign"),
])
def test_imports_resolve_to_the_module_they_load(tmp_path: Path, module: str, line: str, expected: str) -> None:
    path = tmp_path / ("__init__.py" if module == "doe.domain" else "x.py")
    path.write_text(line + "\n")
    assert [name for _, name in _imports(module, path)] == [expected]


def test_a_reverse_import_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The check itself can fail: the domain importing templates (the old cycle) is refused."""
    bad = tmp_path / "config.py"
    bad.write_text(SOURCES["doe.domain.config"].read_text() + "\n\ndef _f():\n    from doe import templates\n")
    monkeypatch.setitem(SOURCES, "doe.domain.config", bad)
    assert any("imports doe.templates (doe.templates), a higher layer" in v for v in layer_violations())
    beside = tmp_path / "io.py"
    beside.write_text("from doe.engine import propose\n")
    monkeypatch.setitem(SOURCES, "doe.io", beside)
    assert any("beside it in the same layer" in v for v in layer_violations())


def test_frameworks_are_imported_only_in_their_layer() -> None:
    wrong = []
    for module, path in sorted(SOURCES.items()):
        for line, imported in _imports(module, path):
            framework = imported.split(".")[0]
            if framework not in FRAMEWORKS:
                continue
            home = FRAMEWORKS[framework]
            if not (_contains(home, module) or module in FRAMEWORK_EXTRA.get(framework, ())):
                wrong.append(f"{module}:{line} imports {imported}")
    assert wrong == []


def test_importing_doe_and_its_domain_loads_no_heavy_framework() -> None:
    code = ("import sys, doe, doe.domain, doe.templates, doe.errors; "
            "print(sorted(m for m in ('torch', 'botorch', 'gpytorch', 'sqlalchemy', 'streamlit', 'procrastinate') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
