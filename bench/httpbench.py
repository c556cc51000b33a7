"""The HTTP benchmark: each server in its own uvicorn process, the load from another process.

For every round the bare and the governed server take turns (which one goes
first alternates between rounds, so drift in the machine's load cancels out),
and each is loaded on both protocol paths at each concurrency. After a governed
server stops, its audit database must hold exactly one ``tools/call`` record per
successful call the load generator saw, and its chain must verify.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson
from sqlalchemy import text

from bench.toolsets import ToolSet
from governance.audit import AuditStore, verify_chain

MODES = ("bare", "governed")
PROTOCOLS = ("modern", "legacy")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A benchmarked server under uvicorn."""

    toolset: ToolSet
    mode: str
    process: subprocess.Popen[bytes]
    port: int
    db_path: Path | None
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp/{self.toolset.name}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully; the audit store closes
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(toolset: ToolSet, mode: str, work_dir: Path, tag: str, experiment: str = "") -> ServerProcess:
    """Start a server and wait (with a deadline) until it answers ``/healthz``.

    Raises:
        RuntimeError: it exited or did not answer in time.
    """
    port = free_port()
    db_path = work_dir / f"audit-{tag}.db" if mode == "governed" else None
    log_path = work_dir / f"server-{tag}.log"
    command = [
        sys.executable, "-m", "bench.serve", toolset.name, mode, "--port", str(port),
        "--data-dir", str(work_dir / "data"),
    ]  # fmt: skip
    if db_path is not None:
        command += ["--db", f"sqlite:///{db_path}"]
    if experiment:
        command += ["--experiment", experiment]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, env={**os.environ})
    server = ServerProcess(toolset, mode, process, port, db_path, log_path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{mode} {toolset.name} server exited; see {log_path}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{mode} {toolset.name} server did not answer /healthz within 90 s; see {log_path}")


def run_load(
    server: ServerProcess, *, protocol: str, concurrency: int, warmup: float, duration: float
) -> dict[str, Any]:
    """One load-generator process against ``server``; its JSON result plus the load average after it."""
    command = [
        sys.executable, "-m", "bench.load", "--url", server.url, "--protocol", protocol,
        "--concurrency", str(concurrency), "--warmup", str(warmup), "--duration", str(duration),
        "--tool", server.toolset.tool, "--arguments", orjson.dumps(server.toolset.arguments).decode(),
        "--server-pid", str(server.pid),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, check=False, timeout=warmup + duration + 120)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = orjson.loads(done.stdout)
    result["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return result


def audit_check(db_path: Path, calls_ok: int) -> dict[str, Any]:
    """Whether the governed server's audit holds one tools/call record per successful call, in a sound chain."""
    store = AuditStore.open(f"sqlite:///{db_path}", create=False)
    try:
        with store.engine.connect() as conn:
            records = conn.execute(
                text("SELECT count(*) FROM audit_record WHERE json_extract(body, '$.method') = 'tools/call'")
            ).scalar_one()
            ok_records = conn.execute(
                text(
                    "SELECT count(*) FROM audit_record "
                    "WHERE json_extract(body, '$.method') = 'tools/call' AND outcome = 'ok'"
                )
            ).scalar_one()
        report = verify_chain(store)
    finally:
        store.close()
    return {
        "calls_ok": calls_ok,
        "tools_call_records": int(records),
        "ok_records": int(ok_records),
        "records_equal_calls": int(records) == calls_ok == int(ok_records),
        "chain_ok": report.ok,
        "chain_checked": report.checked,
        "chain_detail": report.detail,
    }


def run_http(
    toolset: ToolSet,
    *,
    rounds: int,
    concurrencies: tuple[int, ...],
    warmup: float,
    duration: float,
    work_dir: Path,
    say: Any = print,
) -> dict[str, Any]:
    """Every round, both modes, both protocols, each concurrency: the raw runs and the audit checks."""
    runs: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for round_index in range(rounds):
        order = MODES if round_index % 2 == 0 else tuple(reversed(MODES))
        for mode in order:
            tag = f"{toolset.name}-{mode}-{round_index}"
            server = start_server(toolset, mode, work_dir, tag)
            calls_ok = 0
            try:
                for protocol in PROTOCOLS:
                    for concurrency in concurrencies:
                        result = run_load(
                            server, protocol=protocol, concurrency=concurrency, warmup=warmup, duration=duration
                        )
                        calls_ok += result["calls_ok_total"]
                        runs.append({"round": round_index, "mode": mode, **result})
                        say(
                            f"  round {round_index + 1} {toolset.name:<14} {mode:<8} {protocol:<6} c={concurrency}: "
                            f"{result['throughput']:7.0f} calls/s, "
                            f"{result['cpu_us_per_call'] or 0:6.0f} µs CPU/call, "
                            f"p50 {result['latency_us'].get('p50', 0):6.0f} µs, "
                            f"failed {result['calls_failed']}, load {result['load_average'][0]}"
                        )
            finally:
                server.stop()
            if server.db_path is not None:
                checks.append({"round": round_index, **audit_check(server.db_path, calls_ok)})
    return {"toolset": toolset.name, "tool": toolset.tool, "runs": runs, "audit_checks": checks}
