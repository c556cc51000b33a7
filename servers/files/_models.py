"""What the files tools return (their output schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field


class DirectoryEntry(BaseModel):
    """One entry of a directory."""

    name: str
    kind: Literal["file", "directory", "symlink", "other"] = Field(
        description="symlink: a symbolic link, which the files server does not follow."
    )
    size: int | None = Field(description="Bytes, for files.")
    modified: AwareDatetime


class DirectoryListing(BaseModel):
    """A directory's entries, sorted by name."""

    root: str
    path: str
    entries: list[DirectoryEntry]
    truncated: bool = Field(description="True when the directory had more entries than the server lists.")


class FileContent(BaseModel):
    """A text file's content."""

    root: str
    path: str
    size: int
    modified: AwareDatetime
    content: str


class WriteResult(BaseModel):
    """What write_file did."""

    root: str
    path: str
    size: int = Field(description="Bytes written.")
    created: bool = Field(description="True for a new file, False when an existing one was replaced.")


class MatchingLine(BaseModel):
    """A line that contains the searched text."""

    line: int
    text: str


class SearchHit(BaseModel):
    """A file that matched."""

    path: str = Field(description="Relative to the root.")
    size: int
    modified: AwareDatetime
    lines: list[MatchingLine] = Field(description="Up to three matching lines (when searching for text).")


class SearchResults(BaseModel):
    """Files that matched, sorted by path."""

    root: str
    path: str
    hits: list[SearchHit]
    entries_examined: int
    truncated: bool = Field(description="True when the search stopped before looking everywhere.")
    stopped_because: str | None
