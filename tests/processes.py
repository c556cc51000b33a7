"""Real processes for end-to-end tests: `mcpgov serve` under uvicorn on an ephemeral loopback port.

Imported by test modules as `processes` (`tests/` is on sys.path, see tests/conftest.py).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from governance.policy import default_policy_path
from servers.launch import LaunchedGateway, LaunchError, launch_gateway

EXAMPLE_POLICY = default_policy_path().with_name("example.yaml")


def mcpgov_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mcpgov", *args]


@dataclass
class RunningServer:
    gateway: LaunchedGateway
    state_dir: Path
    log: BinaryIO

    @property
    def base_url(self) -> str:
        return self.gateway.base_url

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.gateway.process

    def stop(self) -> None:
        """Terminate the server (if it still runs) and close its log."""
        self.gateway.stop()
        self.log.close()

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.state_dir / 'mcpgov.db'}"

    def url(self, server: str) -> str:
        return f"{self.base_url}/mcp/{server}"


def start_http(
    tmp_path: Path, *names: str, options: Sequence[str] = (), policy: Path = EXAMPLE_POLICY
) -> RunningServer:
    """Start the HTTP gateway serving `names` and wait (with a deadline) until it listens."""
    state_dir = tmp_path / "state"
    log = (tmp_path / "server.log").open("wb")
    try:
        launched = launch_gateway(
            ["--state-dir", str(state_dir), "--policy", str(policy), *options, *names], output=log
        )
    except LaunchError:
        log.close()
        raise
    return RunningServer(launched, state_dir, log)
