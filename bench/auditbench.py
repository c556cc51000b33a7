"""The audit store on its own: sustained appends per second, and verifying a million records.

- ``throughput``: ``concurrency`` tasks on one event loop (uvloop, as the HTTP
  server runs) each append records back to back for ``seconds``; the store's
  group commit turns them into batches. Records per second is what was
  committed (and answered) per second of wall time.
- ``verify``: a chain of ``records`` records is written straight into a fresh
  SQLite database in large transactions, with bodies and hashes made exactly as
  the store makes them (``canonical_json`` of the record, ``chain_hash``), then
  ``mcpgov audit verify`` is timed as an operator runs it: a new process.

Run as ``python -m bench.auditbench throughput|verify ...``; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert, update

from governance.audit import GENESIS_HASH, AuditStore, chain_hash, verify_chain
from governance.audit._table import HEAD, HEAD_ID, RECORDS
from governance.model import AuditRecord, arguments_digest, canonical_json

_ARGUMENTS = {"sku": "ABC-0042", "quantity": 3}


def sample_record(index: int, *, start: datetime | None = None) -> AuditRecord:
    """A realistic governed ``tools/call`` record (what the audit guard writes for an allowed call)."""
    moment = (start or datetime(2026, 9, 1, tzinfo=UTC)) + timedelta(microseconds=index * 500)
    return AuditRecord(
        time=moment.isoformat(),
        request_id=f"{index:016x}",
        method="tools/call",
        principal="anonymous",
        transport="http",
        protocol_version="2026-07-28",
        server="fixture",
        server_version="1.0.0",
        tool="lookup_price",
        arguments=dict(_ARGUMENTS),
        args_digest=arguments_digest(_ARGUMENTS),
        decision="allow",
        policy_ids=["role:bench-client:allow:fixture.lookup_price"],
        outcome="ok",
        latency_ms=0.42,
        as_of="2026-09-01T12:00:00+00:00",
        policy_version="0" * 64,
    )


async def sustained_appends(store: AuditStore, *, concurrency: int, seconds: float, warmup: float) -> dict[str, Any]:
    records = [sample_record(i) for i in range(1_000)]
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    counted = 0
    total = 0

    async def appender(offset: int) -> None:
        nonlocal counted, total
        index = offset
        while (now := loop.time()) < stop_at:
            await store.append(records[index % len(records)])
            index += concurrency
            total += 1
            if now >= measure_from:
                counted += 1

    await asyncio.gather(*(appender(i) for i in range(concurrency)))
    return {"appended": total, "measured": counted, "seconds": seconds, "records_per_second": counted / seconds}


def throughput(db: Path, *, concurrency: int, seconds: float, warmup: float) -> dict[str, Any]:
    import uvloop

    store = AuditStore.open(f"sqlite:///{db}")
    try:
        result = uvloop.run(sustained_appends(store, concurrency=concurrency, seconds=seconds, warmup=warmup))
        report = verify_chain(store)
        stored = store.count()
    finally:
        store.close()
    return {
        **result,
        "concurrency": concurrency,
        "stored": stored,
        "records_equal_appends": stored == result["appended"],
        "chain_ok": report.ok,
    }


def write_chain(db: Path, records: int, *, chunk: int = 50_000) -> float:
    """Write a valid chain of ``records`` records into a new store at ``db``; seconds taken."""
    started = time.perf_counter()
    store = AuditStore.open(f"sqlite:///{db}")
    template = sample_record(0).model_dump(mode="json")
    base = datetime(2026, 9, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    seq = 0
    try:
        with store.engine.begin() as conn:
            while seq < records:
                rows = []
                for _ in range(min(chunk, records - seq)):
                    seq += 1
                    fields = dict(template)
                    fields["time"] = (base + timedelta(microseconds=seq * 500)).isoformat()
                    fields["request_id"] = f"{seq:016x}"
                    body = canonical_json(fields).decode()
                    digest = chain_hash(prev, body)
                    rows.append(
                        {
                            "seq": seq,
                            "time": fields["time"],
                            "principal": fields["principal"],
                            "server": fields["server"],
                            "tool": fields["tool"],
                            "outcome": fields["outcome"],
                            "body": body,
                            "prev_hash": prev,
                            "hash": digest,
                        }
                    )
                    prev = digest
                conn.execute(insert(RECORDS), rows)
            conn.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=seq, hash=prev))
    finally:
        store.close()
    return time.perf_counter() - started


def verify(db: Path, *, records: int) -> dict[str, Any]:
    if db.exists():
        db.unlink()
    generate_seconds = write_chain(db, records)
    command = [sys.executable, "-m", "mcpgov", "audit", "verify", "--db", f"sqlite:///{db}"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    return {
        "records": records,
        "generate_seconds": generate_seconds,
        "verify_seconds": seconds,
        "exit_code": done.returncode,
        "output": (done.stdout + done.stderr).strip()[-500:],
        "chain_ok": done.returncode == 0 and f"{records} records" in done.stdout.replace(",", ""),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.auditbench")
    sub = parser.add_subparsers(dest="command", required=True)
    rate = sub.add_parser("throughput")
    rate.add_argument("--db", type=Path, required=True)
    rate.add_argument("--concurrency", type=int, default=64)
    rate.add_argument("--seconds", type=float, default=5.0)
    rate.add_argument("--warmup", type=float, default=1.0)
    check = sub.add_parser("verify")
    check.add_argument("--db", type=Path, required=True)
    check.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if args.command == "throughput":
        result = throughput(args.db, concurrency=args.concurrency, seconds=args.seconds, warmup=args.warmup)
    else:
        result = verify(args.db, records=args.records)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
