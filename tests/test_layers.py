"""The part of STYLE.md's layer contract that import-linter cannot express: below views/,
only QtCore may be imported (adapters present data; drawing it is the views' job)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[1] / "console"


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


@pytest.mark.parametrize("layer", ["models", "services", "adapters"])
def test_only_qtcore_below_views(layer: str) -> None:
    files = sorted((CONSOLE / layer).rglob("*.py"))
    assert files
    offending = {
        str(path.relative_to(CONSOLE)): sorted(
            m for m in qt_modules_imported(path) if not m.startswith("PySide6.QtCore")
        )
        for path in files
    }
    allowed = {"PySide6"} if layer == "adapters" else set()
    assert {f: bad for f, bad in offending.items() if set(bad) - allowed} == {}


def test_the_check_sees_qt_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from PySide6.QtGui import QColor\nimport PySide6.QtWidgets\n")
    assert qt_modules_imported(sample) == {
        "PySide6.QtGui",
        "PySide6.QtGui.QColor",
        "PySide6.QtWidgets",
    }
