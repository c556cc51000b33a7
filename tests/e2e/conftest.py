"""Real processes: `mcpgov serve` over stdio and under uvicorn on an ephemeral loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from governance.policy import default_policy_path

EXAMPLE_POLICY = default_policy_path().with_name("example.yaml")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mcpgov_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mcpgov", *args]


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen[bytes]
    state_dir: Path

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.state_dir / 'mcpgov.db'}"

    def url(self, server: str) -> str:
        return f"{self.base_url}/mcp/{server}"


def start_http(tmp_path: Path, *extra: str) -> RunningServer:
    """Start the HTTP gateway and wait (with a deadline) until /healthz answers."""
    port = free_port()
    state_dir = tmp_path / "state"
    log = (tmp_path / "server.log").open("wb")
    command = mcpgov_command(
        "serve", "--transport", "http", "--port", str(port), "--state-dir", str(state_dir),
        "--policy", str(EXAMPLE_POLICY), *extra,
    )  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=log, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return RunningServer(base, process, state_dir)
        except httpx2.TransportError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("server did not become healthy in 30 s: " + (tmp_path / "server.log").read_text())


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_http(tmp_path)
    yield server
    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=15)
