"""Fixtures shared by every test: a real SQLite file per test, a real PostgreSQL server per
run (tests/postgres_server.py), Qt on the offscreen platform."""

from __future__ import annotations

import os
import shutil
import tempfile

# Before anything imports Qt: no display on CI machines or developers' containers.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("PORTAL_CONSOLE_DB", None)
os.environ.pop("PORTAL_CONSOLE_AUDIT_KEY", None)
os.environ.pop("PORTAL_CONSOLE_AUDIT_KEY_FILE", None)
# Never the developer's own settings file or log folder (removed when the run ends).
os.environ["PORTAL_CONSOLE_LOG_DIR"] = tempfile.mkdtemp(prefix="portal-console-tests-")
os.environ["PORTAL_CONSOLE_CONFIG"] = os.path.join(
    os.environ["PORTAL_CONSOLE_LOG_DIR"], "settings.toml"
)
# Qt's QSettings (window layout) and platformdirs both follow the XDG folders.
os.environ["XDG_CONFIG_HOME"] = os.environ["PORTAL_CONSOLE_LOG_DIR"]
# Never the developer's own keyring: tests that need one pass an in-memory backend.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.models.database import Database, open_database, resolve_database_url

# pytester: tests/test_qt_leaks.py runs a leaky test and shows that it fails.
pytest_plugins = ["tests.postgres_server", "tests.adapters.model_check", "pytester"]


def pytest_sessionfinish() -> None:
    shutil.rmtree(os.environ["PORTAL_CONSOLE_LOG_DIR"], ignore_errors=True)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a new SQLite file in the test's own temporary folder."""
    return resolve_database_url(str(tmp_path / "clinic.db"), {})


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    """An empty, migrated SQLite database."""
    db = open_database(sqlite_url)
    yield db
    db.dispose()
