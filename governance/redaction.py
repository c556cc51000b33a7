"""Secret redaction for what governance writes down: audit records and JSON logs.

Two nets: argument names that always hold secrets (`password`, `api_key`,
`authorization`, ...) and value patterns of well-known credential formats.
Redaction of tool *results* on the way back is the output guard's job; this
module only guarantees that governance itself never stores a secret raw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MARKER = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"authorization|cookie|credential|session[_-]?key|client[_-]?secret)",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    "|".join(
        [
            r"AKIA[0-9A-Z]{16}",  # AWS access key id
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)",
            r"\b(sk|pk|rk)_(live|test)_[0-9A-Za-z]{16,}",  # Stripe-style keys
            r"\bsk-[A-Za-z0-9_\-]{20,}",  # OpenAI/Anthropic-style keys
            r"\bgh[pousr]_[A-Za-z0-9]{36,}",  # GitHub tokens
            r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack tokens
            r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWTs
            r"(?<=://)[^\s/:@]+:[^\s/@]+(?=@)",  # user:password in URLs
            r"(?<=[Bb]earer )[A-Za-z0-9._~+/\-]{16,}=*",
        ]
    )
)


def redact_text(text: str) -> str:
    """Replace every credential-shaped substring with the marker."""
    return _SECRET_VALUE.sub(MARKER, text)


def redact(value: Any, *, key: str | None = None) -> Any:
    """A copy of a JSON-like value with secrets replaced by the marker.

    A value under a secret-sounding key is replaced whole; strings anywhere are
    scanned for credential formats.
    """
    if key is not None and _SECRET_KEY.search(key) and value not in (None, "", [], {}):
        return MARKER
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {str(k): redact(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
