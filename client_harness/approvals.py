"""The approval workflow as a client sees it: recognising a pending approval, and a reviewer's decision.

Both halves live here so that when the server's shape or the reviewer's transport changes, this
is the one file that does.

A gated call comes back as a tool result with ``isError: true`` whose ``structuredContent`` carries
``error`` (``approval_required``, ``approval_denied`` or ``approval_expired``), ``approval_id``,
``status`` (``pending``, ``denied``, ``expired``, ``consumed``), ``expires_at``, and after a decision
``comment`` and ``decided_by``. It is *pending* when ``status`` is ``pending`` (or, from a server
that sends no status, when ``error`` is ``approval_required``). A reviewer acts through the
operator CLI, ``mcpgov approvals approve|deny ID --as REVIEWER [--comment TEXT]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mcp_types import CallToolResult

from client_harness.mcpgov_command import CommandResult, run_mcpgov

ReviewDecision = Literal["approve", "deny"]
APPROVAL_ERRORS = frozenset({"approval_required", "approval_denied", "approval_expired"})


@dataclass(frozen=True, slots=True)
class ApprovalState:
    """Where a gated call's approval stands, as the server reported it."""

    approval_id: str | None
    status: str
    expires_at: str | None = None
    comment: str | None = None
    decided_by: str | None = None

    @property
    def pending(self) -> bool:
        return self.status == "pending"


def approval_state(result: CallToolResult) -> ApprovalState | None:
    """The approval `result` reports on, or None if it is not about one."""
    structured: Mapping[str, Any] = result.structured_content or {}
    error, status = structured.get("error"), structured.get("status")
    if not result.is_error or (error not in APPROVAL_ERRORS and status != "pending"):
        return None
    if status is None:
        status = "pending" if error == "approval_required" else str(error).removeprefix("approval_")

    def text(key: str) -> str | None:
        value = structured.get(key)
        return None if value is None else str(value)

    return ApprovalState(
        approval_id=text("approval_id"),
        status=str(status),
        expires_at=text("expires_at"),
        comment=text("comment"),
        decided_by=text("decided_by"),
    )


async def review(
    decision: ReviewDecision,
    approval_id: str,
    *,
    reviewer: str,
    comment: str | None,
    env: Mapping[str, str],
    command: Sequence[str] | None = None,
    cwd: str | None = None,
) -> CommandResult:
    """Approve or deny `approval_id` as `reviewer`; the result says whether the CLI accepted it.

    Args:
        decision: `approve` or `deny`.
        approval_id: The id the pending result carried.
        reviewer: The reviewing principal (never the requester, unless the policy allows it).
        comment: Sent back to the agent with a denial; recorded with either.
        env: Environment for the CLI, so it finds the same state (``MCPGOV_STATE_DIR``, ``MCPGOV_DB_URL``).
        command: How to run `mcpgov` (default: this interpreter's ``-m mcpgov``).
        cwd: Working directory for the CLI.
    """
    args = ["approvals", decision, approval_id, "--as", reviewer]
    if comment:
        args += ["--comment", comment]
    return await run_mcpgov(args, env=env, command=command, cwd=cwd)
