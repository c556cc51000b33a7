"""A reviewer's decision, checked against the policy and written to the audit log.

The CLI and the HTTP admin API both decide through `review`, so the rules are
the same wherever a reviewer acts: only an approver role may decide, the
requester may not approve their own call unless the policy allows it, and a
denial carries a comment (it is the agent's feedback).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from governance.approvals._store import Approval, ApprovalStateError, ApprovalStore
from governance.audit import AuditStore
from governance.model import AuditRecord, Transport
from governance.policy import Policy


class ReviewRefused(ApprovalStateError):
    """The reviewer may not make this decision."""


def approval_event(
    approval: Approval,
    event: str,
    *,
    actor: str,
    transport: Transport,
    policy_version: str,
    comment: str | None = None,
    when: float | None = None,
) -> AuditRecord:
    """The audit record of one step of an approval's life, linked by its id."""
    return AuditRecord.model_validate(
        {
            "time": datetime.fromtimestamp(time.time() if when is None else when, UTC).isoformat(),
            "phase": "approval",
            "method": "approvals/" + event,
            "principal": actor,
            "transport": transport,
            "server": approval.server,
            "tool": approval.tool,
            "arguments": approval.arguments,
            "args_digest": approval.args_digest,
            "approval_id": approval.id,
            "approval_event": event,
            "comment": comment,
            "outcome": "ok",
            "policy_version": policy_version,
        }
    )


def review(
    approvals: ApprovalStore,
    policy: Policy,
    audit: AuditStore,
    approval_id: str,
    *,
    reviewer: str,
    approve: bool,
    comment: str | None,
    transport: Transport,
) -> Approval:
    """Approve or deny a pending request as `reviewer`.

    Raises:
        ReviewRefused: the reviewer has no approver role, is the requester, or denies without a comment.
        ApprovalStateError: the request is unknown or no longer pending.
        AuditUnavailable: the decision was stored but its audit record could not be.
    """
    approval = approvals.get(approval_id)
    if approval is None:
        raise ApprovalStateError(f"no approval has id {approval_id!r}; `mcpgov approvals list` shows them")
    if reviewer == approval.principal and not approval.allow_self_approval:
        raise ReviewRefused(
            f"{reviewer} requested this call and cannot approve or deny it; another approver must decide"
        )
    if not policy.may_approve(reviewer, approval.approvers):
        roles = ", ".join(approval.approvers) or "none configured (set approvals.approvers in the policy)"
        raise ReviewRefused(f"{reviewer} has no approver role for this request (approver roles: {roles})")
    if not approve and not (comment and comment.strip()):
        raise ReviewRefused("a denial needs a comment: it is what the agent is told; pass --comment")
    decided = approvals.decide(approval_id, reviewer=reviewer, approve=approve, comment=comment, now=time.time())
    audit.append_sync(
        approval_event(
            decided,
            "approved" if approve else "denied",
            actor=reviewer,
            transport=transport,
            policy_version=policy.version,
            comment=comment,
        )
    )
    return decided
