"""A help-centre knowledge base as an MCP server: full-text search over generated articles."""

from servers.knowledge_base.server import build_server

__all__ = ["build_server"]
