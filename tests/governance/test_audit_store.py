"""The audit store: durable group-committed appends to one chain, fail closed, and reads."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from sqlalchemy import create_engine, text

from governance.audit import GENESIS_HASH, AuditStore, chain_hash, record_body, verify_chain
from governance.errors import AuditUnavailable, ConfigurationError
from governance.model import AuditRecord

pytest_plugins = ["postgres"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_record(i: int, principal: str = "alice", **changes: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "time": f"2026-07-28T12:00:{i % 60:02d}Z",
        "request_id": f"{principal}-{i}",
        "method": "tools/call",
        "principal": principal,
        "transport": "http",
        "server": "desk",
        "tool": "lookup",
        "arguments": {"order_id": i},
        "outcome": "ok",
        "policy_version": "p" * 64,
    }
    return AuditRecord(**(values | changes))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.db"


@pytest.mark.anyio
async def test_concurrent_appends_get_consecutive_seqs_and_one_chain(db_url: str) -> None:
    with AuditStore.open(db_url) as store:
        records = [make_record(i) for i in range(300)]
        with anyio.fail_after(30):
            seqs = await asyncio.gather(*(store.append(record) for record in records))
        assert sorted(seqs) == list(range(1, 301))
        stored = list(store.iter_records())
        assert [s.seq for s in stored] == list(range(1, 301))
        # Each caller got the seq its own record was stored under.
        by_request = {s.record.request_id: s.seq for s in stored}
        assert [by_request[r.request_id] for r in records] == seqs
        assert stored[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(stored))
        assert verify_chain(store).ok


@pytest.mark.anyio
async def test_a_record_is_readable_from_a_second_connection_as_soon_as_append_returns(db_url: str) -> None:
    reader = create_engine(db_url)
    try:
        with AuditStore.open(db_url) as store:
            for i in range(3):
                record = make_record(i)
                seq = await store.append(record) if i % 2 else store.append_sync(record)
                with reader.connect() as conn:
                    body = conn.execute(text("SELECT body FROM audit_record WHERE seq = :s"), {"s": seq}).scalar()
                assert body == record_body(record)
    finally:
        reader.dispose()


def test_appends_from_several_threads_and_event_loops_share_one_chain(sqlite_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{sqlite_path}") as store:

        async def append_many(principal: str) -> None:
            await asyncio.gather(*(store.append(make_record(i, principal)) for i in range(100)))

        threads = [threading.Thread(target=asyncio.run, args=(append_many(f"p{n}"),)) for n in range(3)]
        threads.append(threading.Thread(target=lambda: [store.append_sync(make_record(i)) for i in range(50)]))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert store.count() == 350
        assert verify_chain(store).ok


@pytest.mark.anyio
async def test_a_failed_commit_fails_every_waiter_and_writes_nothing_of_its_batch(sqlite_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{sqlite_path}") as store:
        await store.append(make_record(0))
        # The batch's rows are inserted before the head moves, so failing the head
        # update proves the whole batch is rolled back, not just refused.
        with sqlite3.connect(sqlite_path) as tamper:
            tamper.execute(
                "CREATE TRIGGER refuse BEFORE UPDATE ON audit_head BEGIN SELECT RAISE(ABORT, 'disk quota'); END"
            )
        outcomes = await asyncio.gather(*(store.append(make_record(i)) for i in range(1, 51)), return_exceptions=True)
        assert all(isinstance(outcome, AuditUnavailable) for outcome in outcomes)
        message = str(outcomes[0])
        assert "disk quota" in message
        assert "reachable and writable" in message
        assert store.count() == 1

        with sqlite3.connect(sqlite_path) as tamper:
            tamper.execute("DROP TRIGGER refuse")
        assert await store.append(make_record(51)) == 2
        assert verify_chain(store).ok


@pytest.mark.anyio
async def test_appends_fail_closed_when_the_table_is_gone(sqlite_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{sqlite_path}") as store:
        with sqlite3.connect(sqlite_path) as tamper:
            tamper.execute("DROP TABLE audit_record")
        with anyio.fail_after(10), pytest.raises(AuditUnavailable, match="no such table"):
            await store.append(make_record(0))
        with pytest.raises(AuditUnavailable):
            store.append_sync(make_record(1))


def test_an_append_is_refused_when_the_head_row_is_missing(sqlite_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{sqlite_path}") as store:
        store.append_sync(make_record(0))
        with sqlite3.connect(sqlite_path) as tamper:
            tamper.execute("DELETE FROM audit_head")
        with pytest.raises(AuditUnavailable, match="audit_head row is missing"):
            store.append_sync(make_record(1))
        assert store.count() == 1


@pytest.mark.anyio
async def test_close_commits_what_was_already_appended_and_refuses_the_rest(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    store = AuditStore.open(url)
    tasks = [asyncio.ensure_future(store.append(make_record(i))) for i in range(100)]
    await anyio.lowlevel.checkpoint()  # every task has queued its record and is waiting
    store.close()
    store.close()  # idempotent
    with anyio.fail_after(10):
        assert sorted(await asyncio.gather(*tasks)) == list(range(1, 101))
    with pytest.raises(AuditUnavailable, match="closed"):
        await store.append(make_record(100))
    with AuditStore.open(url, create=False) as reopened:
        assert reopened.count() == 100


def test_tail_and_iter_records_read_in_chain_order(sqlite_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{sqlite_path}") as store:
        assert store.tail(5) == []
        for i in range(12):
            store.append_sync(make_record(i))
        assert [s.seq for s in store.tail(3)] == [10, 11, 12]
        assert store.tail(3)[-1].record == make_record(11)
        assert [s.seq for s in store.iter_records(after_seq=4, batch=3)] == list(range(5, 13))
        assert store.count() == 12
        last = store.tail(1)[0]
        assert last.hash == chain_hash(last.prev_hash, last.body)


def test_open_creates_the_directory_of_a_new_sqlite_file(sqlite_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{sqlite_path}") as store:
        assert store.count() == 0
    assert sqlite_path.exists()


def test_opening_a_missing_database_without_create_fails_and_creates_nothing(sqlite_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no audit database at"):
        AuditStore.open(f"sqlite:///{sqlite_path}", create=False)
    assert not sqlite_path.parent.exists()


def test_an_in_memory_sqlite_url_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigurationError, match="sqlite:///PATH"):
        AuditStore.open("sqlite://")


def test_an_unreachable_database_is_a_configuration_error_that_hides_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(ConfigurationError, match="cannot open the audit database") as raised:
        AuditStore.open("postgresql+psycopg://audit:s3cret@127.0.0.1:1/audit?connect_timeout=5")
    assert "s3cret" not in str(raised.value)


APPENDER = """
import asyncio, sys
from governance.audit import AuditStore
from governance.model import AuditRecord

