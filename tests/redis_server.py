"""A throwaway Redis server for tests that must share counters between processes.

`redis_server` (session scope) starts ``redis-server`` on a free loopback port,
persisting nothing, and stops it by its PID at the end; `redis_url` gives each
test an empty database on it. Both skip only when ``redis-server`` is not
installed (``apt-get install -y redis-server``).

Use it with ``pytest_plugins = ["redis_server"]`` in a test module (``tests/`` is on
``sys.path`` because ``tests/conftest.py`` lives there without an ``__init__.py``).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


READY = b"Ready to accept connections"


def _copy_until_ready(stream: IO[bytes], log: IO[bytes], ready: threading.Event) -> None:
    """Copy the server's output to its log; set `ready` when it says it accepts connections, or exits."""
    with stream:
        for line in stream:
            log.write(line)
            log.flush()
            if READY in line:
                ready.set()
    ready.set()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A running throwaway Redis; yields its URL without a database number."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    directory = Path(tempfile.mkdtemp(prefix="mcpgov-redis-"))
    port = _free_port()
    command = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(directory),
        "--daemonize", "no",
        "--databases", "256",
    ]  # fmt: skip
    log = (directory / "redis.log").open("wb")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    ready = threading.Event()
    assert process.stdout is not None
    copier = threading.Thread(target=_copy_until_ready, args=(process.stdout, log, ready), daemon=True)
    copier.start()
    try:
        # Redis logs its readiness line once its listening socket is open: wait on that, with a deadline.
        if not ready.wait(10) or process.poll() is not None:
            raise RuntimeError(f"redis-server did not start:\n{(directory / 'redis.log').read_text()}")
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        copier.join(10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


_next_database = iter(range(1, 256))


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The URL of a database of its own on the session's Redis (up to 255 tests per session)."""
    return f"{redis_server}/{next(_next_database)}"
