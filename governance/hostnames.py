"""Matching host and email domains against policy patterns, by whole DNS labels.

`*.example.com` matches `eu.example.com` and never `evilexample.com` or
`example.com` itself; comparison is by labels, never by string suffix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _labels(name: str) -> list[str]:
    return name.lower().rstrip(".").split(".")


def host_matches(name: str, patterns: Sequence[str]) -> bool:
    """Does host or domain `name` match any of `patterns` (`example.com` or `*.example.com`)?"""
    labels = _labels(name)
    for pattern in patterns:
        wanted = _labels(pattern)
        if wanted[0] == "*":
            suffix = wanted[1:]
            if len(labels) > len(suffix) and labels[-len(suffix) :] == suffix:
                return True
        elif labels == wanted:
            return True
    return False


def string_values(value: Any) -> list[str]:
    """A value that is a string or a list of strings, as a list; anything else gives nothing."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
