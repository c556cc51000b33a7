"""Every error governance raises, and where each one goes.

MCP's own rule decides the split: a problem the model can fix comes back as a
tool result with ``isError: true`` and a message that names the problem and the
fix; a refusal is a JSON-RPC error whose message never reveals whether a hidden
tool exists. Configuration errors never reach the wire: they stop start-up or
``mcpgov policy check``.

::

    GovernanceError
    ├── ToolProblem                 tool result, isError: true
    │   ├── UnknownTool             unknown or hidden tool (byte-identical answers)
    │   ├── InvalidArguments        schema or policy constraint failed; names the field
    │   ├── ApprovalRequired        a gated call waits for a reviewer (pending; carries the approval id)
    │   │   ├── ApprovalDenied      the reviewer (or the host's user) said no; carries the comment
    │   │   ├── ApprovalExpired     nobody decided in time
    │   │   └── ConfirmationRequested  the host's user is asked in-band (an input-required result)
    │   ├── LoopDetected            the same call repeated too often in one session: stop, ask a person
    │   ├── ToolTimedOut            the tool ran past its time limit; a late result is discarded
    │   └── StaleData               the data is older than the policy allows; names source, as_of, age, limit
    ├── Refusal                     JSON-RPC error
    │   ├── NotAllowed              a non-tool method the principal may not use
    │   ├── BudgetExhausted         a session or hourly call budget is spent; says when it resets
    │   └── RateLimited             a rate limit is reached; says when to retry
    ├── AuditUnavailable            JSON-RPC error: the record could not be stored (fail closed)
    ├── LimitsUnavailable           JSON-RPC error: the shared counters (Redis) are unreachable (fail closed)
    └── DownstreamFailure           the SDK or the tool below governance raised; re-raised as it was

    ConfigurationError              start-up / CLI only, never on the wire
    └── PolicyError                 one or more problems, each with file, line and field

An open circuit breaker on a server's upstream (SMTP, HTTP, a database) is not
governance's: it is `servers._resilience.UpstreamUnavailable`, a tool error
raised inside the tool, so it reaches the model as an isError result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.model import ToolCall

# JSON-RPC codes for refusals, from the implementation-defined server range.
FORBIDDEN = -32003
AUDIT_UNAVAILABLE = -32005
LIMITS_UNAVAILABLE = -32006
# Budgets and rates: "come back later", distinct from "never" (FORBIDDEN); 429 is HTTP's number for it.
LIMITED = -32029


class GovernanceError(Exception):
    """Base of everything a guard raises for a request."""

    code: str = "governance_error"

    def __init__(self, message: str, *, call: ToolCall | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The call as the raising guard saw it, so the audit record carries the
        # decision and whatever else was known at the point of refusal.
        self.call = call

    def structured(self) -> dict[str, Any] | None:
        """Machine-readable details for the tool result's structuredContent, if any."""
        return None


class ToolProblem(GovernanceError):
    """A problem the model can act on: returned as a tool result with isError."""


class UnknownTool(ToolProblem):
    """The tool does not exist, or this principal may not see it; the two are indistinguishable."""

    code = "unknown_tool"

    def __init__(self, tool: str, *, call: ToolCall | None = None) -> None:
        # Same text the SDK produces for a name it has never heard of.
        super().__init__(f"Unknown tool: {tool}", call=call)


class InvalidArguments(ToolProblem):
    """Arguments failed the tool's schema or a policy constraint."""

    code = "invalid_arguments"

    def __init__(self, message: str, *, field: str | None, call: ToolCall | None = None) -> None:
        super().__init__(message, call=call)
        self.field = field

    def structured(self) -> dict[str, Any] | None:
        return {"error": self.code, "field": self.field, "message": self.message}


class ApprovalRequired(ToolProblem):
    """The call needs a reviewer's approval first; it waits as a pending request."""

    code = "approval_required"

    def __init__(
        self,
        message: str,
        *,
        approval_id: str | None = None,
        status: str = "pending",
        expires_at: str | None = None,
        comment: str | None = None,
        decided_by: str | None = None,
        call: ToolCall | None = None,
    ) -> None:
        super().__init__(message, call=call)
        self.approval_id = approval_id
        self.status = status
        self.expires_at = expires_at
        self.comment = comment
        self.decided_by = decided_by

    def structured(self) -> dict[str, Any] | None:
        details = {
            "error": self.code,
            "approval_id": self.approval_id,
            "status": self.status,
            "expires_at": self.expires_at,
            "comment": self.comment,
            "decided_by": self.decided_by,
            "message": self.message,
        }
        return {key: value for key, value in details.items() if value is not None}


