"""A throwaway PostgreSQL cluster for tests that must run against the real thing.

`postgres_server` (session scope) runs initdb and pg_ctl in a temporary directory
on a free loopback port and stops the postmaster by its PID at the end;
`postgres_url` gives each test its own fresh database on it. Both skip only when
the PostgreSQL server binaries (or psycopg) are not installed.

initdb and postgres refuse to run as root, so when the tests run as root the
cluster belongs to the ``postgres`` system user (``nobody`` if there is none)
and every server command runs through ``runuser``.

Use it with ``pytest_plugins = ["postgres"]`` in a test module (``tests/`` is on
``sys.path`` because ``tests/conftest.py`` lives there without an ``__init__.py``).
"""

from __future__ import annotations

import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _server_binaries() -> Path | None:
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cluster_owner() -> list[str]:
    """The command prefix that runs a server command as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    pytest.skip("running as root and no non-root user (postgres, nobody) to own a PostgreSQL cluster")


def _wait_for_exit(pid: int, timeout: float) -> bool:
    # The postmaster is pg_ctl's child, not ours: wait on a pidfd, not waitpid.
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGINT)  # "fast" shutdown: disconnect clients, checkpoint, exit
    except ProcessLookupError:
        return
    if not _wait_for_exit(pid, 30):
        os.kill(pid, signal.SIGQUIT)  # "immediate" shutdown
        _wait_for_exit(pid, 10)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running throwaway PostgreSQL cluster; yields a SQLAlchemy URL of its ``postgres`` database."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install mcpgov[postgres])")
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    run_as = _cluster_owner()
    base = Path(tempfile.mkdtemp(prefix="mcpgov-pg-"))
    if run_as:
        owner = pwd.getpwnam(run_as[2])
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log, port = base / "data", base / "server.log", _free_port()

    def server_command(*args: str) -> None:
        done = subprocess.run([*run_as, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed:\n{done.stdout}{done.stderr}{server_log}")

    pid: int | None = None
    try:
        initdb = str(binaries / "initdb")
        server_command(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        # Loopback TCP only, and the Unix socket in our own directory rather than
        # the system's (which the cluster owner may not be able to write).
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1"
        server_command(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if pid is not None:
            _stop(pid)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A SQLAlchemy URL of a new, empty database on the session's cluster."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(postgres_server)
    name = f"test_{uuid.uuid4().hex[:16]}"
    conninfo = f"host={server.host} port={server.port} user={server.username} dbname={server.database}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # a generated name: nothing to inject
    return server.set(database=name).render_as_string(hide_password=False)
