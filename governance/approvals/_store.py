"""Durable approvals: request, decide, consume; each step one atomic statement or transaction.

The store knows nothing of policy: who may decide is checked by the caller
(`governance.approvals.review`) before `decide` is called. All methods are
synchronous; the guard runs them in a worker thread.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import Engine, Row, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from governance.approvals._table import APPROVALS, create_approval_table
from governance.audit._engine import write_transaction

Status = Literal["pending", "approved", "denied", "expired", "consumed"]


@dataclass(frozen=True, slots=True)
class Binding:
    """What an approval is bound to: exactly this principal calling this tool with these arguments."""

    principal: str
    server: str
    tool: str
    args_digest: str

    @property
    def key(self) -> str:
        text = "\x1f".join((self.principal, self.server, self.tool, self.args_digest))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Approval:
    """An approval request as stored."""

    id: str
    status: Status
    principal: str
    server: str
    tool: str
    args_digest: str
    arguments: dict[str, Any]
    approvers: tuple[str, ...]
    allow_self_approval: bool
    policy_version: str
    created_at: float
    expires_at: float
    decided_by: str | None = None
    decided_at: float | None = None
    comment: str | None = None
    consumed_at: float | None = None
    created: bool = False  # True only on the call that created it

    def is_expired(self, now: float) -> bool:
        return self.status in ("pending", "approved") and now >= self.expires_at


class ApprovalStateError(Exception):
    """The approval is not in a state that allows this step (already decided, expired, unknown)."""


def _approval(row: Row[Any], *, created: bool = False) -> Approval:
    m = row._mapping
    return Approval(
        id=m["id"],
        status=m["status"],
        principal=m["principal"],
        server=m["server"],
        tool=m["tool"],
        args_digest=m["args_digest"],
        arguments=orjson.loads(m["arguments"]),
        approvers=tuple(orjson.loads(m["approvers"])),
        allow_self_approval=bool(m["allow_self_approval"]),
        policy_version=m["policy_version"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        decided_by=m["decided_by"],
        decided_at=m["decided_at"],
        comment=m["comment"],
        consumed_at=m["consumed_at"],
        created=created,
    )


class ApprovalStore:
    """Approvals in the deployment's database (shared by every replica that uses it)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        create_approval_table(engine)

    def get(self, approval_id: str) -> Approval | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(APPROVALS).where(APPROVALS.c.id == approval_id)).one_or_none()
        return None if row is None else _approval(row)

    def list(self, status: Status | None = None, limit: int = 50) -> list[Approval]:
        """Newest first."""
        query = select(APPROVALS).order_by(APPROVALS.c.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(APPROVALS.c.status == status)
        with self._engine.connect() as conn:
            return [_approval(row) for row in conn.execute(query)]

    def live_or_request(
        self,
        binding: Binding,
        *,
        arguments: dict[str, Any],
        approvers: tuple[str, ...],
        allow_self_approval: bool,
        ttl_seconds: float,
        policy_version: str,
        now: float,
    ) -> Approval:
        """The live approval for this exact call, or a new pending one.

        A live approval past its expiry is marked expired here (and still
        returned, so the caller can tell the agent once).
        """
        key = binding.key
        for _ in range(3):  # a concurrent request for the same binding may win the insert
            with write_transaction(self._engine) as conn:
                row = conn.execute(select(APPROVALS).where(APPROVALS.c.live_key == key)).one_or_none()
                if row is not None:
                    existing = _approval(row)
                    if existing.is_expired(now):
                        conn.execute(update(APPROVALS).where(APPROVALS.c.id == existing.id).values(status="expired"))
                        row = conn.execute(select(APPROVALS).where(APPROVALS.c.id == existing.id)).one()
                    return _approval(row)
                new_id = "apr_" + secrets.token_hex(8)
                try:
                    conn.execute(
                        insert(APPROVALS).values(
                            id=new_id,
                            live_key=key,
                            status="pending",
                            principal=binding.principal,
                            server=binding.server,
                            tool=binding.tool,
                            args_digest=binding.args_digest,
                            arguments=orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS).decode(),
                            approvers=orjson.dumps(list(approvers)).decode(),
                            allow_self_approval=allow_self_approval,
                            policy_version=policy_version,
                            created_at=now,
                            expires_at=now + ttl_seconds,
                        )
                    )
                except IntegrityError:
                    continue
                created = conn.execute(select(APPROVALS).where(APPROVALS.c.id == new_id)).one()
                return _approval(created, created=True)
        raise ApprovalStateError("could not create or find the approval request; retry the call")

    def decide(self, approval_id: str, *, reviewer: str, approve: bool, comment: str | None, now: float) -> Approval:
        """Approve or deny a pending, unexpired request.

        Raises:
            ApprovalStateError: unknown id, or the request is no longer pending.
        """
        status: Status = "approved" if approve else "denied"
        with write_transaction(self._engine) as conn:
            changed = conn.execute(
                update(APPROVALS)
                .where(
                    and_(
                        APPROVALS.c.id == approval_id,
                        APPROVALS.c.status == "pending",
                        APPROVALS.c.expires_at > now,
                    )
                )
                .values(status=status, decided_by=reviewer, decided_at=now, comment=comment)
            ).rowcount
        current = self.get(approval_id)
        if current is None:
            raise ApprovalStateError(f"no approval has id {approval_id!r}; `mcpgov approvals list` shows them")
        if changed != 1:
            state = "expired" if current.is_expired(now) else current.status
            raise ApprovalStateError(f"approval {approval_id} is {state}, not pending; nothing was changed")
        return current

    def consume(self, approval_id: str, *, now: float) -> bool:
        """Use an approved, unexpired approval once. True for exactly one caller, ever."""
        with write_transaction(self._engine) as conn:
            changed = conn.execute(
                update(APPROVALS)
                .where(
                    and_(
                        APPROVALS.c.id == approval_id,
                        APPROVALS.c.status == "approved",
                        APPROVALS.c.expires_at > now,
                    )
                )
                .values(status="consumed", consumed_at=now, live_key=None)
            ).rowcount
        return changed == 1

    def release(self, approval_id: str) -> None:
        """A denial or expiry has been reported: the next identical call starts a new request."""
        with write_transaction(self._engine) as conn:
            conn.execute(
                update(APPROVALS)
                .where(and_(APPROVALS.c.id == approval_id, APPROVALS.c.status.in_(["denied", "expired"])))
                .values(live_key=None)
            )
