"""Where governance's time goes, piece by piece: ``python -m bench.micro``.

Every number is microseconds per call of one piece of the governed path for the
fixture tool's ``tools/call``, measured in a loop on this process's event loop
(uvloop). "wall" is elapsed time; "cpu" is this process's CPU time over all
threads (so an audit append's writer-thread work shows up in it).

The pieces: the whole middleware with a real audit store and with a store that
commits nothing (so the difference is the durable append), each guard on its
own around a no-op ``call_next``, and the parts of the audit guard (building the
record, redaction, digest, body serialization, the JSON log line, provenance).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

import orjson

from bench.fixture import build_server
from bench.toolsets import POLICY_PATH, TOOLSETS

ARGUMENTS = TOOLSETS["fixture"].arguments
SDK_RESULT = {
    "content": [{"type": "text", "text": '{"sku":"ABC-0042","quantity":3,"unit_cents":142,"total_cents":426}'}],
    "structuredContent": {"sku": "ABC-0042", "quantity": 3, "unit_cents": 142, "total_cents": 426},
    "isError": False,
    "_meta": {"mcpgov/provenance": {"source": "price-list", "as_of": "2026-09-01T12:00:00+00:00"}},
    "resultType": "complete",
}


def time_sync(fn: Callable[[], Any], n: int) -> dict[str, float]:
    for _ in range(min(n, 200)):
        fn()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return {"wall_us": (time.perf_counter() - wall) / n * 1e6, "cpu_us": (time.process_time() - cpu) / n * 1e6}


async def time_async(fn: Callable[[], Awaitable[Any]], n: int) -> dict[str, float]:
    for _ in range(min(n, 200)):
        await fn()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        await fn()
    return {"wall_us": (time.perf_counter() - wall) / n * 1e6, "cpu_us": (time.process_time() - cpu) / n * 1e6}


class NullStore:
    """An audit store that serializes the record as the real one does on the caller's side, and stores nothing."""

    def __init__(self) -> None:
        from governance.audit._store import _values

        self._values = _values
        self.seq = 0

    async def append(self, record: Any) -> int:
        self._values(record)
        self.seq += 1
        return self.seq


def fake_context(protocol_version: str = "2026-07-28") -> Any:
    """What the SDK hands a middleware for an HTTP tools/call, as far as the adapter reads it."""

    async def report_progress(*_: Any, **__: Any) -> None:
        return None

    return SimpleNamespace(
        method="tools/call",
        request_id=1,
        params={"name": "lookup_price", "arguments": dict(ARGUMENTS)},
        request=SimpleNamespace(headers={}),
        protocol_version=protocol_version,
        meta={"io.modelcontextprotocol/clientCapabilities": {}},
        session=SimpleNamespace(report_progress=report_progress, client_capabilities=None),
    )


