"""Listing, reading and writing inside a root, every path opened through `_walk`.

Writes are atomic and never go through a symbolic link: the bytes go to a new
temporary file in the destination directory (``O_CREAT | O_EXCL | O_NOFOLLOW``,
so it cannot be a pre-placed link), which is then renamed over the destination
(``rename`` replaces a directory entry, it never writes through a link) or, when
overwriting is not allowed, hard-linked to it (``link`` fails if the name exists,
so a file that appears meanwhile is not clobbered). A reader sees the old file or
the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime

from servers.files._errors import FilesError
from servers.files._roots import Location
from servers.files._walk import EntryKind, entry_kind, open_directory, open_regular_file, open_root


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    kind: EntryKind
    size: int | None
    modified: datetime


@dataclass(frozen=True, slots=True)
class Listing:
    entries: list[Entry]
    truncated: bool


@dataclass(frozen=True, slots=True)
class FileText:
    content: str
    size: int
    modified: datetime


@dataclass(frozen=True, slots=True)
class Written:
    size: int
    created: bool
    modified: datetime


def mtime(status: os.stat_result) -> datetime:
    return datetime.fromtimestamp(status.st_mtime, UTC)


def list_directory(location: Location, *, max_entries: int) -> Listing:
    """The entries of a directory (links shown as ``symlink``, not followed), sorted by name.

    Raises:
        FilesError: the path is not a directory inside the root.
    """
    root_fd = open_root(location.root)
    try:
        dir_fd = open_directory(root_fd, location, location.parts)
    finally:
        os.close(root_fd)
    entries: list[Entry] = []
    truncated = False
    try:
        with os.scandir(dir_fd) as scan:
            for item in scan:
                if len(entries) == max_entries:
                    truncated = True
                    break
                status = item.stat(follow_symlinks=False)
                kind = entry_kind(status.st_mode)
                size = status.st_size if kind == "file" else None
                entries.append(Entry(item.name, kind, size, mtime(status)))
    finally:
        os.close(dir_fd)
    return Listing(sorted(entries, key=lambda entry: entry.name), truncated)


def read_text(location: Location, *, max_bytes: int) -> FileText:
    """A file's text (UTF-8; undecodable bytes replaced), refusing binary and oversize files.

    Raises:
        FilesError: not a readable regular file inside the root, larger than `max_bytes`, or binary.
    """
    if not location.parts:
        raise FilesError("give the path of a file, not the root; use list_directory to see the root")
    fd, status = _open_file(location)
    try:
        if status.st_size > max_bytes:
            raise FilesError(_too_big(location, status.st_size, max_bytes))
        data = _read_up_to(fd, max_bytes + 1)  # the file may have grown since fstat
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise FilesError(_too_big(location, len(data), max_bytes))
    if b"\0" in data[:8192]:
        raise FilesError(f"{location.relative!r} looks binary; read_file returns text files only")
    return FileText(data.decode("utf-8", errors="replace"), len(data), mtime(status))


def read_bytes_for_search(location: Location, dir_fd: int, *, max_bytes: int) -> bytes | None:
    """Up to `max_bytes` of a file for searching, or None if it cannot be read as a plain file."""
    try:
        fd, _ = open_regular_file(dir_fd, location)
    except FilesError:
        return None
    try:
        return _read_up_to(fd, max_bytes)
    finally:
        os.close(fd)


def write_text(location: Location, content: str, *, overwrite: bool, make_parents: bool, max_bytes: int) -> Written:
    """Write `content` to the file at `location`, atomically.

    Raises:
        FilesError: too large, a read-only root, the destination is a link, a directory or
            something else, it exists and `overwrite` is false, or its directory is not usable.
    """
    data = content.encode("utf-8")
    if len(data) > max_bytes:
        raise FilesError(f"the content is {len(data)} bytes, over the write limit of {max_bytes}; nothing was written")
    root = location.root
    if not root.writable:
        raise FilesError(f"root {root.name!r} is read-only; nothing was written")
    if not location.parts:
        raise FilesError("give the path of a file to write, not the root")
    root_fd = open_root(root)
    try:
        dir_fd = open_directory(root_fd, location, location.parts[:-1], create=make_parents)
    finally:
        os.close(root_fd)
    try:
        return _replace(dir_fd, location, data, overwrite=overwrite)
    finally:
        os.close(dir_fd)


def _replace(dir_fd: int, location: Location, data: bytes, *, overwrite: bool) -> Written:
    name, shown = location.parts[-1], location.relative
    existing = _lstat(dir_fd, name)
    if existing is not None:
        if stat.S_ISLNK(existing.st_mode):
            raise FilesError(f"{shown!r} is a symbolic link; the files server does not write through links")
        if not stat.S_ISREG(existing.st_mode):
            raise FilesError(f"{shown!r} exists and is not a regular file; choose another name")
        if not overwrite:
            raise FilesError(f"{shown!r} already exists; pass overwrite=true to replace it")
    temporary = f".mcpgov-write-{secrets.token_hex(8)}.tmp"
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else 0o644
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)
    try:
        try:
            if existing is not None:
                os.fchmod(fd, mode)  # the umask may have narrowed it
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            written = os.fstat(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:
            try:
                os.link(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            except FileExistsError:
                raise FilesError(f"{shown!r} already exists; pass overwrite=true to replace it") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=dir_fd)
    os.fsync(dir_fd)  # the rename itself is durable, not only the bytes
    return Written(size=len(data), created=existing is None, modified=mtime(written))


def _open_file(location: Location) -> tuple[int, os.stat_result]:
    root_fd = open_root(location.root)
    try:
        dir_fd = open_directory(root_fd, location, location.parts[:-1])
    finally:
        os.close(root_fd)
    try:
        return open_regular_file(dir_fd, location)
    finally:
        os.close(dir_fd)


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return None


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _too_big(location: Location, size: int, limit: int) -> str:
    return (
        f"{location.relative!r} is {size} bytes, over the read limit of {limit}; "
        "use search_files to find the lines you need"
    )
