"""The files server on real directories, governed, in both protocol eras, and its walk under attack.

Every escape attempt must come back as an error result that says why, leave an
audit record, and return no byte of the files outside the root (all of which
contain OUTSIDE_SECRET).
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from governance.audit import AuditStore
from governance.provenance import read_provenance
from governance.testing import audit_records, governed_server, open_audit
from servers._config import ServerConfig
from servers.files import FilesSettings, build_server
from servers.files._demo import DEMO_DOCUMENTS
from servers.files._errors import FilesError
from servers.files._ops import read_text, write_text
from servers.files._roots import Roots

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]
OUTSIDE_SECRET = "OUTSIDE-SECRET: payroll export"

POLICY = """
principals:
  alice: {roles: [editor]}
roles:
  editor:
    allow: ["files.*"]
tools:
  files.write_file:
    approval: never
"""


@dataclass
class Tree:
    """A root with documents, a sibling whose name starts with the root's, and a directory outside."""

    root: Path
    sibling: Path
    outside: Path

    def files_outside(self) -> dict[str, str]:
        return {p.name: p.read_text() for p in self.outside.iterdir()}

    def everything_in_root(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*"))


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    data = tmp_path / "data"
    root, sibling, outside = data / "root", data / "root-evil", tmp_path / "outside"
    for directory in (root / "runbooks", sibling, outside):
        directory.mkdir(parents=True)
    (root / "runbooks" / "failover.md").write_text("# Failover\nPromote the replica, then unfreeze writes.\n")
    (root / "notes.md").write_text("Quarterly planning notes.\n")
    (sibling / "secret.txt").write_text(OUTSIDE_SECRET)
    (outside / "secret.txt").write_text(OUTSIDE_SECRET)
    os.symlink("/etc", root / "etc-link")
    os.symlink(outside / "secret.txt", root / "innocent.txt")
    os.symlink(outside, root / "shared")
    os.symlink("runbooks/failover.md", root / "inside-link.md")  # stays inside, still not followed
    os.link(outside / "secret.txt", root / "hard-link.txt")
    os.mkfifo(root / "pipe")
    return Tree(root, sibling, outside)


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditStore]:
    store = open_audit(tmp_path)
    yield store
    store.close()


def files_server(tmp_path: Path, audit: AuditStore, settings: FilesSettings | None = None) -> MCPServer:
    server = build_server(ServerConfig(data_dir=tmp_path / "server-data"), settings)
    return governed_server(server, POLICY, audit, principal="alice")


def over(tree: Tree, **limits: Any) -> FilesSettings:
    return FilesSettings(roots={"docs": tree.root}, **limits)


def text_of(result: Any) -> str:
    return str(result.content[0].text)


def tool_errors(audit: AuditStore, tool: str) -> int:
    return sum(1 for r in audit_records(audit) if r.tool == tool and r.outcome == "tool_error")


# ---------------------------------------------------------------------------- the default root and its demo data


@pytest.mark.parametrize("mode", ERAS)
async def test_the_default_root_holds_the_demo_documents_dated_by_their_last_edit(
    mode: str, tmp_path: Path, audit: AuditStore
) -> None:
    async with Client(files_server(tmp_path, audit), mode=mode) as client:
        listing = await client.call_tool("list_directory", {})
        price_list = await client.call_tool("read_file", {"path": "pricing/price-list-2026.csv"})
    assert listing.structured_content is not None
    names = {entry["name"] for entry in listing.structured_content["entries"]}
    assert names == {"README.md", "meetings", "pricing", "runbooks"}
    assert price_list.structured_content is not None
    content = price_list.structured_content["content"]
    assert content.splitlines()[0] == "sku,product,unit,list_price,currency,min_qty,effective_from"
    provenance = read_provenance(price_list.model_dump(by_alias=True))
    assert provenance is not None
    assert provenance.source == "files:files"
    assert provenance.as_of == DEMO_DOCUMENTS["pricing/price-list-2026.csv"][1]  # the file's mtime


async def test_the_tools_describe_themselves_honestly(tmp_path: Path, audit: AuditStore) -> None:
    async with Client(files_server(tmp_path, audit)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    hints = {
        name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)
        for name, tool in tools.items()
        if (a := tool.annotations) is not None
    }
    assert hints == {
        "list_directory": (True, False, True, False),
        "read_file": (True, False, True, False),
        "search_files": (True, False, True, False),
        "write_file": (False, True, False, False),
    }
    assert tools["write_file"].input_schema["properties"]["content"]["maxLength"] == 256_000


