"""The one error the file operations raise; the server turns it into a tool error result."""

from __future__ import annotations


class FilesError(Exception):
    """A refused or failed file operation; the message names the problem and the fix."""
