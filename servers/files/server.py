"""The files MCP server: list, read, write and search files inside configured root directories.

Provenance: the source is ``files:<root name>``. For `read_file`, ``as_of`` is the
file's modification time: a file is a document written at a point in time (a
price list exported in March states March's prices, a runbook last edited two
years ago may describe systems that have since changed), so its mtime is when
its content was last known to be true, and it lets the recency guard flag stale
documents. Listings and searches describe the directory as it is now, so their
``as_of`` is the time of the call; a write's is the new file's mtime.
"""

# No `from __future__ import annotations`: the write tool's signature uses the settings' byte
# limit, and the SDK evaluates annotations by name, which cannot see a local of build_server.
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from governance.provenance import Provenance
from servers._config import ServerConfig
from servers.files import _ops, _search
from servers.files._demo import create_demo_root
from servers.files._errors import FilesError
from servers.files._models import (
    DirectoryEntry,
    DirectoryListing,
    FileContent,
    MatchingLine,
    SearchHit,
    SearchResults,
    WriteResult,
)
from servers.files._roots import Location, Roots
from servers.files._settings import FilesSettings

__all__ = ["build_server"]

SERVER_NAME = "files"
DEFAULT_ROOT = "files"

_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Destructive: with overwrite=true it replaces a file's content. Not idempotent: a repeat of a
# create fails (the file exists), and a repeat of an overwrite changes the mtime.
_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

_T = TypeVar("_T")

PathArg = Annotated[
    str,
    Field(
        max_length=4096,
        description="A path relative to the root, e.g. 'runbooks/database-failover.md', or an absolute "
        "path inside a root. No '..'.",
    ),
]


def build_server(config: ServerConfig, settings: FilesSettings | None = None) -> MCPServer:
    """Build the files server.

    Args:
        config: The suite's common settings; the default root lives in ``data_dir / "files"``.
        settings: Roots and limits; read from ``MCPGOV_FILES_*`` when None.

    Returns:
        An MCPServer named ``files`` with the tools ``list_directory``, ``read_file``,
        ``write_file`` and ``search_files``.

    Raises:
        ValueError: a configured root is not an existing directory.
    """
    settings = settings if settings is not None else FilesSettings()
    directories = dict(settings.roots)
    if not directories:
        default = Path(config.data_dir) / DEFAULT_ROOT
        create_demo_root(default)
        directories = {DEFAULT_ROOT: default}
    roots = Roots(directories, read_only=frozenset(settings.read_only_roots))
    root_names = ", ".join(roots.names)
    RootArg = Annotated[str | None, Field(description=f"Which root: {root_names}. Default: {roots.names[0]}.")]
    server = MCPServer(
        name=SERVER_NAME,
        version=version("mcpgov"),
        instructions=(
            f"Files in the roots {root_names}: list_directory and search_files to find documents, read_file "
            "to read one, write_file to create (or, with overwrite=true, replace) a text file. Paths are "
            "relative to a root; symbolic links are not followed."
        ),
    )

    def run(action: Callable[[], _T]) -> _T:
        try:
            return action()
        except FilesError as error:
            raise ToolError(str(error)) from None
        except OSError as error:
            raise ToolError(f"the file operation failed ({error.strerror}); nothing was changed") from None

    def result(model: BaseModel, location: Location, as_of: datetime) -> CallToolResult:
        return CallToolResult(
            content=[TextContent(type="text", text=model.model_dump_json(indent=2))],
            structured_content=model.model_dump(mode="json"),
            _meta=Provenance(source=f"files:{location.root.name}", as_of=as_of).as_meta(),
        )

    @server.tool(annotations=_READ)
    def list_directory(path: PathArg = "", root: RootArg = None) -> Annotated[CallToolResult, DirectoryListing]:
        """List a directory inside a root: names, kinds (file, directory, symlink), sizes and modification times."""
        location = run(lambda: roots.locate(path, root))
        listing = run(lambda: _ops.list_directory(location, max_entries=settings.max_list_entries))
        model = DirectoryListing(
            root=location.root.name,
            path=location.relative,
            entries=[
                DirectoryEntry(name=e.name, kind=e.kind, size=e.size, modified=e.modified) for e in listing.entries
            ],
            truncated=listing.truncated,
        )
        return result(model, location, datetime.now(UTC))

    @server.tool(annotations=_READ)
    def read_file(path: PathArg, root: RootArg = None) -> Annotated[CallToolResult, FileContent]:
        """Read a text file inside a root (up to the server's size limit)."""
        location = run(lambda: roots.locate(path, root))
        text = run(lambda: _ops.read_text(location, max_bytes=settings.max_read_bytes))
        model = FileContent(
            root=location.root.name,
            path=location.relative,
            size=text.size,
            modified=text.modified,
            content=text.content,
        )
        return result(model, location, text.modified)

    @server.tool(annotations=_WRITE)
    def write_file(
        path: PathArg,
        content: Annotated[
            str, Field(max_length=settings.max_write_bytes, description="The file's full new text (UTF-8).")
        ],
        root: RootArg = None,
        overwrite: Annotated[bool, Field(description="Replace the file if it exists.")] = False,
        make_parents: Annotated[bool, Field(description="Create missing parent directories.")] = False,
    ) -> Annotated[CallToolResult, WriteResult]:
        """Write a text file inside a root, atomically. Refuses to replace an existing file unless overwrite=true."""
        location = run(lambda: roots.locate(path, root))
        written = run(
            lambda: _ops.write_text(
                location,
                content,
                overwrite=overwrite,
                make_parents=make_parents,
                max_bytes=settings.max_write_bytes,
            ),
        )
        model = WriteResult(root=location.root.name, path=location.relative, size=written.size, created=written.created)
        return result(model, location, written.modified)

    @server.tool(annotations=_READ)
    def search_files(
        path: PathArg = "",
        root: RootArg = None,
        name_glob: Annotated[
            str | None, Field(max_length=200, description="File-name pattern, e.g. '*.md' or 'runbooks/*.md'.")
        ] = None,
        contains: Annotated[
            str | None, Field(min_length=1, max_length=200, description="Text the file must contain (any case).")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=200, description="Most files to return.")] = 20,
    ) -> Annotated[CallToolResult, SearchResults]:
        """Find files under a directory by name pattern and/or contained text, with the matching lines."""
        if name_glob is None and contains is None:
            raise ToolError("give name_glob, contains, or both; e.g. contains='failover'")
        location = run(lambda: roots.locate(path, root))
        budget = _search.Budget(
            max_hits=limit,
            max_entries=settings.max_search_entries,
            max_bytes=settings.max_search_bytes,
            max_depth=settings.max_search_depth,
            max_file_bytes=settings.max_read_bytes,
        )
        found = run(lambda: _search.search(location, name_glob=name_glob, contains=contains, budget=budget))
        model = SearchResults(
            root=location.root.name,
            path=location.relative,
            hits=[
                SearchHit(
                    path=hit.path,
                    size=hit.size,
                    modified=hit.modified,
                    lines=[MatchingLine(line=number, text=text) for number, text in hit.lines],
                )
                for hit in found.hits
            ],
            entries_examined=found.entries_examined,
            truncated=found.stopped is not None,
            stopped_because=found.stopped,
        )
        return result(model, location, datetime.now(UTC))

    return server