class ApprovalDenied(ApprovalRequired):
    """A reviewer denied the call; their comment is the agent's feedback."""

    code = "approval_denied"


class ApprovalExpired(ApprovalRequired):
    """Nobody decided before the request expired."""

    code = "approval_expired"


class ConfirmationRequested(ApprovalRequired):
    """The host is asked to confirm the call with its user; the adapter answers input-required."""

    code = "confirmation_requested"


class LoopDetected(ToolProblem):
    """The same tool with the same arguments came too often from one session."""

    code = "loop_detected"

    def __init__(self, message: str, *, max_repeats: int, window_seconds: float, call: ToolCall | None = None) -> None:
        super().__init__(message, call=call)
        self.max_repeats = max_repeats
        self.window_seconds = window_seconds

    def structured(self) -> dict[str, Any] | None:
        return {
            "error": self.code,
            "max_repeats": self.max_repeats,
            "window_seconds": self.window_seconds,
            "message": self.message,
        }


class ToolTimedOut(ToolProblem):
    """The tool did not finish within its time limit."""

    code = "timeout"

    def __init__(self, message: str, *, timeout_seconds: float, call: ToolCall | None = None) -> None:
        super().__init__(message, call=call)
        self.timeout_seconds = timeout_seconds

    def structured(self) -> dict[str, Any] | None:
        return {"error": self.code, "timeout_seconds": self.timeout_seconds, "message": self.message}


class Refusal(GovernanceError):
    """A refusal: a JSON-RPC error, not a tool result."""

    rpc_code: int = FORBIDDEN


class NotAllowed(Refusal):
    """The principal may not use this method."""

    code = "not_allowed"


class BudgetExhausted(Refusal):
    """A call budget (per session, or per principal per hour) is spent until it resets."""

    code = "budget_exhausted"
    rpc_code = LIMITED

    def __init__(self, message: str, *, budget: str, limit: int, resets_at: str, call: ToolCall | None = None) -> None:
        super().__init__(message, call=call)
        self.budget = budget
        self.limit = limit
        self.resets_at = resets_at


class RateLimited(Refusal):
    """A rate limit (per principal, or per principal and tool) is reached."""

    code = "rate_limited"
    rpc_code = LIMITED

    def __init__(self, message: str, *, limit: str, retry_after: float, call: ToolCall | None = None) -> None:
        super().__init__(message, call=call)
        self.limit = limit
        self.retry_after = retry_after


class AuditUnavailable(GovernanceError):
    """The audit record could not be stored, so the request does not run."""

    code = "audit_unavailable"
    rpc_code: int = AUDIT_UNAVAILABLE


class LimitsUnavailable(GovernanceError):
    """The shared counters for budgets and rates cannot be reached, so the request does not run."""

    code = "limits_unavailable"
    rpc_code: int = LIMITS_UNAVAILABLE


class DownstreamFailure(GovernanceError):
    """Something below governance (the SDK's own checks, or the tool) raised.

    It carries the call as the innermost guard passed it, so the audit record
    keeps the decision; the adapter re-raises `original` unchanged.
    """

    code = "downstream_error"

    def __init__(self, original: Exception, *, call: ToolCall) -> None:
        # The SDK's own message is already sanitized for the wire; other
        # exceptions' text may quote arguments, so only their type is kept.
        wire_message = getattr(getattr(original, "error", None), "message", None)
        super().__init__(wire_message or type(original).__name__, call=call)
        self.original = original
        wire_code = getattr(getattr(original, "error", None), "code", None)
        self.code = str(wire_code) if wire_code is not None else type(original).__name__


class ConfigurationError(Exception):
    """Bad configuration found at start-up or by a CLI check; never sent to a client."""


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One problem in a policy file, located as an editor would show it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}"


class PolicyError(ConfigurationError):
    """A policy document that cannot be used; lists every problem found."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class StaleData(ToolProblem):
    """The result's data is older than the policy allows (or has no provenance where it must)."""

    code = "stale_data"

    def __init__(
        self,
        message: str,
        *,
        source: str | None,
        as_of: str | None,
        age_seconds: float | None,
        max_age_seconds: float | None,
        call: ToolCall | None = None,
    ) -> None:
        super().__init__(message, call=call)
        self.source = source
        self.as_of = as_of
        self.age_seconds = age_seconds
        self.max_age_seconds = max_age_seconds

    def structured(self) -> dict[str, Any] | None:
        return {
            "error": self.code,
            "source": self.source,
            "as_of": self.as_of,
            "age_seconds": self.age_seconds,
            "max_age_seconds": self.max_age_seconds,
            "message": self.message,
        }
