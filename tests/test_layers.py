"""The part of STYLE.md's layer contract that import-linter cannot express: below views/,
only QtCore may be imported (adapters present data; drawing it is the views' job); and
every presenter is named in the "Presenters import no Qt" contract (import-linter cannot
name modules by a pattern), and indeed loads no Qt."""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = ROOT / "console"
QT_FREE_VIEW_MODULES = {"console.views.address_verdict", "console.views.handout_text"}
PRESENTERS = sorted(
    f"console.views.{path.stem}" for path in (CONSOLE / "views").glob("*_presenter.py")
)


def qt_modules_imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith(("PySide6", "shiboken6"))}


@pytest.mark.parametrize("layer", ["models", "services", "workers", "adapters"])
def test_only_qtcore_below_views(layer: str) -> None:
    files = sorted((CONSOLE / layer).rglob("*.py"))
    assert files
    offending = {
        str(path.relative_to(CONSOLE)): sorted(
            m for m in qt_modules_imported(path) if not m.startswith("PySide6.QtCore")
        )
        for path in files
    }
    allowed = {"PySide6"} if layer in ("adapters", "workers") else set()
    assert {f: bad for f, bad in offending.items() if set(bad) - allowed} == {}


def test_the_check_sees_qt_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from PySide6.QtGui import QColor\nimport PySide6.QtWidgets\n")
    assert qt_modules_imported(sample) == {
        "PySide6.QtGui",
        "PySide6.QtGui.QColor",
        "PySide6.QtWidgets",
    }


def test_every_presenter_is_in_the_no_qt_contract() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = settings["tool"]["importlinter"]["contracts"]
    (no_qt,) = [c for c in contracts if c["name"] == "Presenters import no Qt"]
    assert set(no_qt["forbidden_modules"]) == {"PySide6", "shiboken6"}
    assert len(PRESENTERS) >= 11
    # Every presenter, and the Qt-free wording modules presenters use.
    assert set(PRESENTERS) <= set(no_qt["source_modules"])
    assert all(
        name in PRESENTERS or name in QT_FREE_VIEW_MODULES for name in no_qt["source_modules"]
    )


def test_presenters_load_no_qt() -> None:
    """What the contract says, seen at run time: importing every presenter in a fresh
    interpreter loads no Qt module (so their tests need no display and no QApplication)."""
    script = (
        "import importlib, sys\n"
        f"for name in {PRESENTERS!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


_DATABASE_WORDS = ("Session", "Connection", "Engine", "Database")


def is_value(thing: object) -> bool:
    """A value type (dataclass, enum, named tuple), a constant, or a pure function over
    values: nothing that is, holds or takes a database connection."""
    if isinstance(thing, type):
        if hasattr(thing, "__table__") or thing.__name__ in _DATABASE_WORDS:
            return False  # an ORM row or a database handle
        return dataclasses.is_dataclass(thing) or issubclass(thing, enum.Enum | tuple)
    if inspect.isfunction(thing):
        annotations = [str(p.annotation) for p in inspect.signature(thing).parameters.values()]
        return not any(word in text for text in annotations for word in _DATABASE_WORDS)
    return isinstance(thing, str | int | float | frozenset | tuple | dict)


def names_taken_from_models(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("console.models")
        for alias in node.names
    ]


@pytest.mark.parametrize("layer", ["views", "adapters"])
def test_views_and_adapters_take_only_values_from_models(layer: str) -> None:
    taken = {
        (module, name)
        for path in sorted((CONSOLE / layer).rglob("*.py"))
        for module, name in names_taken_from_models(path)
    }
    assert taken  # the check can fail: these layers do read values from models
    not_values = sorted(
        f"{module}.{name}"
        for module, name in taken
        if not is_value(getattr(importlib.import_module(module), name))
    )
    assert not_values == []


def test_the_value_check_refuses_rows_queries_and_handles() -> None:
    from console.models.account_list import iter_account_rows
    from console.models.database import Database
    from console.models.schema import PortalAccount
    from console.models.states import AccountState

    assert is_value(AccountState) and not is_value(PortalAccount)
    assert not is_value(Database) and not is_value(iter_account_rows)


def test_views_hold_a_desk_not_the_workstation() -> None:
    """The workstation carries the database: views get a desk that runs service calls."""
    holding = sorted(
        str(path.relative_to(CONSOLE))
        for path in (CONSOLE / "views").rglob("*.py")
        if any(name == "Workstation" for _module, name in names_imported(path))
    )
    assert holding == []


def names_imported(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.module or "", alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
