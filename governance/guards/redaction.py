"""Redaction: credentials in tool results are replaced by a marker before they leave (being built)."""

from __future__ import annotations

from governance.guards._base import CallNext
from governance.model import Outcome, ToolCall


class RedactionGuard:
    """Replaces secrets in results (text, structured content, errors) with a marker."""

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        return await call_next(call)
