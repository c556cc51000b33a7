"""Audit: one record per request, in the hash chain, before the answer leaves.

`AuditGuard` is outermost, so denials and errors are recorded too, and a
request's record is committed before its result is returned: if the record
cannot be stored, the caller gets an error instead of an unaudited answer.
`WriteAheadGuard` is innermost: a tool that may change things runs only after
a durable record says it is about to.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from governance.audit import AuditStore
from governance.errors import DownstreamFailure, GovernanceError, ToolProblem
from governance.guards._base import CallNext
from governance.logs import get_logger
from governance.model import AuditRecord, Outcome, OutcomeKind, ToolCall, arguments_digest
from governance.provenance import read_provenance
from governance.redaction import redact, redact_text

_log = get_logger("mcpgov.audit")


def build_record(
    call: ToolCall,
    *,
    outcome: OutcomeKind,
    policy_version: str,
    server_version: str,
    error: BaseException | None = None,
    phase: str = "request",
) -> AuditRecord:
    """The audit record for `call` as it stands, with its arguments redacted and digested."""
    has_args = call.method == "tools/call"
    latency = None if phase == "intent" else (time.perf_counter_ns() - call.started_ns) / 1e6
    return AuditRecord(
        time=datetime.fromtimestamp(call.started_wall, UTC).isoformat(),
        request_id=call.request_id,
        phase="intent" if phase == "intent" else "request",
        method=call.method,
        principal=call.principal,
        transport=call.transport,
        protocol_version=call.protocol_version,
        session_id=call.session_id,
        server=call.server,
        server_version=server_version,
        tool=call.tool,
        arguments=redact(dict(call.arguments)) if has_args else {},
        args_digest=arguments_digest(call.arguments) if has_args else None,
        decision=None if call.decision is None else call.decision.effect,
        policy_ids=list(call.decision.policy_ids) if call.decision else [],
        approval_id=call.approval_id,
        outcome=outcome,
        error=None if error is None else redact_text(_message(error)),
        error_code=None if error is None else str(getattr(error, "code", type(error).__name__)),
        latency_ms=latency,
        as_of=call.as_of,
        stale=call.stale,
        policy_version=policy_version,
    )


def _message(error: BaseException) -> str:
    # Governance writes its own messages; anything else may quote arguments raw.
    return error.message if isinstance(error, GovernanceError) else type(error).__name__


class AuditGuard:
    """Records every request's outcome, durably, before answering."""

    def __init__(self, store: AuditStore, *, policy_version: str, server_version: str) -> None:
        self._store = store
        self._policy_version = policy_version
        self._server_version = server_version

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        try:
            outcome = await call_next(call)
        except DownstreamFailure as failure:
            await self._write(failure.call or call, "error", failure)
            raise
        except GovernanceError as error:
            await self._write(error.call or call, "tool_error" if isinstance(error, ToolProblem) else "refused", error)
            raise
        except Exception as error:  # a bug in a guard: recorded by type only, then fail closed
            await self._write(call, "error", error)
            raise
        final = outcome.call
        if final.as_of is None and final.method == "tools/call":
            provenance = read_provenance(dict(outcome.result))
            if provenance is not None:
                final = replace(final, as_of=provenance.as_of.isoformat())
        await self._write(final, "tool_error" if outcome.is_tool_error else "ok", None)
        return outcome

    async def _write(self, call: ToolCall, outcome: OutcomeKind, error: BaseException | None) -> None:
        record = build_record(
            call,
            outcome=outcome,
            policy_version=self._policy_version,
            server_version=self._server_version,
            error=error,
        )
        seq = await self._store.append(record)
        # The log line says what happened; the audit record (with arguments and
        # digests) is the evidence. Fewer fields: each costs CPU on every request.
        _log.info(
            "mcp.request",
            seq=seq,
            request_id=record.request_id,
            principal=record.principal,
            server=record.server,
            tool=record.tool,
            method=record.method,
            decision=record.decision,
            outcome=record.outcome,
            error_code=record.error_code,
            latency_ms=record.latency_ms,
        )


class WriteAheadGuard:
    """Before a tool that may change things runs, its intent is durably on record."""

    def __init__(self, store: AuditStore, *, policy_version: str, server_version: str) -> None:
        self._store = store
        self._policy_version = policy_version
        self._server_version = server_version

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.is_write:
            record = build_record(
                call,
                outcome="started",
                policy_version=self._policy_version,
                server_version=self._server_version,
                phase="intent",
            )
            # Raises AuditUnavailable when the record cannot be stored: the tool never runs.
            await self._store.append(record)
        return await call_next(call)