# ---------------------------------------------------------------------------- escapes


def escape_attempts(tree: Tree) -> list[tuple[str, str]]:
    """(path, words the refusal must contain)."""
    return [
        ("../../etc/passwd", "'..' is not allowed"),
        ("runbooks/../../root-evil/secret.txt", "'..' is not allowed"),
        ("/etc/passwd", "outside every root"),
        (str(tree.sibling / "secret.txt"), "outside every root"),  # /…/root-evil is not inside /…/root
        ("etc-link/passwd", "'etc-link' is a symbolic link"),
        ("innocent.txt", "'innocent.txt' is a symbolic link"),
        ("shared/secret.txt", "'shared' is a symbolic link"),
        ("inside-link.md", "is a symbolic link"),
        ("hard-link.txt", "has 2 hard links"),
        ("notes\x00.md", "NUL byte"),
        ("pipe", "not a regular file"),  # opened with O_NONBLOCK: a FIFO cannot hang the call
        ("runbooks", "is a directory"),
        ("missing.md", "does not exist"),
    ]


@pytest.mark.parametrize("mode", ERAS)
async def test_no_path_reads_anything_outside_the_root(
    mode: str, tree: Tree, tmp_path: Path, audit: AuditStore
) -> None:
    attempts = escape_attempts(tree)
    async with Client(files_server(tmp_path, audit, over(tree)), mode=mode) as client:
        results = [await client.call_tool("read_file", {"path": path}) for path, _ in attempts]
    for (path, words), result in zip(attempts, results, strict=True):
        assert result.is_error, path
        assert words in text_of(result), (path, text_of(result))
        assert "OUTSIDE-SECRET" not in text_of(result)
    assert tool_errors(audit, "read_file") == len(attempts)


async def test_listing_and_searching_do_not_follow_links_out_of_the_root(
    tree: Tree, tmp_path: Path, audit: AuditStore
) -> None:
    async with Client(files_server(tmp_path, audit, over(tree))) as client:
        listing = await client.call_tool("list_directory", {})
        through_link = await client.call_tool("list_directory", {"path": "shared"})
        search = await client.call_tool("search_files", {"contains": "secret"})
    assert listing.structured_content is not None
    kinds = {entry["name"]: entry["kind"] for entry in listing.structured_content["entries"]}
    assert kinds == {
        "etc-link": "symlink",
        "hard-link.txt": "file",
        "innocent.txt": "symlink",
        "inside-link.md": "symlink",
        "notes.md": "file",
        "pipe": "other",
        "runbooks": "directory",
        "shared": "symlink",
    }
    assert through_link.is_error
    assert "'shared' is a symbolic link" in text_of(through_link)
    assert search.structured_content is not None
    assert search.structured_content["hits"] == []  # the hard link is skipped, the links not followed


def test_a_sibling_whose_name_starts_with_the_roots_name_is_not_inside_it(tree: Tree) -> None:
    roots = Roots({"docs": tree.root})
    assert str(tree.sibling).startswith(str(tree.root))  # the trap a string-prefix check falls into
    with pytest.raises(FilesError, match="outside every root"):
        roots.locate(str(tree.sibling / "secret.txt"))
    location = roots.locate(str(tree.root / "runbooks" / "failover.md"))
    assert (location.root.name, location.parts) == ("docs", ("runbooks", "failover.md"))


def test_an_absolute_path_may_use_the_roots_configured_or_real_spelling(tmp_path: Path, tree: Tree) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(tree.root)  # an operator's configured path may itself go through a link
    roots = Roots({"docs": alias})
    assert roots.locate(str(alias / "notes.md")).parts == ("notes.md",)
    assert roots.locate(str(tree.root / "notes.md")).parts == ("notes.md",)
    assert read_text(roots.locate("notes.md"), max_bytes=1000).content == "Quarterly planning notes.\n"


# ---------------------------------------------------------------------------- links swapped in (TOCTOU)


def swap_in_link(directory: Path, target: Path) -> None:
    """Replace `directory` by a symbolic link to `target`, as an attacker racing a check would."""
    directory.rename(directory.with_name(directory.name + ".real"))
    directory.symlink_to(target)


