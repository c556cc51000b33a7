"""Writes that run once: one transaction each, repeatable under an idempotency key.

A write given an ``idempotency_key`` records the key, a digest of the tool and its arguments, and
its result in the same transaction as the write itself. A retry with the same key and arguments
gets the original result back without writing again; a retry with other arguments (or from
another tool) is refused. The key row is inserted before the work: two concurrent calls with one
key collide on its primary key (SQLite serializes writers anyway, PostgreSQL blocks the second
insert until the first commits), and the loser replays the winner's result. A write that fails
rolls back its key row too, so a failed attempt never spends the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from servers._sql import write_session
from servers.tickets._tables import IdempotencyRow
from servers.tickets._workflow import TicketRuleError

__all__ = ["Result", "Written", "run_write"]

Result = TypeVar("Result", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Written(Generic[Result]):
    """A write's result and when its data was true (for a replay: when the original write ran)."""

    result: Result
    as_of: datetime


def run_write(
    engine: Engine,
    clock: Callable[[], datetime],
    tool: str,
    arguments: dict[str, Any],
    key: str | None,
    action: Callable[[Session, datetime], Result],
    model: type[Result],
) -> Written[Result]:
    """Run ``action`` in one write transaction, at most once per ``key``.

    Args:
        engine: The tickets database.
        clock: Gives the time the write happens (passed to ``action``).
        tool: The tool's name, part of what the key is bound to.
        arguments: The write's arguments (JSON-able), the rest of what the key is bound to.
        key: The caller's idempotency key, or None for a plain write.
        action: Does the write in the session it is given and returns the result.
        model: The result's model, to read a stored result back.

    Raises:
        TicketRuleError: ``key`` was used before with another tool or other arguments, or
            ``action`` refused the write.
    """
    digest = hashlib.sha256(json.dumps([tool, arguments], sort_keys=True).encode()).hexdigest()
    for attempt in range(2):
        try:
            with write_session(engine) as session:
                now = clock()
                marker: IdempotencyRow | None = None
                if key is not None:
                    earlier = session.get(IdempotencyRow, key)
                    if earlier is not None:
                        return _replay(earlier, tool, digest, model)
                    marker = IdempotencyRow(key=key, tool=tool, args_digest=digest, result="", created_at=now)
                    session.add(marker)
                    session.flush()  # a concurrent holder of the same key fails here, before any work
                result = action(session, now)
                if marker is not None:
                    marker.result = result.model_dump_json()
                    session.add(marker)
            return Written(result=result, as_of=now)
        except IntegrityError:
            if key is None or attempt == 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _replay(earlier: IdempotencyRow, tool: str, digest: str, model: type[Result]) -> Written[Result]:
    if earlier.tool != tool or earlier.args_digest != digest:
        used_for = "other arguments" if earlier.tool == tool else f"a {earlier.tool} call"
        raise TicketRuleError(
            f"idempotency_key {earlier.key!r} was already used for {used_for}. Repeat the original "
            "arguments to get its result again, or use a new key for a different request."
        )
    original = model.model_validate_json(earlier.result)
    return Written(result=original.model_copy(update={"replayed": True}), as_of=earlier.created_at)
