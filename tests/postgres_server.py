"""A real, throwaway PostgreSQL server for the tests (loaded as a pytest plugin by conftest).

The server is started from the PostgreSQL binaries once per test session, and only when a
test asks for it: a temporary data directory outside the repository (in memory when there is
room), listening only on 127.0.0.1 (on a free port) and on a socket in that directory, trust
authentication (except for ``PASSWORD_USER``, who must give a password: the console's own
password prompt is tested against it), no fsync. Each test gets its own empty database,
dropped afterwards. The server is stopped and its directory removed at the end of the
session, also when the session fails.

PostgreSQL refuses to run as root: when the tests run as root (containers, CI), the server
is run as the ``postgres`` user through ``runuser``. Without the binaries every test that
needs the server is skipped, with the reason in the summary.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.sql
import pytest
from sqlalchemy.engine import URL

SERVER_USER = "postgres"  # the user that runs the server when the tests run as root
PASSWORD_USER = "clinic_staff"  # the one role that must give its password
PREFERRED_BIN_DIR = "/usr/lib/postgresql/15/bin"
_START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it
_database_numbers = itertools.count(1)


def find_bin_dir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: PostgreSQL 15 first, then whatever
    ``initdb`` is on PATH, then the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = [Path(PREFERRED_BIN_DIR)]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0)
    candidates.extend(Path(d) for d in reversed(versioned))
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def _scratch_parent() -> str | None:
    """Where to put the server's folder: memory (/dev/shm) when it has room, which makes
    initdb and CREATE DATABASE several times faster, else the usual temporary folder."""
    try:
        if shutil.disk_usage("/dev/shm").free >= 1 << 30:
            return "/dev/shm"
    except OSError:
        pass
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throwaway server; ``create_database``/``drop_database`` give each test its
    own database."""

    bin_dir: Path
    base_dir: Path
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    def _command(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SERVER_USER, "--", *args]
        return list(args)

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            self._command(*args), capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}"
                f"{result.stderr}\n{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            return "server log:\n" + "\n".join(self.log_file.read_text().splitlines()[-20:])
        except OSError:
            return ""

    def start(self) -> None:
        """initdb, then pg_ctl start (waiting until the server accepts connections)."""
        if os.geteuid() == 0:
            try:
                shutil.chown(self.base_dir, user=SERVER_USER, group=None)
            except LookupError:
                raise RuntimeError(
                    f"The tests run as root, and PostgreSQL refuses to: a '{SERVER_USER}' "
                    "user is needed to run the test server."
                ) from None
        self._run(
            str(self.bin_dir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            SERVER_USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",  # byte order, like SQLite's BINARY collation, so sorted tests agree
            "--no-sync",
            "--no-instructions",
        )
        # First match wins: the password role is checked before the trust lines.
        hba = self.data_dir / "pg_hba.conf"
        rules = hba.read_text()
        with hba.open("w") as file:  # rewritten in place: it stays the server user's
            file.write(f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n{rules}")
        for attempt in itertools.count(1):
            self.port = _free_port()
            settings = {
                "listen_addresses": "'127.0.0.1'",
                "port": str(self.port),
                "unix_socket_directories": f"'{self.base_dir}'",
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "shared_buffers": "16MB",
                "logging_collector": "off",
            }
            # Appending keeps the file owned by the server user.
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
            try:
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "start",
                    "--pgdata",
                    str(self.data_dir),
                    "--log",
                    str(self.log_file),
                    "--wait",
                    "--timeout",
                    "30",
                    "--silent",
                )
            except RuntimeError:
                if attempt >= _START_ATTEMPTS:
                    raise
                continue
            return

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is worth keeping) and remove its
        folder."""
        try:
            # Also after a failed start: pg_ctl may have given up waiting on a server that
            # did start.
            if (self.data_dir / "postmaster.pid").exists():
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "stop",
                    "--pgdata",
                    str(self.data_dir),
                    "--mode",
                    "immediate",
                    "--wait",
                    "--silent",
                )
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> URL:
        """The SQLAlchemy URL of ``database`` on this server."""
        return URL.create(
            "postgresql+psycopg",
            username=SERVER_USER,
            host="127.0.0.1",
            port=self.port,
            database=database,
        )

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SERVER_USER, dbname="postgres", autocommit=True
        )

    @contextlib.contextmanager
    def new_database(self) -> Iterator[str]:
        """The URL of a new, empty database, dropped when the block ends."""
        name = f"test_{os.getpid()}_{next(_database_numbers)}"
        self.create_database(name)
        try:
            yield self.url(name).render_as_string(hide_password=False)
        finally:
            with contextlib.suppress(psycopg.Error):
                self.drop_database(name)

    @contextlib.contextmanager
    def password_database(self, password: str) -> Iterator[str]:
        """The URL (without the password) of a new database owned by ``PASSWORD_USER``,
        whose password is ``password``; dropped when the block ends."""
        name = f"test_{os.getpid()}_{next(_database_numbers)}"
        with self._admin() as admin:
            admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")
            admin.execute(
                psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    psycopg.sql.Identifier(PASSWORD_USER), psycopg.sql.Literal(password)
                )
            )
            admin.execute(f'CREATE DATABASE "{name}" OWNER {PASSWORD_USER}')
        try:
            yield self.url(name).set(username=PASSWORD_USER).render_as_string()
        finally:
            with contextlib.suppress(psycopg.Error):
                self.drop_database(name)
                with self._admin() as admin:
                    admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")

    def create_database(self, name: str) -> None:
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        # FORCE: a test that failed may have left a connection open.
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for the server directly is a ``postgres`` test even when it is not
    marked, so that ``-m "not postgres"`` never starts the server."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, started on first use."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries not found: no initdb/pg_ctl/postgres in "
            f"{PREFERRED_BIN_DIR}, on PATH or in /usr/lib/postgresql/*/bin "
            "(install the 'postgresql' package to run these tests)"
        )
    base_dir = Path(tempfile.mkdtemp(prefix="portal-console-pg-", dir=_scratch_parent()))
    server = PostgresServer(bin_dir, base_dir)
    # Belt and braces: if the session dies without running fixture teardown, the interpreter
    # exit still stops the server.
    atexit.register(server.stop)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database on the test server, dropped after the test."""
    with postgres_server.new_database() as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def any_db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a new, empty database: a SQLite file, then a PostgreSQL database. The
    server is only started when a PostgreSQL case actually runs."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))