def test_a_link_swapped_in_after_the_path_was_accepted_is_refused_by_the_open_itself(tree: Tree) -> None:
    # There is no separate check to race: locate() only splits the path, and each component
    # is refused by the open(O_NOFOLLOW) that would have followed it. So "after the check" is
    # simply "the link is in place when we open", at any depth.
    roots = Roots({"docs": tree.root})
    reading = roots.locate("runbooks/failover.md")
    writing = roots.locate("runbooks/new.md")
    swap_in_link(tree.root / "runbooks", tree.outside)
    (tree.outside / "failover.md").write_text(OUTSIDE_SECRET)
    with pytest.raises(FilesError, match="'runbooks' is a symbolic link"):
        read_text(reading, max_bytes=1000)
    with pytest.raises(FilesError, match="'runbooks' is a symbolic link"):
        write_text(writing, "x", overwrite=False, make_parents=False, max_bytes=1000)
    assert sorted(p.name for p in tree.outside.iterdir()) == ["failover.md", "secret.txt"]


def exchange(first: Path, second: Path) -> None:
    """Atomically swap two directory entries (Linux renameat2 RENAME_EXCHANGE)."""
    if LIBC.renameat2(AT_FDCWD, bytes(first), AT_FDCWD, bytes(second), RENAME_EXCHANGE) != 0:
        raise OSError(ctypes.get_errno(), "renameat2 failed")


LIBC = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2


@pytest.mark.skipif(not hasattr(LIBC, "renameat2"), reason="needs Linux renameat2")
def test_racing_link_swaps_never_let_a_read_or_write_through(tree: Tree) -> None:
    # Another thread atomically exchanges the real directory and a link to the outside, as fast
    # as it can, while reads and writes go on. Each attempt sees one state or the other; none may
    # ever reach the outside. We keep going until both states were seen (bounded).
    roots = Roots({"docs": tree.root})
    (tree.outside / "failover.md").write_text(OUTSIDE_SECRET)
    runbooks, decoy = tree.root / "runbooks", tree.root / "decoy"
    decoy.symlink_to(tree.outside)
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            exchange(runbooks, decoy)

    flipper = threading.Thread(target=flip)
    flipper.start()
    outcomes: Counter[str] = Counter()
    try:
        for attempt in range(20_000):
            try:
                text = read_text(roots.locate("runbooks/failover.md"), max_bytes=1000).content
                outcomes["read" if "Promote the replica" in text else "LEAKED: " + text] += 1
                location = roots.locate(f"runbooks/new-{attempt}.md")
                write_text(location, "x", overwrite=False, make_parents=False, max_bytes=10)
                outcomes["written"] += 1
            except FilesError as error:
                outcomes["refused: " + str(error).split(";")[0]] += 1
            if outcomes["read"] and outcomes["refused: 'runbooks' is a symbolic link"] > 10:
                break
    finally:
        stop.set()
        flipper.join()
    assert not [outcome for outcome in outcomes if outcome.startswith("LEAKED")]
    assert outcomes["read"] and outcomes["refused: 'runbooks' is a symbolic link"]
    assert sorted(p.name for p in tree.outside.iterdir()) == ["failover.md", "secret.txt"]


# ---------------------------------------------------------------------------- writes


async def test_a_write_creates_a_file_and_refuses_to_clobber_it_unless_asked(
    tree: Tree, tmp_path: Path, audit: AuditStore
) -> None:
    path = "meetings/2026-11-03-ops.md"
    async with Client(files_server(tmp_path, audit, over(tree))) as client:
        created = await client.call_tool(
            "write_file", {"path": path, "content": "# Ops sync\n- ship it\n", "make_parents": True}
        )
        clobber = await client.call_tool("write_file", {"path": path, "content": "gone"})
        before = (tree.root / path).stat()
        replaced = await client.call_tool("write_file", {"path": path, "content": "# Ops sync v2\n", "overwrite": True})
    assert created.structured_content == {"root": "docs", "path": path, "size": 21, "created": True}
    assert clobber.is_error
    assert "already exists; pass overwrite=true" in text_of(clobber)
    assert replaced.structured_content is not None and replaced.structured_content["created"] is False
    after = (tree.root / path).stat()
    assert (tree.root / path).read_text() == "# Ops sync v2\n"
    assert after.st_ino != before.st_ino  # a new file renamed into place, not the old one rewritten
    assert after.st_mode == before.st_mode
    assert not [p for p in tree.everything_in_root() if ".mcpgov-write-" in p]
    provenance = read_provenance(replaced.model_dump(by_alias=True))
    assert provenance is not None
    assert provenance.as_of == datetime.fromtimestamp(after.st_mtime, UTC)


