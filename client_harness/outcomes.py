"""What governance did with a tool call, read from what came back.

The same reading serves scenario expectations and the agent's step log. The kinds follow the
server's rule for where errors go (``governance/errors.py``): a refusal is a JSON-RPC error, a
hidden tool answers exactly like an unknown one, and problems the model can fix are results with
``isError: true``.

- ``allowed``: a normal result (it may still be flagged ``stale`` by a warn-mode recency rule);
- ``denied``: a JSON-RPC refusal, or the unknown-tool answer;
- ``approval_pending``: held for a reviewer (see `client_harness.approvals`);
- ``approval_denied``: a reviewer denied it; the text carries their comment;
- ``stale``: refused because the data is too old;
- ``loop``: refused because the same call was repeated too often (the agent should stop);
- ``limited``: a JSON-RPC refusal for a rate limit or a spent call budget ("come back later",
  where ``denied`` is "never");
- ``error``: any other error result (bad arguments, the tool's own failure).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from client_harness.approvals import ApprovalState, approval_state
from governance.errors import LIMITED

OutcomeKind = Literal["allowed", "denied", "approval_pending", "approval_denied", "stale", "loop", "limited", "error"]
REDACTED = "[REDACTED]"
STALE_META = "mcpgov/stale"
UNKNOWN_TOOL = "Unknown tool:"
LOOP_ERROR = "loop_detected"


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """One call's outcome, classified, with what the caller saw."""

    kind: OutcomeKind
    text: str
    structured: Mapping[str, Any] | None = None
    meta: Mapping[str, Any] | None = None
    rpc_code: int | None = None
    approval: ApprovalState | None = None
    stale: bool = False

    @property
    def is_error(self) -> bool:
        return self.kind != "allowed"

    @property
    def redacted(self) -> bool:
        return REDACTED in self.text

    def to_json(self) -> dict[str, Any]:
        """The outcome for reports (text shortened; structured content kept)."""
        body: dict[str, Any] = {"kind": self.kind, "text": self.text[:2000]}
        if self.structured is not None:
            body["structured"] = dict(self.structured)
        if self.rpc_code is not None:
            body["rpc_code"] = self.rpc_code
        if self.approval is not None:
            body["approval"] = {"id": self.approval.approval_id, "status": self.approval.status}
        if self.stale:
            body["stale"] = True
        if self.meta:
            body["meta"] = dict(self.meta)
        return body


def from_result(result: CallToolResult) -> ToolOutcome:
    """Classify a tool result."""
    text = result_text(result)
    structured = result.structured_content
    meta = result.meta
    stale = _is_stale(result, text)
    approval = approval_state(result)
    kind: OutcomeKind
    if not result.is_error:
        kind = "allowed"
    elif approval is not None and approval.pending:
        kind = "approval_pending"
    elif approval is not None and approval.status == "denied":
        kind = "approval_denied"
    elif text.startswith(UNKNOWN_TOOL):
        kind = "denied"
    elif (structured or {}).get("error") == LOOP_ERROR:
        kind = "loop"
    elif stale:
        kind = "stale"
    else:
        kind = "error"
    return ToolOutcome(kind, text, structured, meta, approval=approval, stale=stale)


def from_rpc_error(error: MCPError) -> ToolOutcome:
    """Classify a JSON-RPC error answer: a refusal, `limited` when it is a rate or budget's."""
    kind: OutcomeKind = "limited" if error.error.code == LIMITED else "denied"
    return ToolOutcome(kind, error.error.message, rpc_code=error.error.code)


def result_text(result: CallToolResult) -> str:
    """The result's text blocks joined; its structured content as JSON when it has no text."""
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    if texts:
        return "\n".join(texts)
    if result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False)
    return ""


def _is_stale(result: CallToolResult, text: str) -> bool:
    if (result.meta or {}).get(STALE_META):
        return True
    if not result.is_error:
        return False
    structured = result.structured_content or {}
    lowered = text.lower()
    return structured.get("error") in ("stale", "stale_data") or "stale" in lowered or "as_of" in lowered
