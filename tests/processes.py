"""Real processes for end-to-end tests: `mcpgov serve` under uvicorn on an ephemeral loopback port.

Imported by test modules as `processes` (`tests/` is on sys.path, see tests/conftest.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx2

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
    log: BinaryIO

    def stop(self) -> None:
        """Terminate the server (if it still runs) and close its log."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.log.close()

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.state_dir / 'mcpgov.db'}"

    def url(self, server: str) -> str:
        return f"{self.base_url}/mcp/{server}"


def start_http(
    tmp_path: Path, *names: str, options: Sequence[str] = (), policy: Path = EXAMPLE_POLICY
) -> RunningServer:
    """Start the HTTP gateway serving `names` and wait (with a deadline) until /healthz answers."""
    port = free_port()
    state_dir = tmp_path / "state"
    log = (tmp_path / "server.log").open("wb")
    command = mcpgov_command(
        "serve", "--transport", "http", "--port", str(port), "--state-dir", str(state_dir),
        "--policy", str(policy), *options, *names,
    )  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=log, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise AssertionError("server exited: " + (tmp_path / "server.log").read_text())
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return RunningServer(base, process, state_dir, log)
        except httpx2.TransportError:
            time.sleep(0.05)
    process.kill()
    process.wait()
    log.close()
    raise AssertionError("server did not become healthy in 30 s: " + (tmp_path / "server.log").read_text())
