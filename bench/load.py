"""The load generator: raw JSON-RPC POSTs over keep-alive HTTP/1.1, not the MCP SDK client.

The SDK client spends more CPU per call than the server it calls, so on a
2-core machine it would hide what the server costs. This one is an asyncio
protocol on uvloop that writes prebuilt request bytes and parses responses
with httptools (the parser uvicorn uses): a few microseconds per call.

Each request carries exactly what the protocol needs:

- 2026-07-28 (``modern``): no handshake, no session. Headers ``Accept:
  application/json, text/event-stream``, ``Content-Type: application/json``,
  ``MCP-Protocol-Version``, ``Mcp-Method`` and, for ``tools/call``,
  ``Mcp-Name`` (the server rejects a request whose headers disagree with its
  body); ``params._meta`` holds the protocol version, client info and client
  capabilities (mcp/client/session.py's stamp, mcp/shared/inbound.py's ladder).
- 2025-11-25 (``legacy``): each connection runs ``initialize`` and
  ``notifications/initialized`` once, then sends ``Mcp-Session-Id`` and
  ``MCP-Protocol-Version`` with every call.

Every answer is checked: HTTP 200, a JSON-RPC result with the request's id, and
not ``isError``; anything else counts as a failure and the first few are kept.

Run as ``python -m bench.load --url ... --server-pid PID ...``; prints one JSON
object. The server's CPU time is read from ``/proc/PID/stat`` at the start and
end of the measured window, so warm-up calls are not charged.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httptools
import orjson

MODERN_VERSION = "2026-07-28"
LEGACY_VERSION = "2025-11-25"
CLIENT_INFO = {"name": "mcpgov-bench", "version": "1.0"}
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_cpu(path: str) -> float:
    with open(path, "rb") as stat:
        # The command name (field 2) may hold spaces; fields after it are fixed.
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of every thread of process ``pid`` so far."""
    return _stat_cpu(f"/proc/{pid}/stat")


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time so far of each live thread of ``pid``, by thread id (the main thread's id is ``pid``)."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            times[int(tid)] = _stat_cpu(f"/proc/{pid}/task/{tid}/stat")
        except OSError:  # the thread ended meanwhile
            continue
    return times


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[tuple[int, dict[bytes, bytes], bytes]] | None = None
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only duck-typed ones.
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc or ConnectionError("the server closed the connection"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        waiter, self._waiter = self._waiter, None
        result = (self._parser.get_status_code(), self._headers, b"".join(self._body))
        self._headers, self._body = {}, []
        if waiter is not None and not waiter.done():
            waiter.set_result(result)

    async def request(self, data: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        assert self._transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(data)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def http_post(path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    """The bytes of one HTTP/1.1 POST."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def modern_envelope() -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
        "io.modelcontextprotocol/clientCapabilities": {},
    }


class CallFactory:
    """Prebuilt request bytes for one tools/call; only the id changes between calls."""

    def __init__(self, path: str, host: str, headers: dict[str, str], tool: str, arguments: dict[str, Any]):
        params: dict[str, Any] = {"name": tool, "arguments": arguments}
        self._headers = headers
        self._path, self._host = path, host
        self._params = params

    def with_meta(self, meta: dict[str, Any]) -> CallFactory:
        self._params = {**self._params, "_meta": meta}
        return self

    def build(self, request_id: int) -> bytes:
        body = orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": self._params})
        return http_post(self._path, self._host, self._headers, body)


@dataclass
class Tally:
    """What the workers saw."""

    ok_total: int = 0  # every successful call, warm-up included: what the audit must hold
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    measured_ok: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    measuring: bool = False

    def fail(self, message: str) -> None:
        self.failed += 1
        if len(self.errors) < 5:
            self.errors.append(message[:500])


def check_result(status: int, body: bytes, request_id: int) -> str | None:
    """None when the answer is a successful tools/call result for ``request_id``; else what is wrong."""
    if status != 200:
        return f"HTTP {status}: {body[:300]!r}"
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"not JSON: {body[:300]!r}"
    if message.get("id") != request_id:
        return f"answer for id {message.get('id')!r}, expected {request_id}"
    result = message.get("result")
    if not isinstance(result, dict):
        return f"JSON-RPC error: {message.get('error')!r}"
    if result.get("isError"):
        return f"tool error: {result.get('content')!r}"
    return None


async def legacy_session(conn: HttpConnection, path: str, host: str, base: dict[str, str]) -> str:
    """Run the 2025-11-25 handshake on ``conn``; return the session id."""
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
    }
    status, headers, body = await conn.request(http_post(path, host, base, orjson.dumps(init)))
    session = headers.get(b"mcp-session-id")
    if status != 200 or session is None or "result" not in orjson.loads(body):
        raise RuntimeError(f"initialize failed: HTTP {status} {body[:300]!r}")
    session_headers = {**base, "Mcp-Session-Id": session.decode(), "MCP-Protocol-Version": LEGACY_VERSION}
    note = orjson.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
    status, _, body = await conn.request(http_post(path, host, session_headers, note))
    if status != 202:
        raise RuntimeError(f"notifications/initialized got HTTP {status} {body[:300]!r}")
    return session.decode()


async def run_load(
    url: str,
    *,
    protocol: str,
    concurrency: int,
    warmup: float,
    duration: float,
    tool: str,
    arguments: dict[str, Any],
    server_pid: int | None,
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    host_header = f"{host}:{port}"
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    loop = asyncio.get_running_loop()
    tally = Tally()

    async def factory_for(conn: HttpConnection) -> CallFactory:
        if protocol == "modern":
            headers = {**base, "MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "tools/call", "Mcp-Name": tool}
            return CallFactory(path, host_header, headers, tool, arguments).with_meta(modern_envelope())
        session = await legacy_session(conn, path, host_header, base)
        headers = {**base, "Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY_VERSION}
        return CallFactory(path, host_header, headers, tool, arguments)

    connections = []
    factories = []
    for _ in range(concurrency):
        _, conn = await loop.create_connection(HttpConnection, host, port)
        connections.append(conn)
        factories.append(await factory_for(conn))

    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    window: dict[str, float] = {}
    threads_start: dict[int, float] = {}

    async def worker(conn: HttpConnection, factory: CallFactory, first_id: int) -> None:
        request_id = first_id
        perf = time.perf_counter_ns
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                return
            if not tally.measuring and now >= measure_from:
                tally.measuring = True
                window["start"] = now
                window["cpu_start"] = process_cpu_seconds(server_pid) if server_pid else 0.0
                if server_pid:
                    threads_start.update(thread_cpu_seconds(server_pid))
            request_id += 1
            data = factory.build(request_id)
            sent = perf()
            try:
                status, _, body = await conn.request(data)
            except (ConnectionError, OSError) as error:
                tally.fail(f"connection: {error}")
                return
            elapsed = perf() - sent
            problem = check_result(status, body, request_id)
            if problem is not None:
                tally.fail(problem)
                continue
            tally.ok_total += 1
            if tally.measuring and time.perf_counter() < stop_at:
                tally.measured_ok += 1
                tally.latencies_ns.append(elapsed)

    await asyncio.gather(
        *(worker(c, f, i * 10_000_000) for i, (c, f) in enumerate(zip(connections, factories, strict=False)))
    )
    end = time.perf_counter()
    cpu_end = process_cpu_seconds(server_pid) if server_pid else 0.0
    threads_end = thread_cpu_seconds(server_pid) if server_pid else {}
    for conn in connections:
        conn.close()
    seconds = end - window.get("start", end)
    server_cpu = cpu_end - window.get("cpu_start", cpu_end)
    calls = tally.measured_ok
    # The event loop runs on the main thread; the others are the audit writer and
    # anyio's worker threads (the SDK runs sync tools in one).
    loop_cpu = threads_end.get(server_pid or -1, 0.0) - threads_start.get(server_pid or -1, 0.0)
    other_cpu = sum(t - threads_start.get(tid, 0.0) for tid, t in threads_end.items() if tid != server_pid)
    return {
        "protocol": protocol,
        "concurrency": concurrency,
        "calls_ok_total": tally.ok_total,
        "calls_failed": tally.failed,
        "errors": tally.errors,
        "calls": calls,
        "seconds": seconds,
        "throughput": calls / seconds if seconds > 0 else 0.0,
        "server_cpu_seconds": server_cpu,
        "cpu_us_per_call": server_cpu / calls * 1e6 if calls else None,
        "loop_thread_cpu_us_per_call": loop_cpu / calls * 1e6 if calls else None,
        "other_threads_cpu_us_per_call": other_cpu / calls * 1e6 if calls else None,
        "latency_us": latency_summary(tally.latencies_ns),
    }


def percentile(sorted_values: list[int], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between closest ranks."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_summary(latencies_ns: list[int]) -> dict[str, float]:
    values = sorted(latencies_ns)
    if not values:
        return {}
    return {
        "p50": percentile(values, 0.50) / 1e3,
        "p90": percentile(values, 0.90) / 1e3,
        "p99": percentile(values, 0.99) / 1e3,
        "max": values[-1] / 1e3,
        "mean": sum(values) / len(values) / 1e3,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--url", required=True)
    parser.add_argument("--protocol", choices=["modern", "legacy"], default="modern")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--tool", required=True)
    parser.add_argument("--arguments", default="{}", help="JSON object")
    parser.add_argument("--server-pid", type=int)
    args = parser.parse_args(argv)

    import uvloop

    result = uvloop.run(
        run_load(
            args.url,
            protocol=args.protocol,
            concurrency=args.concurrency,
            warmup=args.warmup,
            duration=args.duration,
            tool=args.tool,
            arguments=orjson.loads(args.arguments),
            server_pid=args.server_pid,
        )
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
