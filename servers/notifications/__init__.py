"""The notifications server: e-mail from Harbor Support, delivered at most once.

`build_server` makes the MCP server; `NotificationsSettings` are its settings
(``MCPGOV_NOTIFICATIONS_*``).
"""

from servers.notifications._settings import NotificationsSettings
from servers.notifications.server import build_server

__all__ = ["NotificationsSettings", "build_server"]
