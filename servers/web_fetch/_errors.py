"""The one error the fetch machinery raises; the server turns it into a tool error result."""

from __future__ import annotations


class FetchError(Exception):
    """A fetch that was refused or failed; the message names the problem and what to do instead."""
