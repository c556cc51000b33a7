"""The audit store: durable, group-committed appends to one hash chain, and reads.

Writes go through one writer thread per store. Callers enqueue a record and wait;
the thread drains whatever has queued up into one transaction (read the head
under a write lock, insert the batch, move the head, commit) and only then
resolves each caller's future. One commit per batch rather than per record is
what keeps the audit cheap under load; one transaction per batch is what makes a
failure all-or-nothing: every caller of a failed batch gets ``AuditUnavailable``
and none of its records exist.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

from sqlalchemy import Engine, Row, func, select
from sqlalchemy.exc import SQLAlchemyError

from governance.audit._batch import BatchWriter, HeadMissing, batch_writer
from governance.audit._chain import record_body
from governance.audit._engine import create_audit_engine, describe_url, driver_message
from governance.audit._table import RECORDS, create_tables, has_tables
from governance.errors import AuditUnavailable, ConfigurationError
from governance.model import AuditRecord

MAX_BATCH: Final = 5_000
_STOP: Final = object()
_Waiter = asyncio.Future[int] | concurrent.futures.Future[int]
_Settlement = tuple[asyncio.Future[int], int | BaseException]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A committed record and its place in the chain.

    ``body`` is the exact canonical JSON text that was hashed, so an export can
    be re-verified byte for byte even by a reader with a newer ``AuditRecord``.
    """

    seq: int
    prev_hash: str
    hash: str
    record: AuditRecord
    body: str


@dataclass(frozen=True, slots=True)
class _Pending:
    values: dict[str, Any]
    waiter: _Waiter


def _values(record: AuditRecord) -> dict[str, Any]:
    # Serialized on the caller's side: a record that cannot be serialized fails
    # its own caller, never the batch it would have joined.
    return {
        "time": record.time,
        "principal": record.principal,
        "server": record.server,
        "tool": record.tool,
        "outcome": record.outcome,
        "body": record_body(record),
    }


def _stored(row: Row[int, str, str, str]) -> StoredRecord:
    seq, prev_hash, hash_, body = row
    return StoredRecord(seq, prev_hash, hash_, AuditRecord.model_validate_json(body), body)


