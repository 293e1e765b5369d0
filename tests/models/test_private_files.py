"""Files that hold patient data are owner-only (issue 14, point 2): a new database and the
files SQLite keeps beside it, whatever the umask; one that others can read is reported when
opened and made private on request."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from console.models.database import open_database, resolve_database_url
from console.models.private_files import open_private, private_folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o002, 0o277])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A permissive, a very permissive and an odd umask (one that takes the owner's write)."""
    before = os.umask(request.param)
    yield request.param
    os.umask(before)


def test_a_new_database_and_its_wal_and_shm_files_are_owner_only(
    tmp_path: Path, umask: int
) -> None:
    path = tmp_path / "clinic.db"
    database = open_database(resolve_database_url(str(path), {}))
    try:
        with database.write() as connection:
            connection.execute(text("CREATE TABLE scratch (x INTEGER)"))
        with database.engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM scratch")).scalar()
            companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(p.exists() for p in companions)
            assert [mode(p) for p in (path, *companions)] == [0o600, 0o600, 0o600]
        assert database.exposure is None
    finally:
        database.dispose()


def test_folders_and_reports_made_for_patient_data_are_owner_only(
    tmp_path: Path, umask: int
) -> None:
    folder = tmp_path / "exports" / "2026"
    private_folder(folder)
    assert mode(folder) == mode(folder.parent) == 0o700
    report = folder / "report.csv"
    report.write_text("old", encoding="utf-8")
    report.chmod(0o644)
    with open_private(report, encoding="utf-8") as file:
        file.write("row,kind\n")
    assert mode(report) == 0o600 and report.read_text(encoding="utf-8") == "row,kind\n"


def test_a_database_others_can_read_is_reported_and_made_private(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    url = resolve_database_url(str(path), {})
    open_database(url).dispose()
    path.chmod(0o644)
    database = open_database(url)
    try:
        assert database.exposure is not None
        assert database.exposure.startswith(f"The database {path} can be read by other users")
        assert "portal-console fix-permissions" in database.exposure
        # SQLite made the WAL and shared-memory files with the database's own mode.
        companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert database.make_private() == [path, *companions]
        assert [mode(p) for p in (path, *companions)] == [0o600] * 3
        assert database.make_private() == []
    finally:
        database.dispose()
    again = open_database(url)
    assert again.exposure is None
    again.dispose()
