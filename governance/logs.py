"""Structured logs: JSON lines on stderr, because stdout is the MCP wire on stdio."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

from governance.redaction import redact


def _redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Last line of defence: whatever a caller binds, secrets never reach the log raw.
    return {key: redact(value, key=key) for key, value in event.items()}


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