def _settle_on_loop(settlements: list[_Settlement]) -> None:
    for future, outcome in settlements:
        if future.done():  # the caller was cancelled; its record stands regardless
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class AuditStore:
    """The tamper-evident audit log over one SQLAlchemy database.

    Safe to share between threads and event loops; several processes (or
    gateway replicas) may open the same database and still write one chain.
    """

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        """Wrap an engine whose audit tables exist; most callers want `AuditStore.open`."""
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> AuditStore:
        """Open the audit log at ``url``, creating its tables unless ``create`` is False.

        Raises:
            ConfigurationError: The database cannot be reached, or (``create=False``)
                it holds no audit log.
        """
        engine: Engine | None = None
        try:
            engine = create_audit_engine(url, create=create)
            if create:
                create_tables(engine)
            elif not has_tables(engine):
                raise ConfigurationError(f"no audit database at {describe_url(url)} (no audit tables)")
            return cls(engine)
        except BaseException as exc:
            if engine is not None:
                engine.dispose()
            # ImportError: the URL names a driver that is not installed (mcpgov[postgres]).
            if isinstance(exc, SQLAlchemyError | OSError | ImportError):
                raise ConfigurationError(
                    f"cannot open the audit database {describe_url(url)}: {driver_message(exc)}"
                ) from exc
            raise

    @property
    def engine(self) -> Engine:
        """The engine, for verification and for tests that tamper with the tables."""
        return self._engine

    async def append(self, record: AuditRecord) -> int:
        """Append ``record`` and return its seq once it is committed.

        If the caller is cancelled while waiting, the record may still be committed.

        Raises:
            AuditUnavailable: The batch holding the record could not be committed
                (none of it was), or the store is closed.
        """
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._submit(_Pending(_values(record), waiter))
        return await waiter

    def append_sync(self, record: AuditRecord) -> int:
        """Blocking `append`, for the CLI, scripts and tests.

        Raises:
            AuditUnavailable: As for `append`.
        """
        waiter: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._submit(_Pending(_values(record), waiter))
        return waiter.result()

    def close(self) -> None:
        """Commit everything already appended, stop the writer thread and release connections.

        Idempotent; appends after `close` raise `AuditUnavailable`.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join()
        self._engine.dispose()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def count(self) -> int:
        """How many records are stored."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(RECORDS)).scalar_one())

    def tail(self, n: int = 20) -> list[StoredRecord]:
        """The last ``n`` records, newest last."""
        if n <= 0:
            return []
        stmt = select(*_READ_COLUMNS).order_by(RECORDS.c.seq.desc()).limit(n)
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [_stored(row) for row in reversed(rows)]

    def iter_records(self, after_seq: int = 0, batch: int = 5_000) -> Iterator[StoredRecord]:
        """Every record with seq above ``after_seq``, in order, read ``batch`` rows at a time.

        Each batch is its own short read, so a slow consumer holds no transaction open.
        """
        last = after_seq
        while True:
            stmt = select(*_READ_COLUMNS).where(RECORDS.c.seq > last).order_by(RECORDS.c.seq).limit(batch)
            with self._engine.connect() as conn:
                rows = conn.execute(stmt).all()
            yield from (_stored(row) for row in rows)
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def _submit(self, pending: _Pending) -> None:
        # Under the lock so nothing can be queued behind the stop marker and never answered.
        with self._lock:
            if self._closed:
                raise AuditUnavailable("the audit store is closed; the request was not run")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run_writer, name="mcpgov-audit-writer")
                # Daemon: an unclosed store must not hang interpreter exit. Nothing
                # acknowledged is lost that way, since callers are only answered
                # after their commit.
                self._thread.daemon = True
                self._thread.start()
            self._queue.put(pending)

    def _run_writer(self) -> None:
        writer: BatchWriter | None = None
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < self._max_batch:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                # The stop marker is always the last thing ever queued (see _submit).
                pending = [item for item in batch if isinstance(item, _Pending)]
                if pending:
                    writer = self._write(writer, pending)
                if batch[-1] is _STOP:
                    return
        finally:
            if writer is not None:
                writer.close()

    def _write(self, writer: BatchWriter | None, batch: list[_Pending]) -> BatchWriter | None:
        """Commit one batch and answer its callers; returns the writer to use next (None after a failure)."""
        try:
            # Opened here, in the writer thread, which is the only thread that uses it.
            writer = writer or batch_writer(self._engine)
            first_seq = writer.commit([pending.values for pending in batch])
        except Exception as exc:  # whatever it was, the batch fails closed and the writer lives on
            self._settle(batch, [self._unavailable(exc) for _ in batch])
            if writer is not None:
                writer.close()  # a fresh connection for the next batch, in case this one is broken
            return None
        self._settle(batch, range(first_seq, first_seq + len(batch)))
        return writer

    def _unavailable(self, exc: Exception) -> AuditUnavailable:
        where = describe_url(self._engine.url)
        if isinstance(exc, HeadMissing):
            cause = "the audit_head row is missing although records exist"
            fix = f"run `mcpgov audit verify --db {where}` and restore the database from a backup"
        else:
            # Never SQLAlchemy's own text: it quotes the parameters, i.e. the records.
            cause = driver_message(exc)
            fix = f"check that the audit database {where} is reachable and writable, then retry"
        error = AuditUnavailable(f"the audit record was not stored ({cause}); {fix}")
        error.__cause__ = exc
        return error

    def _settle(self, batch: Sequence[_Pending], outcomes: Sequence[int | BaseException]) -> None:
        # One call_soon_threadsafe per event loop per batch, not per record: each
        # call writes to the loop's wake-up pipe.
        by_loop: dict[asyncio.AbstractEventLoop, list[_Settlement]] = {}
        for pending, result in zip(batch, outcomes, strict=True):
            waiter = pending.waiter
            if isinstance(waiter, asyncio.Future):
                by_loop.setdefault(waiter.get_loop(), []).append((waiter, result))
            elif isinstance(result, BaseException):  # append_sync's future: never cancelled
                waiter.set_exception(result)
            else:
                waiter.set_result(result)
        for loop, settlements in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting
                loop.call_soon_threadsafe(_settle_on_loop, settlements)


_READ_COLUMNS = (RECORDS.c.seq, RECORDS.c.prev_hash, RECORDS.c.hash, RECORDS.c.body)
