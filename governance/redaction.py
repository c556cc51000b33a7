"""Secret redaction: what governance writes down (audit records, JSON logs) and what leaves in a result.

One detection for all of it (`governance._secrets`: detect-secrets' regex plugins
behind a cheap pre-filter), and two rules for names:

- `redact` (audit arguments, log events): a value under a name that always holds a
  secret (`password`, `api_key`, `authorization`, `token`, ...) is replaced whole,
  whatever it looks like; the broad list is right for what we store about a call.
- `redact_json` (tool results): only string values under the names KeywordDetector
  knows (`password`, `api_key`, `secret`, ...) are replaced whole; the broad list would
  blank ordinary data such as a `next_page_token` the agent needs.

Both return their argument itself when nothing needs redacting, so the common case
allocates nothing: one orjson dump of the value and a handful of literal scans.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from governance._secrets import ANCHOR_SOURCES, MIN_SECRET_CHARS, any_of, may_hold_secret, secret_spans

__all__ = ["MARKER", "redact", "redact_json", "redact_text"]

MARKER = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"authorization|cookie|credential|session[_-]?key|client[_-]?secret)",
    re.IGNORECASE,
)
# The same names as a key in a JSON dump (`"db_password":`; a quote inside a value is
# escaped, so this also fires on some values: that only costs a closer look).
_SECRET_NAME_IN_DUMP = (
    rb'(?i:"[^"]*(?:pass|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|'
    rb'authorization|cookie|credential|session[_-]?key)[^"]*":)'
)
_may_hold_secret_or_name = any_of([*ANCHOR_SOURCES, _SECRET_NAME_IN_DUMP])


@functools.lru_cache(maxsize=4096)
def _is_secret_name(key: str) -> bool:
    # Names repeat on every call (argument names, log fields): decided once each.
    return _SECRET_KEY.search(key) is not None


@functools.lru_cache(maxsize=4096)
def _is_keyword_name(key: str) -> bool:
    from detect_secrets.plugins.keyword import DENYLIST_REGEX  # only reached when an anchor fired

    return re.search(DENYLIST_REGEX, key, re.IGNORECASE) is not None


def redact_text(text: str) -> str:
    """`text` with every credential replaced by the marker (the same object when there is none)."""
    spans = secret_spans(text)
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end in spans:
        parts.append(text[position:start])
        parts.append(MARKER)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def redact(value: Any, *, key: str | None = None) -> Any:
    """A JSON-like value with secrets replaced by the marker, for the audit log and the JSON logs.

    A value under a secret-sounding name is replaced whole; strings anywhere are
    scanned for credential formats. Returns `value` itself when nothing needs
    redacting, else a redacted copy (mappings become dicts, tuples lists).
    """
    if key is not None and _is_secret_name(str(key)) and value not in (None, "", [], {}):
        return MARKER
    if isinstance(value, str):
        return redact_text(value)
    if not isinstance(value, Mapping | list | tuple):
        return value
    if not _dump_may_hold(value, _may_hold_secret_or_name):
        return value
    return _walk(value, _is_secret_name, key)


def redact_json(value: Any) -> Any:
    """A tool result's JSON value with credentials replaced by the marker (the value itself when none).

    Only strings change: a number or a structure under a secret-sounding name is
    left alone, so the result still fits the tool's output schema.
    """
    if isinstance(value, str):
        return redact_text(value)
    if not isinstance(value, Mapping | list | tuple) or not _dump_may_hold(value, may_hold_secret):
        return value
    return _walk(value, _is_keyword_name, None, strings_only=True)


def _dump_may_hold(value: Any, occurs: Callable[[bytes], bool]) -> bool:
    try:
        data = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return True  # cannot dump it (a cycle, a huge int): look at every string instead
    return occurs(data)


def _walk(value: Any, is_secret: Callable[[str], bool], key: str | None, *, strings_only: bool = False) -> Any:
    if key is not None and is_secret(key) and value not in (None, "", [], {}):
        if not strings_only or isinstance(value, str):
            return MARKER
    if isinstance(value, str):
        return redact_text(value) if len(value) >= MIN_SECRET_CHARS else value
    if isinstance(value, Mapping):
        return {str(k): _walk(v, is_secret, str(k), strings_only=strings_only) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, is_secret, None, strings_only=strings_only) for item in value]
    return value
