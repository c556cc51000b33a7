"""Diagnostic variants of the governed server, to price each proposed fix end to end.

These patch governance's internals in the benchmarked server process only
(``python -m bench.serve ... --experiment NAME[,NAME]``); they are measuring
instruments, never how mcpgov runs. ``python -m bench.breakdown`` runs them
against the bare and the governed server in alternating rounds.

- ``no-log``: the per-request JSON log line is filtered out (level WARNING): the
  most a cheaper log line can save.
- ``fast-redact``: `redact_text` first checks for a literal fragment that each of
  its patterns must contain (``AKIA``, ``-----BEGIN``, ``_live_``, ``sk-``,
  ``ghp_``, ``xox``, ``eyJ``, ``://``, ``earer `` ...) and runs the regex only
  when one is present. Same output for every input; most strings skip the regex.
  (A no-op once `governance.redaction` has a pre-filter of its own, as it now does.)
- ``raw-sqlite`` (a no-op once the store has its own SQLite batch writer, as it
  now does): the writer thread commits each batch on one persistent
  ``sqlite3`` connection with prepared SQL (BEGIN IMMEDIATE, read the head,
  executemany, move the head, COMMIT): the same transaction, without
  SQLAlchemy's per-batch Python (pool checkout, statement compilation and
  result objects), which also holds the GIL against the event loop.
- ``inline-sqlite``: ``raw-sqlite``'s transaction, run on the event loop itself:
  the appends made in one loop iteration are committed together by a callback
  at its end (``loop.call_soon``), so there is no thread handoff and no GIL
  contention; the loop is blocked for the commit (tens of µs; a WAL
  checkpoint takes longer, which a real design would move to a thread).
- ``null-audit``: records are serialized as the store does and then dropped: the
  cost of the pipeline without durable storage. Not a proposal (it gives up the
  audit guarantee); it bounds what any store design can save.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

EXPERIMENTS = ("no-log", "fast-redact", "raw-sqlite", "inline-sqlite", "null-audit")

# Each credential pattern in governance.redaction contains one of these literally.
_SECRET_HINTS = (
    "AKIA",
    "-----BEGIN",
    "_live_",
    "_test_",
    "sk-",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "xox",
    "eyJ",
    "://",
    "earer ",
)


def fast_redact() -> None:
    from governance import redaction

    pattern = getattr(redaction, "_SECRET_VALUE", None)
    if pattern is None:  # governance.redaction has its own pre-filter now: nothing to patch
        return
    marker = redaction.MARKER

    def redact_text(text: str) -> str:
        for hint in _SECRET_HINTS:
            if hint in text:
                return str(pattern.sub(marker, text))
        return text

    redaction.redact_text = redact_text  # `redact` and the log processor look it up at call time


def _raw_commit() -> Callable[[Any, Sequence[Any]], int]:
    from governance.audit._chain import chain_hash
    from governance.audit._engine import BUSY_TIMEOUT_MS, sqlite_path

    insert = (
        "INSERT INTO audit_record (seq, time, principal, server, tool, outcome, body, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def connection(store: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(store, "_bench_raw", None)
        if conn is None:
            path = sqlite_path(store.engine.url)
            assert path is not None, "raw-sqlite needs a SQLite file"
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            store._bench_raw = conn
        return conn

    def commit(self: Any, batch: Sequence[Any]) -> int:
        conn = connection(self)
        conn.execute("BEGIN IMMEDIATE")
        try:
            head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            if head is None:
                raise RuntimeError("the audit_head row is missing")
            seq, prev = head
            first = seq + 1
            rows = []
            for pending in batch:
                values = pending.values
                seq += 1
                digest = chain_hash(prev, values["body"])
                rows.append(
                    (seq, values["time"], values["principal"], values["server"], values["tool"],
                     values["outcome"], values["body"], prev, digest)
                )  # fmt: skip
                prev = digest
            conn.executemany(insert, rows)
            conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return int(first)

    return commit


def raw_sqlite() -> None:
    from governance.audit import _store

    if not hasattr(_store.AuditStore, "_commit"):
        # The store has its own raw SQLite batch writer now (governance/audit/_batch.py).
        return
    _store.AuditStore._commit = _raw_commit()


def inline_sqlite() -> None:
    import asyncio
    from types import SimpleNamespace

    from governance.audit import _store
    from governance.errors import AuditUnavailable

    commit = _raw_commit()

    def flush(store: Any) -> None:
        batch, store._bench_inline = store._bench_inline, []
        try:
            first = commit(store, [SimpleNamespace(values=values) for values, _ in batch])
        except Exception as exc:
            for _, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(AuditUnavailable(f"the audit record was not stored ({exc})"))
            return
        for offset, (_, waiter) in enumerate(batch):
            if not waiter.done():
                waiter.set_result(first + offset)

    async def append(self: Any, record: Any) -> int:
        values = _store._values(record)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[int] = loop.create_future()
        pending = self.__dict__.setdefault("_bench_inline", [])
        pending.append((values, waiter))
        if len(pending) == 1:
            loop.call_soon(flush, self)
        return await waiter

    _store.AuditStore.append = append  # type: ignore[method-assign]


def null_audit() -> None:
    from governance.audit import _store

    counter = {"seq": 0}

    async def append(self: Any, record: Any) -> int:
        _store._values(record)
        counter["seq"] += 1
        return counter["seq"]

    _store.AuditStore.append = append  # type: ignore[method-assign]


def no_log() -> None:
    from governance.logs import configure_logging

    configure_logging("WARNING")


_APPLY: dict[str, Callable[[], None]] = {
    "fast-redact": fast_redact,
    "raw-sqlite": raw_sqlite,
    "inline-sqlite": inline_sqlite,
    "null-audit": null_audit,
    "no-log": no_log,
}


def apply(names: Sequence[str]) -> None:
    """Patch this process for each named experiment (after logging is configured)."""
    for name in names:
        _APPLY[name]()
