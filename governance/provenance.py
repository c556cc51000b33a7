"""Provenance: where a result's data came from and when it was true.

Servers put it in each result's ``_meta`` under `PROVENANCE_KEY`; the recency
guard reads it on the way back and the audit record carries its ``as_of``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

PROVENANCE_KEY = "mcpgov/provenance"


class Provenance(BaseModel):
    """The source of a result and the time its data was true (timezone-aware)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    as_of: AwareDatetime

    def as_meta(self) -> dict[str, Any]:
        """The ``_meta`` entry for a result: ``{"mcpgov/provenance": {"source", "as_of"}}``."""
        return {PROVENANCE_KEY: {"source": self.source, "as_of": self.as_of.isoformat()}}


def read_provenance(result: dict[str, Any] | None) -> Provenance | None:
    """The provenance a serialized tool result carries, or None when it has none or it is malformed."""
    meta = (result or {}).get("_meta") or {}
    raw = meta.get(PROVENANCE_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        return Provenance.model_validate(raw)
    except ValueError:
        return None


def utc_iso(moment: datetime) -> str:
    """ISO-8601 text for an aware datetime, the form every record and result uses."""
    return moment.isoformat()
