"""The approvals table, next to the audit log in the same database.

`live_key` is what makes the workflow race-free across processes: it holds the
binding's digest while an approval is live for that exact call (pending,
approved and not yet used, or decided and not yet reported to the agent) and
is NULL otherwise. A UNIQUE index on it means at most one live approval per
binding, whichever replica asks; consuming clears it in the same UPDATE that
checks the status, so only one of two concurrent retries can win.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Engine, Table, Text
from sqlmodel import Field, SQLModel


class ApprovalRow(SQLModel, table=True):
    """One approval request and its decision."""

    __tablename__ = "approval"

    id: str = Field(primary_key=True, max_length=32)
    live_key: str | None = Field(default=None, max_length=64, unique=True)
    status: str = Field(index=True, max_length=16)
    principal: str = Field(index=True)
    server: str
    tool: str
    args_digest: str = Field(max_length=64)
    arguments: str = Field(sa_type=Text, description="redacted canonical JSON, for the reviewer")
    approvers: str = Field(description="JSON list of the roles that may decide")
    allow_self_approval: bool = False
    policy_version: str = Field(max_length=64)
    created_at: float
    expires_at: float
    decided_by: str | None = None
    decided_at: float | None = None
    comment: str | None = Field(default=None, sa_type=Text)
    consumed_at: float | None = None


APPROVALS = cast(Table, ApprovalRow.__table__)  # type: ignore[attr-defined]


def create_approval_table(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=[APPROVALS])
