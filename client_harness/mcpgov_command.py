"""Running the `mcpgov` operator CLI (reviewer decisions, audit verify) as a subprocess.

The command is configurable because operators run it where the state is: this interpreter's
``-m mcpgov`` locally, or e.g. ``docker compose exec gateway mcpgov`` against a deployment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import anyio

DEFAULT_COMMAND: tuple[str, ...] = (sys.executable, "-m", "mcpgov")
TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What one CLI run printed and how it exited."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        """Both streams, stripped, for messages."""
        return "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)


async def run_mcpgov(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    command: Sequence[str] | None = None,
    cwd: str | None = None,
) -> CommandResult:
    """Run `mcpgov ARGS` with `env` over this process's environment; never raises for a non-zero exit.

    Raises:
        OSError: the command cannot be started.
        TimeoutError: it did not finish within two minutes.
    """
    argv = (*(command or DEFAULT_COMMAND), *args)
    with anyio.fail_after(TIMEOUT_S):
        done = await anyio.run_process(argv, env={**os.environ, **env}, cwd=cwd, check=False, stdin=subprocess.DEVNULL)
    return CommandResult(
        argv,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
