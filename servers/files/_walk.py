"""Opening paths inside a root one component at a time, never following a symbolic link.

This is what makes the root a boundary. Each directory is opened relative to the
one before (``openat`` through ``dir_fd``) with ``O_NOFOLLOW | O_DIRECTORY``,
and the last component with ``O_NOFOLLOW``: the kernel refuses a symbolic link
in the same system call that opens the component, so there is no gap between a
check and a use for a link to be swapped into (no TOCTOU). ``..`` never reaches
here (`_roots` refuses it). Symbolic links are refused even when they point
inside the root: following them safely needs ``openat2(RESOLVE_BENEATH)``,
which Python does not expose.

An opened file must also be a regular file (``fstat`` on the descriptor, so a
FIFO or a device cannot block or misbehave), have one link (a hard link can
bring a file from outside into the root), and, as defence in depth, its
``/proc/self/fd`` path must lie inside the root.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Literal

from servers.files._errors import FilesError
from servers.files._roots import Location, Root

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | _CLOEXEC
_PROC_FD = "/proc/self/fd"


def open_root(root: Root) -> int:
    """A descriptor for the root directory itself (its real path, resolved at start-up)."""
    try:
        return os.open(str(root.path), os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    except OSError as error:
        raise FilesError(f"root {root.name!r} cannot be opened ({error.strerror})") from None


def open_directory(root_fd: int, location: Location, parts: Sequence[str], *, create: bool = False) -> int:
    """Open the directory `parts` below the root, refusing symbolic links at every step.

    Args:
        root_fd: The root's descriptor (not consumed).
        location: What the caller asked for, for error messages.
        parts: The directory's components below the root.
        create: Make missing directories (for ``write_file(make_parents=True)``).

    Raises:
        FilesError: a component is missing, a symbolic link or not a directory.
    """
    current = os.dup(root_fd)
    try:
        for index, name in enumerate(parts):
            shown = "/".join(parts[: index + 1])
            try:
                following = os.open(name, _DIRECTORY_FLAGS, dir_fd=current)
            except FileNotFoundError:
                if not create:
                    raise FilesError(_missing(location, shown)) from None
                os.mkdir(name, 0o755, dir_fd=current)
                following = os.open(name, _DIRECTORY_FLAGS, dir_fd=current)
            except OSError as error:
                raise FilesError(_explain(current, name, shown, error)) from None
            os.close(current)
            current = following
        verify_inside(current, location.root, shown=location.relative)
        return current
    except BaseException:
        os.close(current)
        raise


def open_regular_file(dir_fd: int, location: Location) -> tuple[int, os.stat_result]:
    """Open the last component of `location` in `dir_fd` for reading, and its ``fstat``.

    Raises:
        FilesError: it is missing, a symbolic link, not a regular file, or has several links.
    """
    name, shown = location.parts[-1], location.relative
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise FilesError(_missing(location, shown)) from None
    except OSError as error:
        raise FilesError(_explain(dir_fd, name, shown, error)) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = "a directory" if stat.S_ISDIR(status.st_mode) else "not a regular file"
            raise FilesError(f"{shown!r} is {kind}; give the path of a file")
        if status.st_nlink > 1:
            raise FilesError(
                f"{shown!r} has {status.st_nlink} hard links; the files server only reads files with one "
                "link, because a hard link can bring a file from outside the root into it"
            )
        verify_inside(fd, location.root, shown=shown)
        return fd, status
    except BaseException:
        os.close(fd)
        raise


def verify_inside(fd: int, root: Root, *, shown: str) -> None:
    """Defence in depth: the kernel's name for the open descriptor lies inside the root.

    Skipped where ``/proc`` is not mounted (the component walk is the actual guarantee).

    Raises:
        FilesError: the descriptor's path is outside the root.
    """
    try:
        actual = os.readlink(f"{_PROC_FD}/{fd}")
    except OSError:
        return
    if not PurePosixPath(actual.removesuffix(" (deleted)")).is_relative_to(root.path):
        raise FilesError(f"{shown!r} resolved outside root {root.name!r}; refusing it")


EntryKind = Literal["file", "directory", "symlink", "other"]


def entry_kind(mode: int) -> EntryKind:
    """``file``, ``directory``, ``symlink`` or ``other`` for an ``lstat`` mode."""
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    return "file" if stat.S_ISREG(mode) else "other"


def _missing(location: Location, shown: str) -> str:
    return f"{shown!r} does not exist in root {location.root.name!r}; use list_directory or search_files to find it"


def _explain(dir_fd: int, name: str, shown: str, error: OSError) -> str:
    """Say why opening `name` failed. lstat here only words the message; the open already refused."""
    try:
        mode = os.lstat(name, dir_fd=dir_fd).st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode) or error.errno == errno.ELOOP:
        return f"{shown!r} is a symbolic link; the files server does not follow symbolic links"
    if error.errno == errno.ENOTDIR:
        return f"{shown!r} is not a directory"
    if error.errno == errno.ENAMETOOLONG:
        return f"{shown!r} has a name that is too long"
    return f"{shown!r} cannot be opened ({error.strerror})"
