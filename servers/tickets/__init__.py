"""The tickets server: Harbor's support queue, where an agent reads tickets and files follow-ups.

`build_server` makes the MCP server; `TicketsSettings` are its settings (``MCPGOV_TICKETS_*``).
"""

from servers.tickets._settings import TicketsSettings
from servers.tickets.server import build_server

__all__ = ["TicketsSettings", "build_server"]
