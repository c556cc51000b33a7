"""Chain verification finds the first edited, deleted or inserted record, and says which."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text

from governance.audit import GENESIS_HASH, AuditStore, VerifyReport, chain_hash, record_body, verify_chain
from governance.model import AuditRecord

pytest_plugins = ["postgres"]

RECORDS = 10


def make_record(i: int, principal: str = "alice") -> AuditRecord:
    return AuditRecord(
        time=f"2026-07-28T12:00:{i % 60:02d}Z",
        request_id=f"r{i}",
        method="tools/call",
        principal=principal,
        transport="http",
        server="desk",
        tool="refund",
        arguments={"order_id": i, "amount": 10 * i},
        outcome="ok",
        policy_version="p" * 64,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    with AuditStore.open(url) as opened:
        for i in range(1, RECORDS + 1):
            opened.append_sync(make_record(i))
        yield opened


def tamper(store: AuditStore, sql: str, **params: Any) -> None:
    """Change the tables the way an attacker would: directly, on a connection of their own."""
    engine = create_engine(store.engine.url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def hash_at(conn: Connection, seq: int) -> str:
    if seq == 0:
        return GENESIS_HASH
    return str(conn.execute(text("SELECT hash FROM audit_record WHERE seq = :s"), {"s": seq}).scalar_one())


def insert_forged(conn: Connection, seq: int, record: AuditRecord, prev_hash: str) -> str:
    body = record_body(record)
    hash_ = chain_hash(prev_hash, body)
    conn.execute(
        text(
            "INSERT INTO audit_record (seq, time, principal, server, tool, outcome, body, prev_hash, hash)"
            " VALUES (:seq, :time, :principal, :server, :tool, :outcome, :body, :prev_hash, :hash)"
        ),
        {
            "seq": seq,
            "time": record.time,
            "principal": record.principal,
            "server": record.server,
            "tool": record.tool,
            "outcome": record.outcome,
            "body": body,
            "prev_hash": prev_hash,
            "hash": hash_,
        },
    )
    return hash_


def failure(report: VerifyReport) -> tuple[bool, int | None, str | None]:
    return report.ok, report.first_bad_seq, report.problem


def test_an_intact_chain_verifies(store: AuditStore) -> None:
    assert verify_chain(store) == VerifyReport(ok=True, checked=RECORDS)


def test_an_empty_log_verifies(tmp_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{tmp_path / 'audit.db'}") as empty:
        assert verify_chain(empty) == VerifyReport(ok=True, checked=0)


@pytest.mark.requirement("audit.chain-detects-edit")
def test_an_edited_body_is_reported_as_edited_at_its_seq(store: AuditStore) -> None:
    forged = record_body(make_record(4, principal="mallory"))
    tamper(store, "UPDATE audit_record SET body = :b, principal = 'mallory' WHERE seq = 4", b=forged)
    report = verify_chain(store)
    assert failure(report) == (False, 4, "edited")
    assert report.checked == 3
    assert "hash" in report.detail


@pytest.mark.requirement("audit.chain-detects-edit")
def test_an_edited_query_column_is_reported_as_edited(store: AuditStore) -> None:
    tamper(store, "UPDATE audit_record SET principal = 'mallory' WHERE seq = 6")
    report = verify_chain(store)
    assert failure(report) == (False, 6, "edited")
    assert "principal" in report.detail


@pytest.mark.requirement("audit.chain-detects-delete")
def test_a_deleted_record_is_reported_at_the_first_missing_seq(store: AuditStore) -> None:
    tamper(store, "DELETE FROM audit_record WHERE seq IN (5, 6)")
    assert failure(verify_chain(store)) == (False, 5, "deleted")


@pytest.mark.requirement("audit.chain-detects-delete")
def test_a_deletion_hidden_by_renumbering_is_still_reported_as_deleted(store: AuditStore) -> None:
    tamper(store, "DELETE FROM audit_record WHERE seq = 5")
    tamper(store, "UPDATE audit_record SET seq = -(seq - 1) WHERE seq > 5")
    tamper(store, "UPDATE audit_record SET seq = -seq WHERE seq < 0")
    tamper(store, "UPDATE audit_head SET seq = seq - 1")
    assert failure(verify_chain(store)) == (False, 5, "deleted")


@pytest.mark.requirement("audit.chain-detects-insert")
@pytest.mark.parametrize("k", [1, 5, RECORDS])
def test_an_inserted_record_with_a_correct_hash_is_reported_as_inserted_at_its_seq(store: AuditStore, k: int) -> None:
    engine = create_engine(store.engine.url)
    with engine.begin() as conn:
        # Make room at k (negating first keeps the primary key unique row by row).
        conn.execute(text("UPDATE audit_record SET seq = -(seq + 1) WHERE seq >= :k"), {"k": k})
        conn.execute(text("UPDATE audit_record SET seq = -seq WHERE seq < 0"))
        insert_forged(conn, k, make_record(99, principal="mallory"), hash_at(conn, k - 1))
        conn.execute(text("UPDATE audit_head SET seq = seq + 1"))
    engine.dispose()
    report = verify_chain(store)
    assert failure(report) == (False, k, "inserted")
    assert report.checked == k


@pytest.mark.requirement("audit.chain-detects-insert")
def test_a_record_appended_behind_the_writers_back_is_reported_as_inserted(store: AuditStore) -> None:
    engine = create_engine(store.engine.url)
    with engine.begin() as conn:
        insert_forged(conn, RECORDS + 1, make_record(99), hash_at(conn, RECORDS))
    engine.dispose()
    assert failure(verify_chain(store)) == (False, RECORDS + 1, "inserted")


@pytest.mark.requirement("audit.chain-detects-delete")
def test_a_cut_off_tail_is_reported_as_deleted_at_its_first_missing_seq(store: AuditStore) -> None:
    tamper(store, "DELETE FROM audit_record WHERE seq > 7")
    report = verify_chain(store)
    assert failure(report) == (False, 8, "deleted")
    assert "head" in report.detail


def test_a_missing_head_row_is_reported(store: AuditStore) -> None:
    tamper(store, "DELETE FROM audit_head")
    assert failure(verify_chain(store)) == (False, RECORDS + 1, "deleted")


def test_an_edit_whose_hash_was_recomputed_breaks_the_next_link(store: AuditStore) -> None:
    engine = create_engine(store.engine.url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq = 3"))
        insert_forged(conn, 3, make_record(3, principal="mallory"), hash_at(conn, 2))
    engine.dispose()
    # The forged record itself is consistent; what gives it away is that record 4
    # points at a hash no longer in the chain, exactly as if a record was removed.
    assert failure(verify_chain(store)) == (False, 4, "deleted")


def test_a_consistently_rewritten_tail_is_beyond_what_the_chain_can_detect(store: AuditStore) -> None:
    # Pins the limit stated in governance.audit._verify: without an anchor kept
    # outside the database, a rewrite of everything from k on verifies.
    engine = create_engine(store.engine.url)
    with engine.begin() as conn:
        prev_hash = hash_at(conn, 6)
        conn.execute(text("DELETE FROM audit_record WHERE seq >= 7"))
        for seq in range(7, RECORDS + 1):
            prev_hash = insert_forged(conn, seq, make_record(seq, principal="mallory"), prev_hash)
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev_hash})
    engine.dispose()
    assert verify_chain(store).ok


def test_verify_reads_one_snapshot_while_appends_continue(tmp_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{tmp_path / 'audit.db'}") as store:
        store.append_sync(make_record(0))
        stop = threading.Event()

        def keep_appending() -> None:
            i = 1
            while not stop.is_set():
                store.append_sync(make_record(i))
                i += 1

        writer = threading.Thread(target=keep_appending)
        writer.start()
        try:
            reports = [verify_chain(store) for _ in range(20)]
        finally:
            stop.set()
            writer.join(timeout=10)
        assert all(report.ok for report in reports)
        assert verify_chain(store).checked == store.count()