url, tag = sys.argv[1], sys.argv[2]

async def main() -> None:
    with AuditStore.open(url) as store:
        for round in range(20):
            await asyncio.gather(*(
                store.append(AuditRecord(
                    time="2026-07-28T12:00:00Z", request_id=f"{tag}-{round}-{i}", method="tools/call",
                    principal=tag, transport="http", server="desk", outcome="ok", policy_version="p",
                ))
                for i in range(20)
            ))

asyncio.run(main())
"""


def appending_processes(url: str, tags: list[str]) -> None:
    processes = [
        subprocess.Popen([sys.executable, "-c", APPENDER, url, tag], stderr=subprocess.PIPE, text=True) for tag in tags
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=90)
        assert process.returncode == 0, stderr


def test_two_processes_appending_to_one_sqlite_file_write_one_chain(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    appending_processes(url, ["first", "second"])  # they also race to create the tables
    with AuditStore.open(url, create=False) as store:
        stored = list(store.iter_records())
        assert [s.seq for s in stored] == list(range(1, 801))
        assert {s.record.principal for s in stored} == {"first", "second"}
        assert verify_chain(store).ok


def test_two_processes_appending_to_one_postgresql_database_write_one_chain(postgres_url: str) -> None:
    appending_processes(postgres_url, ["first", "second"])
    with AuditStore.open(postgres_url, create=False) as store:
        stored = list(store.iter_records())
        assert [s.seq for s in stored] == list(range(1, 801))
        assert {s.record.principal for s in stored} == {"first", "second"}
        assert verify_chain(store).ok


def test_the_public_names_of_the_audit_package_are_pinned() -> None:
    import governance.audit

    assert sorted(governance.audit.__all__) == [
        "AuditStore",
        "GENESIS_HASH",
        "Problem",
        "StoredRecord",
        "VerifyReport",
        "chain_hash",
        "record_body",
        "verify_chain",
    ]


def test_the_sqlite_fast_path_writes_exactly_the_columns_of_the_audit_tables() -> None:
    from governance.audit._batch import _COLUMNS, _HEAD, _INSERT, _MOVE_HEAD
    from governance.audit._table import HEAD, HEAD_ID, QUERY_COLUMNS, RECORDS

    assert set(_COLUMNS) == {column.name for column in RECORDS.columns}
    assert _COLUMNS[: len(QUERY_COLUMNS)] == QUERY_COLUMNS
    assert f"INSERT INTO {RECORDS.name} ({', '.join(_COLUMNS)})" in _INSERT
    assert f"FROM {HEAD.name} WHERE id = {HEAD_ID}" in _HEAD
    assert _MOVE_HEAD.startswith(f"UPDATE {HEAD.name} ")
