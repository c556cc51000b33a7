"""Verification of the audit chain: find the first record that was edited, deleted or inserted.

``verify_chain`` reads every row in seq order, in one snapshot, together with the
head row, and checks for each row, in this order:

1. its seq follows the previous one; a gap means ``deleted`` at the first missing seq;
2. its stored hash is the hash of its own ``prev_hash`` and body; if not, ``edited``;
3. its ``prev_hash`` is the previous row's hash; if instead it is the hash of the
   row two back, the previous row is not part of the chain: ``inserted`` at the
   previous row's seq; otherwise a record before it is missing: ``deleted`` at
   this seq (this is also how an edit whose hash was recomputed shows up: the
   record the next one points to is gone);
4. its query columns (time, principal, server, tool, outcome) agree with its
   body; if not, ``edited``.

Finally the head must name the last row: a head beyond it means the tail was cut
off (``deleted`` at the first missing seq), a head before it means rows were
added behind the writers' backs (``inserted``), the same seq with another hash
means the last row was replaced (``edited``).

What this cannot detect. The chain proves the log is internally consistent, not
that it is the log that was written. Someone with write access to the database
can, undetected:

- rewrite the tail consistently: change record k, recompute the hash of every
  record after it and move the head (the whole log, if k = 1);
- cut off the tail and move the head back to the new last record;
- append well-formed forged records through the ordinary write path.

Catching those needs an anchor outside the database: publish the head hash
(``mcpgov audit tail -n 1``) somewhere the database's writers cannot rewrite,
and compare later; any earlier head must still appear in the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import select

from governance.audit._chain import GENESIS_HASH
from governance.audit._store import AuditStore
from governance.audit._table import HEAD, HEAD_ID, QUERY_COLUMNS, RECORDS

Problem = Literal["edited", "deleted", "inserted"]

# Large enough that per-fetch overhead vanishes, small enough to bound memory.
_FETCH_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of `verify_chain`.

    Attributes:
        ok: True when every record and the head are consistent.
        checked: How many records were found consistent (all of them when ``ok``).
        first_bad_seq: The seq of the first record found edited, deleted or inserted.
        problem: What happened at ``first_bad_seq``.
        detail: One sentence for a human: what disagreed with what.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: Problem | None = None
    detail: str = ""


def verify_chain(store: AuditStore) -> VerifyReport:
    """Check the whole chain of ``store`` and report the first record that breaks it.

    Reads rows and the head in one snapshot (REPEATABLE READ on PostgreSQL; a
    single read transaction on SQLite), so appends running meanwhile neither
    disturb nor fail the check.
    """
    engine = store.engine
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == HEAD_ID)).one_or_none()
            columns = [RECORDS.c[name] for name in ("seq", *QUERY_COLUMNS, "body", "prev_hash", "hash")]
            stmt = select(*columns).order_by(RECORDS.c.seq)
            # PostgreSQL would otherwise send all rows at once; sqlite3 already
            # fetches lazily, and is slower through SQLAlchemy's buffering.
            options = {} if engine.dialect.name == "sqlite" else {"yield_per": _FETCH_ROWS}
            # Closed explicitly: returning at the first bad row would leave a
            # server-side cursor open.
            with conn.execute(stmt, execution_options=options) as rows:
                report, last_seq, last_hash = _walk(rows)
            if not report.ok:
                return report
    return _check_head(report.checked, last_seq, last_hash, None if head is None else (head[0], head[1]))


def _bad(checked: int, seq: int, problem: Problem, detail: str) -> tuple[VerifyReport, int, str]:
    return VerifyReport(False, checked, seq, problem, detail), 0, ""


def _walk(rows: Iterable[Any]) -> tuple[VerifyReport, int, str]:
    # The hot loop of a million-row check: locals instead of attribute lookups,
    # raw tuples, and no objects built per row beyond the parsed body.
    sha256, loads = hashlib.sha256, orjson.loads
    expected_seq, prev_hash, two_back = 1, GENESIS_HASH, ""
    checked = 0
    for seq, time, principal, server, tool, outcome, body, row_prev, row_hash in rows:
        if seq != expected_seq:
            if seq > expected_seq:
                return _bad(checked, expected_seq, "deleted", f"seq {seq} follows seq {expected_seq - 1}")
            return _bad(checked, seq, "inserted", f"seq {seq} is out of the chain's sequence")
        computed = sha256(b"%s\n%s" % (row_prev.encode(), body.encode())).hexdigest()
        if computed != row_hash:
            return _bad(
                checked,
                seq,
                "edited",
                f"stored hash {row_hash[:12]}… is not the hash of its body {computed[:12]}…",
            )
        if row_prev != prev_hash:
            if row_prev == two_back:
                return _bad(
                    checked,
                    seq - 1,
                    "inserted",
                    f"seq {seq} links to seq {seq - 2}, so seq {seq - 1} is not part of the chain",
                )
            return _bad(
                checked,
                seq,
                "deleted",
                f"seq {seq} links to {row_prev[:12]}…, which is not the record before it",
            )
        try:
            fields = loads(body)
            # Spelled out rather than looped over QUERY_COLUMNS: a third faster.
            copied = (
                fields.get("time"),
                fields.get("principal"),
                fields.get("server"),
                fields.get("tool"),
                fields.get("outcome"),
            )
        except (orjson.JSONDecodeError, AttributeError):
            return _bad(checked, seq, "edited", "the body is not a JSON object")
        if copied != (time, principal, server, tool, outcome):
            stored = (time, principal, server, tool, outcome)
            name = next(n for n, a, b in zip(QUERY_COLUMNS, copied, stored, strict=True) if a != b)
            return _bad(checked, seq, "edited", f"column {name} disagrees with the body")
        two_back, prev_hash = prev_hash, row_hash
        expected_seq = seq + 1
        checked += 1
    return VerifyReport(True, checked), expected_seq - 1, prev_hash


def _check_head(checked: int, last_seq: int, last_hash: str, head: tuple[int, str] | None) -> VerifyReport:
    if head is None:
        if checked == 0:
            return VerifyReport(True, 0)  # nothing was ever written
        return VerifyReport(
            False,
            checked,
            last_seq + 1,
            "deleted",
            "the audit_head row is missing, so a cut-off tail cannot be ruled out",
        )
    head_seq, head_hash = head
    if head_seq > last_seq:
        return VerifyReport(
            False,
            checked,
            last_seq + 1,
            "deleted",
            f"the chain ends at seq {last_seq} but the head says it ends at seq {head_seq}",
        )
    if head_seq < last_seq:
        return VerifyReport(
            False,
            checked,
            head_seq + 1,
            "inserted",
            f"the head says the chain ends at seq {head_seq} but records continue to seq {last_seq}",
        )
    if head_hash != last_hash:
        return VerifyReport(False, checked, last_seq, "edited", "the head's hash is not the hash of the last record")
    return VerifyReport(True, checked)
