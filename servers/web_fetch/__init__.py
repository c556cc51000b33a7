"""Public web pages as readable text, fetched without reaching private networks (SSRF-safe)."""

from servers.web_fetch._settings import WebFetchSettings
from servers.web_fetch.server import build_server

__all__ = ["WebFetchSettings", "build_server"]
