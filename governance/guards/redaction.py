"""Redaction: credentials in what a server returns are replaced by a marker before the answer leaves.

It sits just inside the audit guard, so every result, and every governance error
raised further in, passes through it on the way out. Text content, structured
content (recursively), resource contents, prompt messages and error text are
scanned with the same detection the audit log and the JSON logs use
(`governance.redaction`); binary payloads (images, audio, blobs) are not, since
they hold no text to leak and scanning base64 costs time for nothing.

The common case costs one orjson dump and one RE2 pass over the result, and the
result object itself goes back out untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from governance.errors import GovernanceError
from governance.guards._base import CallNext
from governance.logs import get_logger
from governance.model import Outcome, ToolCall
from governance.redaction import redact_json, redact_text

_log = get_logger("mcpgov.redaction")

# Where each method's result keeps what its server wrote.
_SCANNED_KEYS = ("content", "structuredContent", "contents", "messages")
_BINARY_BLOCKS = frozenset({"image", "audio"})


class RedactionGuard:
    """Replaces secrets in results (text, structured content, resources, errors) with a marker."""

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        try:
            outcome = await call_next(call)
        except GovernanceError as error:
            # The adapter turns these into the answer: an InvalidArguments message may quote a value.
            error.message = redact_text(error.message)
            error.args = (error.message,)
            raise
        result = outcome.result
        parts = {key: result[key] for key in _SCANNED_KEYS if key in result}
        if not parts:
            return outcome
        redacted = _redact_parts(parts)
        if redacted is parts:
            return outcome
        changed = [key for key in parts if redacted[key] is not parts[key]]
        _log.warning("mcp.result_redacted", server=call.server, tool=call.tool, method=call.method, fields=changed)
        return replace(outcome, result={**result, **redacted})


def _redact_parts(parts: dict[str, Any]) -> dict[str, Any]:
    """`parts` itself when nothing needed redacting, else a copy with each changed part replaced."""
    if not any(_has_binary(part) for part in parts.values()):
        redacted = redact_json(parts)
        return parts if redacted is parts else {key: redacted[key] for key in parts}
    out = {key: _redact_blocks(part) if isinstance(part, list) else redact_json(part) for key, part in parts.items()}
    return parts if all(out[key] is parts[key] for key in parts) else out


def _has_binary(part: Any) -> bool:
    return isinstance(part, list) and any(_is_binary(block) for block in part)


def _is_binary(block: Any) -> bool:
    if not isinstance(block, Mapping):
        return False
    resource = block.get("resource")
    return (
        block.get("type") in _BINARY_BLOCKS or "blob" in block or (isinstance(resource, Mapping) and "blob" in resource)
    )


def _redact_blocks(blocks: list[Any]) -> list[Any]:
    out: list[Any] = []
    for block in blocks:
        if not _is_binary(block):
            out.append(redact_json(block))
        elif block.get("type") in _BINARY_BLOCKS:
            out.append(block)
        else:  # a resource with a blob: its uri and name are still text
            out.append(_without_blob_redacted(block))
    return blocks if all(new is old for new, old in zip(out, blocks, strict=True)) else out


def _without_blob_redacted(block: Mapping[str, Any]) -> Any:
    if "blob" in block:
        rest = {key: value for key, value in block.items() if key != "blob"}
        redacted = redact_json(rest)
        return block if redacted is rest else {**redacted, "blob": block["blob"]}
    resource = block["resource"]
    inner = _without_blob_redacted(resource)
    return block if inner is resource else {**block, "resource": inner}
