"""Read-only SQL over a generated demo store database, as an MCP server.

`servers.analytics.sql.referenced_tables` is the pure SQL check the governance params guard uses.
"""

from servers.analytics.server import AnalyticsSettings, build_server

__all__ = ["AnalyticsSettings", "build_server"]
