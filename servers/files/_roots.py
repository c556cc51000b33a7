"""Roots, and turning a caller's path into (root, components) without touching the file system.

A caller names a file relative to a root (``runbooks/failover.md`` in root
``files``) or absolutely (``/srv/docs/runbooks/failover.md``). Either way the
result is a root and a tuple of plain names: no ``..``, no empty or ``.``
components, no NUL bytes. Absolute paths are matched to a root by path
components (`PurePosixPath.is_relative_to`), never by string prefix, so
``/data/root-evil`` is not inside ``/data/root``. Symbolic links are not
resolved here at all: `_walk` opens the components one by one and refuses them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from servers.files._errors import FilesError


@dataclass(frozen=True, slots=True)
class Root:
    """A configured directory the server may work in."""

    name: str
    path: PurePosixPath  # real path (symlinks in the configuration resolved once, at start-up)
    configured: PurePosixPath  # as configured, so callers may use either spelling
    writable: bool


@dataclass(frozen=True, slots=True)
class Location:
    """A path inside a root, as plain components (empty: the root itself)."""

    root: Root
    parts: tuple[str, ...]

    @property
    def relative(self) -> str:
        """The path relative to the root, as results show it (``.`` for the root)."""
        return "/".join(self.parts) or "."


class Roots:
    """The configured roots, by name, in configuration order (the first is the default)."""

    def __init__(self, directories: Mapping[str, Path], *, read_only: frozenset[str] = frozenset()) -> None:
        """Resolve each root once.

        Raises:
            ValueError: no roots, or a root that is not an existing directory.
        """
        if not directories:
            raise ValueError("the files server needs at least one root directory")
        roots: dict[str, Root] = {}
        for name, directory in directories.items():
            real = os.path.realpath(directory)
            if not os.path.isdir(real):
                raise ValueError(f"root {name!r} ({directory}) is not an existing directory")
            roots[name] = Root(name, PurePosixPath(real), PurePosixPath(directory), name not in read_only)
        self._roots = roots

    @property
    def names(self) -> list[str]:
        return list(self._roots)

    def get(self, name: str | None) -> Root:
        """The named root, or the first one.

        Raises:
            FilesError: there is no root with that name.
        """
        if name is None:
            return next(iter(self._roots.values()))
        root = self._roots.get(name)
        if root is None:
            raise FilesError(f"there is no root named {name!r}; the roots are: {', '.join(self._roots)}")
        return root

    def locate(self, path: str, root_name: str | None = None) -> Location:
        """The root and components `path` names.

        Raises:
            FilesError: a NUL byte, a ``..`` component, an absolute path outside every root
                (or outside the named one), or an unknown root name.
        """
        if "\0" in path:
            raise FilesError("the path contains a NUL byte; give a plain path such as 'runbooks/failover.md'")
        pure = PurePosixPath(path)
        if ".." in pure.parts:
            raise FilesError(f"'..' is not allowed in paths ({path!r}); give a path inside the root")
        if not pure.is_absolute():
            return Location(self.get(root_name), pure.parts)
        candidates = [self.get(root_name)] if root_name is not None else list(self._roots.values())
        matches = [
            (len(base.parts), root, pure.relative_to(base).parts)
            for root in candidates
            for base in (root.path, root.configured)
            if pure.is_relative_to(base)
        ]
        if not matches:
            where = f"root {root_name!r}" if root_name is not None else "every root"
            raise FilesError(
                f"the absolute path {path!r} is outside {where}; use a path relative to a root "
                f"(roots: {', '.join(self._roots)})"
            )
        _, root, parts = max(matches, key=lambda match: match[0])  # the innermost root wins
        return Location(root, parts)
