"""Files in configured root directories: list, read, write and search, without leaving the roots."""

from servers.files._settings import FilesSettings
from servers.files.server import build_server

__all__ = ["FilesSettings", "build_server"]