async def measure(n: int, db_dir: Path, log_sink: TextIO) -> list[tuple[str, dict[str, float]]]:
    import structlog

    from governance import AuditStore, Governance, Policy
    from governance.audit._chain import record_body
    from governance.audit._store import _values
    from governance.guards.audit import build_record
    from governance.logs import configure_logging
    from governance.model import Outcome, ToolCall, arguments_digest
    from governance.pipeline import build_pipeline
    from governance.provenance import read_provenance
    from governance.redaction import redact
    from governance.sdk_adapter import GovernanceMiddleware, catalog_of

    configure_logging()
    # The JSON log line goes to a file as it would in production, not to this terminal.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=log_sink))

    policy = Policy.load(POLICY_PATH)
    server = build_server()
    catalog = catalog_of(server)
    store = AuditStore.open(f"sqlite:///{db_dir / 'micro.db'}")
    null = NullStore()
    governance = Governance(policy=policy, audit=store, transport="http")

    def pipeline_for(audit: Any) -> Any:
        # build_pipeline grew an approvals store; take whichever signature is there.
        if "approvals" in inspect.signature(build_pipeline).parameters:
            return build_pipeline(policy, catalog, audit, governance.approvals, server_version="1.0.0")
        return build_pipeline(policy, catalog, audit, server_version="1.0.0")  # type: ignore[call-arg]

    real_pipeline = pipeline_for(store)
    null_pipeline = pipeline_for(null)
    real_mw = GovernanceMiddleware(governance, catalog, real_pipeline)
    null_mw = GovernanceMiddleware(governance, catalog, null_pipeline)

    async def sdk_call_next(_: Any) -> dict[str, Any]:
        return dict(SDK_RESULT)

    info = catalog.get("lookup_price")
    call = ToolCall(
        method="tools/call",
        server="fixture",
        principal="anonymous",
        transport="http",
        protocol_version="2026-07-28",
        tool="lookup_price",
        arguments=dict(ARGUMENTS),
        info=info,
        request_id=secrets.token_hex(8),
        started_ns=time.perf_counter_ns(),
        started_wall=time.time(),
    )
    decided = replace(call, decision=policy.decide("anonymous", info))  # type: ignore[arg-type]
    Outcome(call=decided, result=SDK_RESULT)

    async def terminal(current: ToolCall) -> Outcome:
        return Outcome(call=current, result=SDK_RESULT)

    rows: list[tuple[str, dict[str, float]]] = []
    ctx = fake_context()
    rows.append(("middleware total, real audit store (c=1)", await time_async(lambda: real_mw(ctx, sdk_call_next), n)))
    rows.append(
        ("middleware total, audit store that stores nothing", await time_async(lambda: null_mw(ctx, sdk_call_next), n))
    )
    rows.append(
        (
            "AuditStore.append round trip (c=1)",
            await time_async(
                lambda: store.append(
                    build_record(decided, outcome="ok", policy_version=policy.version, server_version="1.0.0")
                ),
                n,
            ),
        )
    )

    async def concurrent_appends() -> None:
        record = build_record(decided, outcome="ok", policy_version=policy.version, server_version="1.0.0")
        await asyncio.gather(*(store.append(record) for _ in range(8)))

    per8 = await time_async(concurrent_appends, max(1, n // 8))
    rows.append(("AuditStore.append, 8 concurrent (per record)", {k: v / 8 for k, v in per8.items()}))

    for guard in null_pipeline.guards:
        try:
            timing = await time_async(lambda g=guard: g(decided, terminal), n)  # type: ignore[misc]
        except Exception as error:  # a guard that needs more of the call than this one has
            print(f"guard {type(guard).__name__}: {error!r}", file=sys.stderr)
            continue
        rows.append((f"guard {type(guard).__name__} alone", timing))
    rows.append(("adapter: request_id token_hex(8)", time_sync(lambda: secrets.token_hex(8), n)))
    rows.append(("adapter: ToolCall(...)", time_sync(lambda: replace(call), n)))
    rows.append(("allowlist: policy.decide (cached)", time_sync(lambda: policy.decide("anonymous", info), n)))  # type: ignore[arg-type]
    rows.append(
        (
            "allowlist: dataclasses.replace(call, decision=...)",
            time_sync(lambda: replace(call, decision=decided.decision), n),
        )
    )
    params_guard = next(g for g in null_pipeline.guards if type(g).__name__ == "ParamsGuard")
    validators = getattr(params_guard, "_validators", {})
    if "lookup_price" in validators:
        validator = validators["lookup_price"]
        rows.append(("params: compiled fastjsonschema validator", time_sync(lambda: validator(dict(ARGUMENTS)), n)))
    rows.append(("approval: policy.needs_approval", time_sync(lambda: policy.needs_approval(info), n)))  # type: ignore[arg-type]
    rows.append(
        (
            "audit: build_record (whole)",
            time_sync(
                lambda: build_record(decided, outcome="ok", policy_version=policy.version, server_version="1.0.0"), n
            ),
        )
    )
    rows.append(("audit:   redact(arguments)", time_sync(lambda: redact(dict(ARGUMENTS)), n)))
    rows.append(("audit:   arguments_digest", time_sync(lambda: arguments_digest(ARGUMENTS), n)))
    from datetime import UTC, datetime

    rows.append(
        (
            "audit:   datetime.fromtimestamp().isoformat()",
            time_sync(lambda: datetime.fromtimestamp(call.started_wall, UTC).isoformat(), n),
        )
    )
    record = build_record(decided, outcome="ok", policy_version=policy.version, server_version="1.0.0")
    rows.append(("audit: record_body (model_dump + canonical JSON)", time_sync(lambda: record_body(record), n)))
    rows.append(("audit: store._values (caller side of append)", time_sync(lambda: _values(record), n)))
    rows.append(("audit: read_provenance (pydantic)", time_sync(lambda: read_provenance(dict(SDK_RESULT)), n)))
    rows.append(
        (
            "audit: record.model_dump(exclude=arguments) for the log",
            time_sync(lambda: record.model_dump(exclude={"arguments"}, exclude_none=True), n),
        )
    )
    log = structlog.get_logger("mcpgov.audit")
    fields = record.model_dump(exclude={"arguments"}, exclude_none=True)
    rows.append(
        (
            "audit: structlog JSON line (redacting processor, to a file)",
            time_sync(lambda: log.info("mcp.request", seq=1, **fields), n),
        )
    )
    store.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.micro")
    parser.add_argument("-n", type=int, default=5_000, help="iterations per piece")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    import uvloop

    with tempfile.TemporaryDirectory(prefix="mcpgov-micro-") as tmp, open(Path(tmp) / "log.jsonl", "w") as sink:
        rows = uvloop.run(measure(args.n, Path(tmp), sink))
    if args.json:
        sys.stdout.write(orjson.dumps({name: value for name, value in rows}).decode() + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"governance pieces, µs per call (n={args.n})")
    table.add_column("piece")
    table.add_column("wall µs", justify="right")
    table.add_column("cpu µs (all threads)", justify="right")
    for name, value in rows:
        table.add_row(name, f"{value['wall_us']:.1f}", f"{value['cpu_us']:.1f}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
