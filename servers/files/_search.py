"""Searching a root by file name and/or text, within fixed budgets.

The walk opens each directory through its parent's descriptor with
``O_NOFOLLOW`` (see `_walk`), skips symbolic links, and holds at most one
descriptor per level of depth. It stops at whichever comes first: one hit more
than asked for, the number of entries it may look at, the bytes it may read, or the depth limit,
and says which.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from datetime import datetime

from servers.files._errors import FilesError
from servers.files._ops import mtime, read_bytes_for_search
from servers.files._roots import Location
from servers.files._walk import entry_kind, open_directory, open_root

MAX_LINES_PER_FILE = 3
MAX_LINE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Budget:
    """How far a search may go."""

    max_hits: int
    max_entries: int
    max_bytes: int
    max_depth: int
    max_file_bytes: int


@dataclass(frozen=True, slots=True)
class Hit:
    path: str
    size: int
    modified: datetime
    lines: list[tuple[int, str]]


@dataclass
class SearchResult:
    hits: list[Hit] = field(default_factory=list)
    entries_examined: int = 0
    bytes_read: int = 0
    stopped: str | None = None  # why the search stopped early, if it did


class _Stop(Exception):
    """A budget ran out; unwinds the walk."""


def search(location: Location, *, name_glob: str | None, contains: str | None, budget: Budget) -> SearchResult:
    """Files under `location` whose name matches `name_glob` and whose text contains `contains`.

    Raises:
        FilesError: `location` is not a directory inside the root.
    """
    root_fd = open_root(location.root)
    try:
        start_fd = open_directory(root_fd, location, location.parts)
    finally:
        os.close(root_fd)
    searcher = _Searcher(location, name_glob, contains, budget)
    try:
        searcher.walk(start_fd, location.parts, depth=0)
    except _Stop:
        pass
    finally:
        os.close(start_fd)
    searcher.result.hits.sort(key=lambda hit: hit.path)
    return searcher.result


class _Searcher:
    def __init__(self, start: Location, name_glob: str | None, contains: str | None, budget: Budget) -> None:
        self._start = start
        self._glob = name_glob.lower() if name_glob else None
        self._needle = contains.lower() if contains else None
        self._budget = budget
        self.result = SearchResult()

    def walk(self, dir_fd: int, parts: tuple[str, ...], *, depth: int) -> None:
        with os.scandir(dir_fd) as scan:
            items = sorted(((item.name, item.stat(follow_symlinks=False)) for item in scan), key=lambda i: i[0])
        for name, status in items:
            if self.result.entries_examined >= self._budget.max_entries:
                self._stop(f"entry limit ({self._budget.max_entries} files and directories examined)")
            self.result.entries_examined += 1
            kind = entry_kind(status.st_mode)
            if kind == "file":
                self._consider(dir_fd, (*parts, name), status)
            elif kind == "directory":
                if depth + 1 >= self._budget.max_depth:
                    self.result.stopped = self.result.stopped or f"depth limit ({self._budget.max_depth})"
                    continue
                child = Location(self._start.root, (*parts, name))
                try:
                    child_fd = open_directory(dir_fd, child, (name,))
                except FilesError:
                    continue  # replaced by a link (or removed) since it was listed: skip it
                try:
                    self.walk(child_fd, child.parts, depth=depth + 1)
                finally:
                    os.close(child_fd)

    def _consider(self, dir_fd: int, parts: tuple[str, ...], status: os.stat_result) -> None:
        budget, result = self._budget, self.result
        relative = "/".join(parts)
        if self._glob is not None:
            subject = relative if "/" in self._glob else parts[-1]
            if not fnmatch.fnmatchcase(subject.lower(), self._glob):
                return
        lines: list[tuple[int, str]] = []
        if self._needle is not None:
            room = min(budget.max_file_bytes, budget.max_bytes - result.bytes_read)
            if room <= 0:
                self._stop(f"byte limit ({budget.max_bytes} bytes read)")
            data = read_bytes_for_search(Location(self._start.root, parts), dir_fd, max_bytes=room)
            if data is None or b"\0" in data[:8192]:
                return  # links, FIFOs and binary files are not searched
            result.bytes_read += len(data)
            lines = _matching_lines(data.decode("utf-8", errors="replace"), self._needle)
            if not lines:
                return
        if len(result.hits) == budget.max_hits:
            self._stop(f"result limit ({budget.max_hits} files; more match)")
        result.hits.append(Hit(relative, status.st_size, mtime(status), lines))

    def _stop(self, reason: str) -> None:
        self.result.stopped = reason
        raise _Stop


def _matching_lines(text: str, needle: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line.lower():
            found.append((number, line.strip()[:MAX_LINE_CHARS]))
            if len(found) == MAX_LINES_PER_FILE:
                break
    return found