async def test_a_write_never_goes_through_a_link_at_the_destination(
    tree: Tree, tmp_path: Path, audit: AuditStore
) -> None:
    async with Client(files_server(tmp_path, audit, over(tree))) as client:
        results = [
            await client.call_tool("write_file", {"path": "innocent.txt", "content": "pwned", "overwrite": overwrite})
            for overwrite in (False, True)
        ]
        into_linked_dir = await client.call_tool("write_file", {"path": "shared/new.txt", "content": "pwned"})
    for result in results:
        assert result.is_error
        assert "'innocent.txt' is a symbolic link" in text_of(result)
    assert "'shared' is a symbolic link" in text_of(into_linked_dir)
    assert tree.files_outside() == {"secret.txt": OUTSIDE_SECRET}
    assert tool_errors(audit, "write_file") == 3


async def test_oversize_reads_and_writes_are_refused_and_nothing_is_written(
    tree: Tree, tmp_path: Path, audit: AuditStore
) -> None:
    (tree.root / "big.log").write_text("x" * 2_000)
    before = tree.everything_in_root()
    settings = over(tree, max_read_bytes=1_000, max_write_bytes=1_000)
    async with Client(files_server(tmp_path, audit, settings)) as client:
        big_read = await client.call_tool("read_file", {"path": "big.log"})
        too_many_chars = await client.call_tool("write_file", {"path": "a.txt", "content": "x" * 1_001})
        too_many_bytes = await client.call_tool("write_file", {"path": "b.txt", "content": "é" * 600})
    assert "'big.log' is 2000 bytes, over the read limit of 1000" in text_of(big_read)
    assert too_many_chars.is_error  # refused by the input schema before the tool runs
    assert "content" in text_of(too_many_chars)
    assert "the content is 1200 bytes, over the write limit of 1000; nothing was written" in text_of(too_many_bytes)
    assert tree.everything_in_root() == before


async def test_a_read_only_root_refuses_writes(tree: Tree, tmp_path: Path, audit: AuditStore) -> None:
    settings = over(tree, read_only_roots=["docs"])
    async with Client(files_server(tmp_path, audit, settings)) as client:
        result = await client.call_tool("write_file", {"path": "new.md", "content": "hello"})
    assert "root 'docs' is read-only; nothing was written" in text_of(result)
    assert not (tree.root / "new.md").exists()


# ---------------------------------------------------------------------------- search


@pytest.mark.parametrize("mode", ERAS)
async def test_search_finds_files_by_name_and_text_with_the_matching_lines(
    mode: str, tmp_path: Path, audit: AuditStore
) -> None:
    async with Client(files_server(tmp_path, audit), mode=mode) as client:
        by_name = await client.call_tool("search_files", {"name_glob": "runbooks/*.md"})
        by_text = await client.call_tool("search_files", {"contains": "FAILOVER", "name_glob": "*.md"})
        limited = await client.call_tool("search_files", {"name_glob": "*", "limit": 2})
        nothing = await client.call_tool("search_files", {})
    assert by_name.structured_content is not None
    assert [hit["path"] for hit in by_name.structured_content["hits"]] == [
        "runbooks/database-failover.md",
        "runbooks/incident-response.md",
    ]
    assert by_text.structured_content is not None
    hits = {hit["path"]: hit["lines"] for hit in by_text.structured_content["hits"]}
    assert set(hits) == {"README.md", "meetings/2026-10-06-weekly-ops.md", "runbooks/database-failover.md"}
    assert hits["runbooks/database-failover.md"][0] == {"line": 1, "text": "# Runbook: orders database failover"}
    assert limited.structured_content is not None
    assert len(limited.structured_content["hits"]) == 2
    assert limited.structured_content["truncated"] is True
    assert "result limit" in limited.structured_content["stopped_because"]
    assert nothing.is_error
    assert "give name_glob, contains, or both" in text_of(nothing)


async def test_search_stops_at_its_entry_budget_and_says_so(tree: Tree, tmp_path: Path, audit: AuditStore) -> None:
    for index in range(30):
        (tree.root / "runbooks" / f"step-{index:02}.md").write_text("promote\n")
    async with Client(files_server(tmp_path, audit, over(tree, max_search_entries=10))) as client:
        result = await client.call_tool("search_files", {"contains": "promote"})
    assert result.structured_content is not None
    assert result.structured_content["entries_examined"] == 10
    assert result.structured_content["stopped_because"] == "entry limit (10 files and directories examined)"


def test_relative_paths_are_split_into_plain_components() -> None:
    assert PurePosixPath("a//b/./c").parts == ("a", "b", "c")  # what locate() relies on


def test_the_package_exports_only_its_factory_and_settings() -> None:
    import servers.files

    assert sorted(servers.files.__all__) == ["FilesSettings", "build_server"]
