"""The result size cap: a result over it is cut, with a note the model sees, never silently.

Text is cut at a character boundary; other content (images, audio, embedded
resources) is kept whole or left out. Structured content is kept unless it
alone is over the cap; when it is left out the result is marked `isError`,
because a client checks a successful result against the tool's output schema
and would reject one without it, and the model should learn it has only part
of the answer. Sizes are JSON bytes, as the result goes on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

NOTE_RESERVE = 600  # bytes kept free for the note itself
META_KEY = "mcpgov/truncated"


def json_size(value: Any) -> int:
    """Bytes of `value` as compact JSON."""
    return len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str))


def cap_result(result: Mapping[str, Any], max_bytes: int, *, tool: str) -> dict[str, Any] | None:
    """A copy of `result` cut to about `max_bytes`, with a note; None when it already fits."""
    size = json_size(result)
    if size <= max_bytes:
        return None
    capped = {key: value for key, value in result.items() if key != "content"}
    details: list[str] = []
    structured = capped.get("structuredContent")
    dropped_structured = False
    if structured is not None and json_size(structured) > max_bytes - NOTE_RESERVE:
        details.append(f"the structured content ({json_size(structured):,} bytes) was left out")
        del capped["structuredContent"]
        capped["isError"] = True
        dropped_structured = True
    budget = max_bytes - NOTE_RESERVE - json_size(capped)
    content, text_cut, left_out = _cut_content(result.get("content") or [], budget)
    if text_cut is not None:
        kept, total = text_cut
        details.insert(0, f"the text was cut after {kept:,} of {total:,} bytes")
    if left_out:
        details.append(f"{left_out} non-text item(s) were left out")
    note = (
        f"[mcpgov] This result was cut: it was {size:,} bytes, over the {max_bytes:,}-byte limit for "
        f"'{tool}' (limits.max_result_bytes); {'; '.join(details) or 'parts were left out'}. "
        "Ask for less: narrow the query, filter, or request a smaller page."
    )
    content.append({"type": "text", "text": note})
    capped["content"] = content
    meta = dict(capped.get("_meta") or {})
    meta[META_KEY] = {"original_bytes": size, "max_bytes": max_bytes, "structured_content_dropped": dropped_structured}
    capped["_meta"] = meta
    return capped


def _cut_content(items: list[Any], budget: int) -> tuple[list[Any], tuple[int, int] | None, int]:
    """Content within `budget` bytes: (items kept, (text bytes kept, text bytes in all) or None, items left out)."""
    kept: list[Any] = []
    text_kept = text_total = left_out = 0
    cut = False
    for item in items:
        if isinstance(item, Mapping) and item.get("type") == "text" and isinstance(item.get("text"), str):
            raw = item["text"].encode()
            text_total += len(raw)
            # JSON escapes (quotes, newlines, control characters) make the wire form longer than the text.
            escaped = json_size(item["text"]) - 2
            allowed = max(0, int(max(0, budget) * len(raw) / escaped)) if escaped else 0
            if len(raw) > allowed:
                cut = True
                raw = raw[:allowed]
            text = raw.decode("utf-8", "ignore")  # a character cut in half is dropped, not mangled
            text_kept += len(text.encode())
            budget -= json_size(text) - 2
            if text:
                kept.append({**item, "text": text})
            continue
        size = json_size(item)
        if size <= budget:
            kept.append(item)
            budget -= size
        else:
            left_out += 1
    return kept, ((text_kept, text_total) if cut else None), left_out
