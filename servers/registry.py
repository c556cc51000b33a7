"""The servers in the suite, by name.

Factories are imported only when a server is built, so `mcpgov serve NAME`
over stdio pays for one server's imports, not the suite's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from servers._config import ServerConfig

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

# name -> "module:factory"; each factory is `(ServerConfig) -> MCPServer`.
SERVER_FACTORIES: dict[str, str] = {
    "knowledge_base": "servers.knowledge_base:build_server",
    "tickets": "servers.tickets:build_server",
    "notifications": "servers.notifications:build_server",
    "analytics": "servers.analytics:build_server",
    "catalog": "servers.catalog:build_server",
    "web_fetch": "servers.web_fetch:build_server",
    "files": "servers.files:build_server",
}


class UnknownServerError(ValueError):
    """A server name that is not in the suite."""


def server_names() -> list[str]:
    return list(SERVER_FACTORIES)


def build_server(name: str, config: ServerConfig) -> MCPServer:
    """Build the named server (ungoverned).

    Raises:
        UnknownServerError: `name` is not a server of the suite.
    """
    target = SERVER_FACTORIES.get(name)
    if target is None:
        known = ", ".join(SERVER_FACTORIES)
        raise UnknownServerError(f"unknown server {name!r}; the suite has: {known}")
    module_name, _, attribute = target.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    return cast("Callable[[ServerConfig], MCPServer]", factory)(config)
