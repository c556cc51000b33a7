"""The values that flow through the governance pipeline.

All of them are frozen: a guard that changes a call makes a new one with
`dataclasses.replace`, so what the audit guard records is exactly what each
guard decided, never something a later guard mutated underneath it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict

Transport = Literal["stdio", "http", "memory", "cli"]
DecisionEffect = Literal["allow", "deny"]
OutcomeKind = Literal["ok", "tool_error", "refused", "error", "started"]
ProgressReporter = Callable[[float, float | None, str | None], Awaitable[None]]


def canonical_json(value: Any) -> bytes:
    """The one byte form used for digests and hashes: sorted keys, no whitespace, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def arguments_digest(arguments: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical arguments: what an approval is bound to and what the audit proves."""
    return hashlib.sha256(canonical_json(dict(arguments))).hexdigest()


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """What governance knows about one tool, read once from the server's own listing."""

    server: str
    name: str
    input_schema: Mapping[str, Any]
    read_only: bool = False
    destructive: bool = True
    idempotent: bool = False
    open_world: bool = True

    @property
    def qualified_name(self) -> str:
        return f"{self.server}.{self.name}"


@dataclass(frozen=True, slots=True)
class Decision:
    """An authorization verdict and the Cedar policy ids that decided it."""

    effect: DecisionEffect
    policy_ids: tuple[str, ...] = ()
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.effect == "allow"


HostAnswer = Literal["accept", "decline", "cancel"]


@dataclass(frozen=True, slots=True)
class HostChannel:
    """How governance may ask the host's user to confirm a call in-band.

    Legacy connections can be asked directly (`ask`: an elicitation round trip);
    modern ones are answered with an input-required result and retried, so the
    retry carries the user's `answer`.
    """

    ask: Callable[[str], Awaitable[HostAnswer]] | None = None
    can_request_input: bool = False
    answer: HostAnswer | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One inbound MCP request as governance sees it.

    `method` is the MCP method (`tools/call`, `tools/list`, ...); for anything but
    `tools/call` the `tool` is None and `arguments` is empty.
    """

    method: str
    server: str
    principal: str
    transport: Transport
    protocol_version: str
    tool: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)
    info: ToolInfo | None = None
    request_id: str | None = None
    session_id: str | None = None
    started_ns: int = 0  # perf_counter_ns at arrival, for latency
    started_wall: float = 0.0  # time.time() at arrival, for the record's timestamp
    decision: Decision | None = None
    approval_id: str | None = None
    as_of: str | None = None
    stale: bool | None = None
    # Set when an earlier guard requires approval whatever the tool's own rule (e.g. after untrusted content).
    approval_reason: str | None = None
    # Sends a progress notification to the caller, when it asked for progress.
    progress: ProgressReporter | None = field(default=None, compare=False, repr=False)
    # Present when the host can ask its user to confirm this call.
    host: HostChannel | None = field(default=None, compare=False, repr=False)

    @property
    def qualified_tool(self) -> str | None:
        return None if self.tool is None else f"{self.server}.{self.tool}"

    @property
    def is_write(self) -> bool:
        """A call whose tool is not known to be read-only: its record is written ahead of it."""
        return self.method == "tools/call" and (self.info is None or not self.info.read_only)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the pipeline produced for a call: the SDK's serialized wire result.

    `call` is the call as the innermost guard passed it on, so it carries the
    decision and anything later guards learned (approval id, data `as_of`).
    """

    call: ToolCall
    result: Mapping[str, Any]

    @property
    def is_tool_error(self) -> bool:
        return bool(self.result.get("isError"))


class AuditRecord(BaseModel):
    """One audit record: the body that is hashed into the chain.

    `seq`, `prev_hash` and `hash` are assigned by the store when the record is
    committed; everything here is what the record says happened.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    time: str
    request_id: str | None = None
    phase: Literal["request", "intent", "approval"] = "request"
    method: str
    principal: str
    transport: Transport
    protocol_version: str = ""
    session_id: str | None = None
    server: str
    server_version: str = ""
    tool: str | None = None
    arguments: dict[str, Any] = {}
    args_digest: str | None = None
    decision: DecisionEffect | None = None
    policy_ids: list[str] = []
    approval_id: str | None = None
    approval_event: (
        Literal["requested", "approved", "denied", "expired", "consumed", "executed", "confirmed"] | None
    ) = None
    comment: str | None = None
    outcome: OutcomeKind
    error: str | None = None
    error_code: str | None = None
    latency_ms: float | None = None
    as_of: str | None = None
    stale: bool | None = None
    policy_version: str
