"""Stdio cold start: from spawning the process to the first ``tools/list`` answered.

Governed is exactly what a host runs (``python -m mcpgov serve NAME --transport
stdio``); bare is the same server built by the same registry and run with the
SDK's ``server.run("stdio")`` (``bench.bare_stdio``). The probe is one
2026-07-28 ``tools/list`` line (no handshake on that protocol), written as soon
as the process is spawned; the clock stops when its answer arrives.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.load import modern_envelope
from bench.toolsets import POLICY_PATH

PROBE = (
    orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": modern_envelope()}}) + b"\n"
)


def governed_command(server: str, state_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "mcpgov", "serve", server, "--transport", "stdio",
        "--policy", str(POLICY_PATH), "--state-dir", str(state_dir),
    ]  # fmt: skip


def bare_command(server: str, state_dir: Path) -> list[str]:
    return [sys.executable, "-m", "bench.bare_stdio", server, "--data-dir", str(state_dir / "data")]


def time_to_first_list(command: list[str], log: Path) -> tuple[float, int]:
    """Seconds from spawn to the ``tools/list`` answer, and how many tools it listed.

    Raises:
        RuntimeError: the process exited or answered with an error.
    """
    # Only the command line configures the server: no MCPGOV_* setting from this shell leaks in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("MCPGOV_")}
    env["PYTHONUNBUFFERED"] = "1"
    with log.open("ab") as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=env)
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(PROBE)
            process.stdin.flush()
            while True:
                line = process.stdout.readline()
                if not line:
                    tail = log.read_text(errors="replace")[-1500:]
                    raise RuntimeError(f"{' '.join(command[1:4])} exited before answering; its stderr ends:\n{tail}")
                message = orjson.loads(line)
                if message.get("id") == 1:
                    elapsed = time.perf_counter() - start
                    break
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    tools = (message.get("result") or {}).get("tools")
    if not tools:
        raise RuntimeError(f"tools/list was not answered with tools: {message!r}")
    return elapsed, len(tools)


def measure(server: str, *, runs: int, work_dir: Path) -> dict[str, Any]:
    """Median cold start of each variant over ``runs`` alternating spawns (after one untimed spawn each)."""
    state_dir = work_dir / "stdio-state"
    log = work_dir / "stdio.log"
    variants = {"bare": bare_command(server, state_dir), "governed": governed_command(server, state_dir)}
    for command in variants.values():  # warm the page cache and bytecode, create the state dir
        time_to_first_list(command, log)
    samples: dict[str, list[float]] = {"bare": [], "governed": []}
    tools: dict[str, int] = {}
    for run_index in range(runs):
        order = ("bare", "governed") if run_index % 2 == 0 else ("governed", "bare")
        for name in order:
            elapsed, count = time_to_first_list(variants[name], log)
            samples[name].append(elapsed)
            tools[name] = count
    bare, governed = statistics.median(samples["bare"]), statistics.median(samples["governed"])
    return {
        "server": server,
        "runs": runs,
        "bare_ms": bare * 1e3,
        "governed_ms": governed * 1e3,
        "ratio": governed / bare,
        "bare_samples_ms": [s * 1e3 for s in samples["bare"]],
        "governed_samples_ms": [s * 1e3 for s in samples["governed"]],
        "tools_listed": tools,
    }
