"""The host config format (`mcpServers`), read into one typed entry per server.

Accepted shapes, as hosts write them:

- Claude Desktop and Cursor: ``{"mcpServers": {NAME: {"command", "args", "env", "cwd"}}}`` for stdio and
  ``{"mcpServers": {NAME: {"url", "headers"}}}`` for streamable HTTP;
- VS Code (``.vscode/mcp.json``): ``{"servers": {NAME: {"type": "stdio" | "http" | "sse", ...}}}``.

Keys a host uses for its own purposes (``autoApprove``, ``timeout``, ...) are ignored; an entry with
``"disabled": true`` is skipped. Values may name environment variables as ``${env:NAME}``, ``${NAME}`` or
``${NAME:-default}``; they are expanded when the server is connected, so a secret never sits in a report.

One harness-only key is understood: ``principals``, how to act as a given principal on that server
(``{"bob": {"env": {...}}}`` for stdio, ``{"bob": {"headers": {"Authorization": "Bearer ${env:BOB_TOKEN}"}}}``
for HTTP). Without it, a stdio server is started with ``MCPGOV_PRINCIPAL`` set to the principal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

# `mcpgov config` names its entries `mcpgov-NAME`; scenarios may say just NAME.
SUITE_PREFIX = "mcpgov-"


class HarnessConfigError(ValueError):
    """A config file or entry the harness cannot use; the message names the entry and the fix."""


class PrincipalBinding(BaseModel):
    """How to act as one principal on one server: extra env (stdio) or headers (HTTP)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)


class StdioEntry(BaseModel):
    """A server the harness starts as a subprocess and talks to over stdin/stdout."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    command: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    principals: dict[str, PrincipalBinding] = Field(default_factory=dict)


class HttpEntry(BaseModel):
    """A server the harness reaches by URL (streamable HTTP, or the deprecated SSE transport)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    transport: Literal["streamable-http", "sse"] = "streamable-http"
    principals: dict[str, PrincipalBinding] = Field(default_factory=dict)


@dataclass(frozen=True)
class InProcessEntry:
    """A server object in this process (tests and embedding); one object per principal."""

    server: MCPServer
    principals: Mapping[str, MCPServer] = field(default_factory=dict)


ServerEntry = StdioEntry | HttpEntry | InProcessEntry

_HTTP_TYPES = {"http": "streamable-http", "streamable-http": "streamable-http", "streamableHttp": "streamable-http"}


@dataclass(frozen=True)
class HarnessConfig:
    """The servers the harness may connect to, by their unique config key."""

    servers: Mapping[str, ServerEntry]
    source: str = "<config>"

    def key_for(self, name: str) -> str:
        """The config key `name` refers to: itself, or `mcpgov-NAME` as `mcpgov config` writes it.

        Raises:
            HarnessConfigError: no entry has that name.
        """
        if name in self.servers:
            return name
        if SUITE_PREFIX + name in self.servers:
            return SUITE_PREFIX + name
        known = ", ".join(self.servers) or "none"
        raise HarnessConfigError(f"no server {name!r} in {self.source}; its servers: {known}")

    def names(self) -> list[str]:
        """Every server's name as scenarios write it (without the `mcpgov-` prefix)."""
        return [key.removeprefix(SUITE_PREFIX) for key in self.servers]


def parse_config(document: Any, source: str = "<config>") -> HarnessConfig:
    """Read a host config document (already parsed from JSON or YAML).

    Raises:
        HarnessConfigError: the document has no servers, or an entry is malformed.
    """
    if not isinstance(document, Mapping):
        raise HarnessConfigError(f"{source}: expected a JSON object with `mcpServers` (or VS Code's `servers`)")
    raw = document.get("mcpServers", document.get("servers"))
    if not isinstance(raw, Mapping) or not raw:
        raise HarnessConfigError(f"{source}: no servers; write them under `mcpServers` (or VS Code's `servers`)")
    servers: dict[str, ServerEntry] = {}
    for name, body in raw.items():
        if not isinstance(body, Mapping):
            raise HarnessConfigError(f"{source}: server {name!r} must be an object")
        if body.get("disabled") is True:
            continue
        servers[str(name)] = _entry(str(name), body, source)
    return HarnessConfig(servers, source)


def _entry(name: str, body: Mapping[str, Any], source: str) -> ServerEntry:
    kind = body.get("type")
    try:
        if kind == "stdio" or (kind is None and "command" in body):
            return StdioEntry.model_validate(body)
        if kind in _HTTP_TYPES or kind == "sse" or (kind is None and "url" in body):
            transport = "sse" if kind == "sse" else "streamable-http"
            return HttpEntry.model_validate({**body, "transport": transport})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise HarnessConfigError(f"{source}: server {name!r}: {problems}") from None
    raise HarnessConfigError(
        f"{source}: server {name!r} has neither `command` (stdio) nor `url` (HTTP)"
        + (f", and its type {kind!r} is not stdio, http or sse" if kind is not None else "")
    )


def load_config(path: str | Path) -> HarnessConfig:
    """Read a host config from a file, or from stdin when `path` is `-` (`mcpgov config claude | ...`).

    Raises:
        HarnessConfigError: the file is missing or is not valid JSON (YAML is accepted too).
    """
    if str(path) == "-":
        text, source = sys.stdin.read(), "<stdin>"
    else:
        try:
            text, source = Path(path).read_text(encoding="utf-8"), str(path)
        except OSError as error:
            raise HarnessConfigError(f"cannot read the config {path}: {error.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        import yaml

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise HarnessConfigError(f"{source}: neither JSON nor YAML: {error}") from None
    return parse_config(document, source)


def suite_config(
    names: Iterable[str], *, state_dir: Path, policy: Path | None = None, python: str = sys.executable
) -> HarnessConfig:
    """The suite's own servers over stdio, as `mcpgov config` would write them, keyed by bare name.

    Every server shares `state_dir` (one audit chain, one approvals store), like a host running them.
    """
    env = {"MCPGOV_STATE_DIR": str(state_dir.resolve())}
    if policy is not None:
        env["MCPGOV_POLICY"] = str(policy.resolve())
    servers: dict[str, ServerEntry] = {
        name: StdioEntry(command=python, args=["-m", "mcpgov", "serve", name, "--transport", "stdio"], env=env)
        for name in names
    }
    return HarnessConfig(servers, source="the mcpgov suite")
