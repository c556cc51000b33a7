"""The tools a governed server really has, read once from its own listing.

Governance never trusts a name it has not seen here: a call to anything else
gets the unknown-tool answer, whatever the policy says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.model import ToolInfo


@dataclass(frozen=True, slots=True)
class ToolCatalog:
    """Tool facts by name for one server."""

    server: str
    tools: Mapping[str, ToolInfo]

    def get(self, name: str) -> ToolInfo | None:
        return self.tools.get(name)

    @classmethod
    def from_listing(cls, server: str, listing: Iterable[Mapping[str, Any]]) -> ToolCatalog:
        """Build from wire-form tool entries (camelCase, as `tools/list` returns them).

        Missing annotation hints take the MCP spec's defaults, which are the
        cautious ones: not read-only, destructive, not idempotent, open-world.
        """
        tools: dict[str, ToolInfo] = {}
        for entry in listing:
            hints = entry.get("annotations") or {}
            tools[entry["name"]] = ToolInfo(
                server=server,
                name=entry["name"],
                input_schema=entry.get("inputSchema") or {"type": "object"},
                read_only=bool(hints.get("readOnlyHint", False)),
                destructive=bool(hints.get("destructiveHint", True)),
                idempotent=bool(hints.get("idempotentHint", False)),
                open_world=bool(hints.get("openWorldHint", True)),
            )
        return cls(server, tools)
