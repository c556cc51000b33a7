"""Approval: a gated call runs only with a reviewer's approval of exactly that call, once.

The first call creates a pending request bound to (principal, server, tool,
SHA-256 of the canonical arguments) and comes back as an error result carrying
the approval id. After a reviewer approves, the same principal repeats the
identical call and it runs: consuming the approval is one conditional UPDATE,
so of two concurrent retries exactly one runs. Changed arguments are a new
request. A denial or expiry is reported once, with the reviewer's comment; the
next identical call starts over.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import anyio
import anyio.to_thread

from governance.approvals import Approval, ApprovalStore, Binding, approval_event
from governance.audit import AuditStore
from governance.errors import ApprovalDenied, ApprovalExpired, ApprovalRequired, ConfirmationRequested
from governance.guards._base import CallNext
from governance.model import AuditRecord, HostChannel, Outcome, ToolCall, arguments_digest
from governance.policy import ApprovalGate, Policy
from governance.redaction import redact

POLL_SECONDS = 0.2  # how often a waiting call looks for a decision made by another process


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


class ApprovalGuard:
    """Holds gated calls until a reviewer approves them."""

    def __init__(self, policy: Policy, approvals: ApprovalStore, audit: AuditStore) -> None:
        self._policy = policy
        self._approvals = approvals
        self._audit = audit

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method != "tools/call" or call.info is None or call.tool is None:
            return await call_next(call)
        gate = self._policy.approval_gate(call.info, call.arguments)
        if gate is None and call.approval_reason is not None:
            gate = self._policy.default_gate()  # an earlier guard wants a reviewer (e.g. after untrusted content)
        if gate is None:
            return await call_next(call)
        if gate.confirm == "host" and call.host is not None and call.approval_reason is None:
            return await self._confirm_in_host(call, call.host, call_next)
        binding = Binding(call.principal, call.server, call.tool, arguments_digest(call.arguments))
        approval = await anyio.to_thread.run_sync(self._live_or_request, binding, call, gate)
        call = replace(call, approval_id=approval.id)
        if approval.created:
            await self._event(call, approval, "requested")
        if approval.status == "pending" and gate.wait_seconds > 0:
            approval = await self._wait(call, approval, gate.wait_seconds)
        if approval.status == "approved":
            return await self._run_once(call, approval, call_next)
        if approval.status == "denied":
            await anyio.to_thread.run_sync(self._approvals.release, approval.id)
            raise ApprovalDenied(
                f"Denied by {approval.decided_by}: {approval.comment} (approval {approval.id}). "
                "Do not retry this call; change the plan or ask a person.",
                approval_id=approval.id,
                status="denied",
                comment=approval.comment,
                decided_by=approval.decided_by,
                call=call,
            )
        if approval.status == "expired":
            await anyio.to_thread.run_sync(self._approvals.release, approval.id)
            await self._event(call, approval, "expired")
            raise ApprovalExpired(
                f"Approval request {approval.id} expired before anyone decided. "
                "Call again to file a new request, or ask a person to review it sooner.",
                approval_id=approval.id,
                status="expired",
                call=call,
            )
        reason = f" because {call.approval_reason}" if call.approval_reason else ""
        raise ApprovalRequired(
            f"Approval required{reason}: '{call.tool}' waits for a reviewer (request {approval.id}, expires "
            f"{_iso(approval.expires_at)}). Once it is approved, repeat exactly the same call to run it; "
            "do not change the arguments.",
            approval_id=approval.id,
            status="pending",
            expires_at=_iso(approval.expires_at),
            call=call,
        )

    async def _confirm_in_host(self, call: ToolCall, host: HostChannel, call_next: CallNext) -> Outcome:
        """The policy trusts this host to ask its user: a confirmation, recorded as such, not an approval."""
        message = f"Allow {call.server}.{call.tool} with {redact(dict(call.arguments))}?"
        answer = host.answer
        if answer is None and host.ask is not None:
            answer = await host.ask(message)
        if answer is None:
            raise ConfirmationRequested(message, status="confirm_in_host", call=call)
        await self._audit.append(
            AuditRecord(
                time=datetime.now(UTC).isoformat(),
                phase="approval",
                method="approvals/confirmed",
                principal=call.principal,
                transport=call.transport,
                server=call.server,
                tool=call.tool,
                arguments=redact(dict(call.arguments)),
                args_digest=arguments_digest(call.arguments),
                approval_event="confirmed",
                comment=f"host user answered {answer} (an in-band confirmation, not a reviewer's approval)",
                outcome="ok" if answer == "accept" else "refused",
                policy_version=self._policy.version,
            )
        )
        if answer != "accept":
            raise ApprovalDenied(
                f"The user declined '{call.tool}' in the host ({answer}). Do not retry; ask them what to do.",
                status="declined",
                call=call,
            )
        return await call_next(call)

    def _live_or_request(self, binding: Binding, call: ToolCall, gate: ApprovalGate) -> Approval:
        return self._approvals.live_or_request(
            binding,
            arguments=redact(dict(call.arguments)),
            approvers=gate.approvers,
            allow_self_approval=gate.allow_self_approval,
            ttl_seconds=gate.ttl_seconds,
            policy_version=self._policy.version,
            now=time.time(),
        )

    async def _run_once(self, call: ToolCall, approval: Approval, call_next: CallNext) -> Outcome:
        consumed = await anyio.to_thread.run_sync(lambda: self._approvals.consume(approval.id, now=time.time()))
        if not consumed:
            raise ApprovalRequired(
                f"Approval {approval.id} was already used by another call or has just expired; "
                "an approval runs its call once. Call again to file a new request.",
                approval_id=approval.id,
                status="consumed",
                call=call,
            )
        await self._event(call, approval, "consumed")
        outcome = await call_next(call)
        await self._event(call, approval, "executed")
        return outcome

    async def _wait(self, call: ToolCall, approval: Approval, wait_seconds: float) -> Approval:
        """Wait up to `wait_seconds` for a decision, telling the caller we are still waiting."""
        deadline = time.monotonic() + wait_seconds
        current = approval
        while current.status == "pending" and time.monotonic() < deadline:
            if call.progress is not None:
                waited = wait_seconds - (deadline - time.monotonic())
                await call.progress(waited, wait_seconds, f"waiting for a reviewer to decide {approval.id}")
            await anyio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            found = await anyio.to_thread.run_sync(self._approvals.get, approval.id)
            if found is None:
                break
            current = found
            if current.is_expired(time.time()):
                break
        return current

    async def _event(self, call: ToolCall, approval: Approval, event: str) -> None:
        await self._audit.append(
            approval_event(
                approval,
                event,
                actor=call.principal,
                transport=call.transport,
                policy_version=self._policy.version,
            )
        )
