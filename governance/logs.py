"""Structured logs: JSON lines on stderr, because stdout is the MCP wire on stdio."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

from governance.redaction import redact, redact_text


def _redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Last line of defence: whatever a caller binds, secrets never reach the log raw.
    # The whole event at once: one scan of its dump, not one per field.
    redacted: MutableMapping[str, Any] = redact(event)
    return redacted


class _RedactRecords(logging.Filter):
    """Redacts stdlib log records before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted is not message:
            record.msg, record.args = redacted, None
        return True


# The SDK logs a failed tool's or resource's error text at INFO ("Tool 'x' failed: ..."),
# on its own handler, and that text is whatever the tool raised: it may quote a secret.
# Installed on import, whoever configures structlog or the handlers.
for _name in ("mcp.server.mcpserver.server",):
    logging.getLogger(_name).addFilter(_RedactRecords())


def _dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """Route structlog to stderr as JSON lines, with secrets redacted."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_event,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    """A structlog logger; configures the stderr JSON default first if nobody configured structlog.

    structlog's own default prints to stdout, which on stdio is the MCP wire.
    """
    if not structlog.is_configured():
        configure_logging()
    return structlog.get_logger(name)
