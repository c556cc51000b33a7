"""Committing one batch of records to the chain: the writer thread's only job.

Two ways to do the same transaction (read the head under a write lock, insert
the batch, move the head, commit). SQLite gets one long-lived DBAPI connection
and prepared statements: SQLAlchemy's per-statement work (compiling, caching,
result proxies) costs several times the commit itself, and at concurrency 1
every call waits for a batch of one. Every other backend goes through
SQLAlchemy Core, with `FOR UPDATE` on the head row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine, insert, update

from governance.audit._chain import chain_hash
from governance.audit._engine import sqlite_path, write_transaction
from governance.audit._table import HEAD, HEAD_FOR_UPDATE, HEAD_ID, RECORDS


class HeadMissing(Exception):
    """The chain has records but no head row, so there is no safe place to append."""


class BatchWriter(Protocol):
    def commit(self, batch: Sequence[Mapping[str, Any]]) -> int:
        """Append `batch` (query columns and `body` each) in one transaction; return the first seq."""
        ...

    def close(self) -> None: ...


def _chain(batch: Sequence[Mapping[str, Any]], seq: int, prev_hash: str) -> list[dict[str, Any]]:
    rows = []
    for values in batch:
        seq += 1
        hash_ = chain_hash(prev_hash, values["body"])
        rows.append({**values, "seq": seq, "prev_hash": prev_hash, "hash": hash_})
        prev_hash = hash_
    return rows


class CoreBatchWriter:
    """Any SQLAlchemy backend (PostgreSQL in production)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def commit(self, batch: Sequence[Mapping[str, Any]]) -> int:
        with write_transaction(self._engine) as conn:
            head = conn.execute(HEAD_FOR_UPDATE).one_or_none()
            if head is None:
                raise HeadMissing
            rows = _chain(batch, int(head[0]), str(head[1]))
            conn.execute(insert(RECORDS), rows)
            conn.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=rows[-1]["seq"], hash=rows[-1]["hash"]))
        return int(rows[0]["seq"])

    def close(self) -> None:
        return None


# Literal SQL over the tables in _table.py (a test checks the column list against them).
_COLUMNS = ("time", "principal", "server", "tool", "outcome", "body", "seq", "prev_hash", "hash")
_INSERT = (
    "INSERT INTO audit_record (time, principal, server, tool, outcome, body, seq, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
_MOVE_HEAD = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"


class SqliteBatchWriter:
    """SQLite through one DBAPI connection that only the writer thread uses."""

    def __init__(self, engine: Engine) -> None:
        # From the engine, so the connection gets the same pragmas (WAL, busy timeout,
        # autocommit mode so BEGIN is ours) as every other connection to the file.
        self._raw = engine.raw_connection()

    def commit(self, batch: Sequence[Mapping[str, Any]]) -> int:
        cursor = self._raw.cursor()
        try:
            # IMMEDIATE: the write lock from the first statement, so no other process
            # can move the head between our read of it and our update.
            cursor.execute("BEGIN IMMEDIATE")
            try:
                head = cursor.execute(_HEAD).fetchone()
                if head is None:
                    raise HeadMissing
                rows = _chain(batch, int(head[0]), str(head[1]))
                cursor.executemany(_INSERT, [tuple(row[c] for c in _COLUMNS) for row in rows])
                cursor.execute(_MOVE_HEAD, (rows[-1]["seq"], rows[-1]["hash"]))
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.close()
        return int(rows[0]["seq"])

    def close(self) -> None:
        self._raw.close()


def batch_writer(engine: Engine) -> BatchWriter:
    """The fastest correct writer for the engine's backend."""
    if sqlite_path(engine.url) is not None:
        return SqliteBatchWriter(engine)
    return CoreBatchWriter(engine)
