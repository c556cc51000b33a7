"""The tool sets the benchmark serves, and the call it makes to each.

Both are built exactly the same way bare and governed; governance is the only difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer

POLICY_PATH = Path(__file__).with_name("policy.yaml")


@dataclass(frozen=True)
class ToolSet:
    """A server to benchmark and the one `tools/call` the load generator repeats."""

    name: str
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def build(self, data_dir: Path) -> MCPServer:
        return _BUILDERS[self.name](data_dir)


def _fixture(_: Path) -> MCPServer:
    from bench.fixture import build_server

    return build_server()


def _knowledge_base(data_dir: Path) -> MCPServer:
    from servers._config import ServerConfig
    from servers.registry import build_server

    return build_server("knowledge_base", ServerConfig(data_dir=data_dir))


_BUILDERS: dict[str, Callable[[Path], MCPServer]] = {"fixture": _fixture, "knowledge_base": _knowledge_base}

TOOLSETS: dict[str, ToolSet] = {
    "fixture": ToolSet(
        "fixture",
        "lookup_price",
        {"sku": "ABC-0042", "quantity": 3},
        "a tool that does almost nothing: the SDK and governance are all there is to measure",
    ),
    "knowledge_base": ToolSet(
        "knowledge_base",
        "search_articles",
        {"query": "reset password", "limit": 5},
        "the suite's knowledge base: an FTS5 search with snippets per call",
    ),
}
