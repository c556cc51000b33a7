"""Start `mcpgov serve --transport http` as a child process and wait until it listens.

The server binds its socket before it logs the `mcpgov.listening` event with its
URL, so the wait is on that event (with a deadline), not on polling a port; and
`--port 0` means no free-port guessing races with other processes.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

import orjson

from servers.cli import LISTENING_EVENT


@dataclass
class LaunchedGateway:
    """A running gateway process and the URL it listens on."""

    process: subprocess.Popen[bytes]
    base_url: str
    _copier: threading.Thread

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate the process (if it still runs), wait for it, and finish copying its output."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=timeout)
        self._copier.join(timeout)


class LaunchError(RuntimeError):
    """The gateway exited or did not listen before the deadline; the message holds its output."""


def launch_gateway(options: Sequence[str], *, output: IO[bytes], deadline_s: float = 30.0) -> LaunchedGateway:
    """Start the gateway with `options` (servers, --policy, ...) on a free loopback port.

    Its stderr is copied to `output` as it arrives, for as long as it runs.

    Raises:
        LaunchError: it exited, or did not announce its URL within `deadline_s`.
    """
    command = [sys.executable, "-m", "mcpgov", "serve", "--transport", "http", "--port", "0", *options]
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.PIPE)  # noqa: S603 - no shell
    assert process.stderr is not None
    listening = threading.Event()
    found: list[str] = []
    seen: list[bytes] = []

    def copy_stderr(stream: IO[bytes]) -> None:
        with stream:
            for line in stream:
                output.write(line)
                output.flush()
                if not listening.is_set():
                    seen.append(line)
                    url = _listening_url(line)
                    if url is not None:
                        found.append(url)
                        listening.set()
        listening.set()  # the process ended: wake the waiter, which then finds no URL

    copier = threading.Thread(target=copy_stderr, args=(process.stderr,), name="mcpgov-gateway-stderr", daemon=True)
    copier.start()
    if not listening.wait(deadline_s) or not found:
        process.kill()
        process.wait()
        copier.join(deadline_s)
        text = b"".join(seen).decode(errors="replace")
        raise LaunchError(f"the gateway did not start listening within {deadline_s:.0f} s:\n{text}")
    return LaunchedGateway(process, found[0], copier)


def _listening_url(line: bytes) -> str | None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(event, dict) and event.get("event") == LISTENING_EVENT and isinstance(event.get("url"), str):
        return str(event["url"])
    return None
