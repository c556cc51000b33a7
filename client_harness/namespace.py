"""One namespace for the tools of many servers: `server.tool`, and the names a model provider accepts.

Scenarios and reports name a tool `server.tool`, where `server` is its config key (unique by
construction) and `tool` is the name the server gave it, dots and all. `resolve` splits such a name
at the dot that follows a known server key; if two splits both name servers (keys `a` and `a.b`
and a tool `b.c`), the name is ambiguous and must be written as a mapping `{server: ..., tool: ...}`.

Providers accept tool names matching ``^[a-zA-Z0-9_-]{1,64}$``. `provider_names` maps each tool to
``SERVER__TOOL``, with every other character replaced by ``_``. A name that had to change (a dot or
any other character replaced, or longer than 64), and every name that would clash with another
after that, gets a deterministic suffix instead: ``-`` and the first 8 hex digits of the SHA-256 of
the qualified `server.tool`, with the base cut so the whole fits 64 characters. The suffix depends
only on the tool itself, so a name does not change when other servers come and go, unless a new
clash appears.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PROVIDER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
SEPARATOR = "__"
_INVALID = re.compile(r"[^a-zA-Z0-9_-]")
_MAX = 64
_SUFFIX = 8


class ToolNameError(ValueError):
    """A tool reference that names no configured server, or more than one."""


@dataclass(frozen=True, order=True)
class QualifiedTool:
    """A tool of one server."""

    server: str
    tool: str

    @property
    def name(self) -> str:
        return f"{self.server}.{self.tool}"

    def __str__(self) -> str:
        return self.name


def resolve(reference: str | Mapping[str, Any], servers: Collection[str]) -> QualifiedTool:
    """The tool `reference` names: `"server.tool"` or `{"server": ..., "tool": ...}`.

    Raises:
        ToolNameError: no configured server matches, or more than one split does.
    """
    if isinstance(reference, Mapping):
        server, tool = reference.get("server"), reference.get("tool")
        if not isinstance(server, str) or not isinstance(tool, str) or server not in servers:
            raise ToolNameError(f"{dict(reference)!r}: expected {{server: one of {sorted(servers)}, tool: NAME}}")
        return QualifiedTool(server, tool)
    splits = [
        QualifiedTool(reference[:at], reference[at + 1 :])
        for at, char in enumerate(reference)
        if char == "." and reference[:at] in servers and at + 1 < len(reference)
    ]
    if len(splits) == 1:
        return splits[0]
    if not splits:
        raise ToolNameError(
            f"{reference!r} names no configured server; write SERVER.TOOL with one of {sorted(servers)}"
        )
    options = ", ".join(f"{{server: {s.server}, tool: {s.tool}}}" for s in splits)
    raise ToolNameError(f"{reference!r} is ambiguous; write one of {options}")


def provider_names(tools: Iterable[QualifiedTool]) -> dict[str, QualifiedTool]:
    """A provider-safe, unique name for each tool (see the module docstring for the rule)."""
    by_base: dict[str, list[QualifiedTool]] = defaultdict(list)
    for tool in sorted(set(tools)):
        by_base[_INVALID.sub("_", f"{tool.server}{SEPARATOR}{tool.tool}")].append(tool)
    names: dict[str, QualifiedTool] = {}
    for base, group in by_base.items():
        for tool in group:
            unchanged = base == f"{tool.server}{SEPARATOR}{tool.tool}" and len(base) <= _MAX
            name = base if unchanged and len(group) == 1 else _suffixed(base, tool)
            if name in names:  # only a tool named to look like another's suffixed name gets here
                raise ToolNameError(f"{tool} and {names[name]} both map to the provider name {name!r}")
            names[name] = tool
    return names


def _suffixed(base: str, tool: QualifiedTool) -> str:
    digest = hashlib.sha256(tool.name.encode()).hexdigest()[:_SUFFIX]
    return f"{base[: _MAX - _SUFFIX - 1]}-{digest}"
