"""The store's product catalog as an MCP server: prices and stock from sources with their own sync times.

`servers.catalog.data` describes the sources and which products each feeds (one of them stale).
"""

from servers.catalog.server import CatalogSettings, build_server

__all__ = ["CatalogSettings", "build_server"]
