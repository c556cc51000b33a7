"""One namespace for the tools of many servers, and names every model provider accepts."""

from __future__ import annotations

import pytest

from client_harness.namespace import PROVIDER_NAME, QualifiedTool, ToolNameError, provider_names, resolve


def test_tools_are_named_server_double_underscore_tool_for_providers() -> None:
    names = provider_names([QualifiedTool("knowledge_base", "search_articles"), QualifiedTool("tickets", "get_ticket")])
    assert names == {
        "knowledge_base__search_articles": QualifiedTool("knowledge_base", "search_articles"),
        "tickets__get_ticket": QualifiedTool("tickets", "get_ticket"),
    }


def test_a_tool_name_with_a_dot_gets_a_deterministic_suffix_that_does_not_depend_on_other_tools() -> None:
    dotted = QualifiedTool("files", "fs.read")
    alone = provider_names([dotted])
    crowded = provider_names([dotted, QualifiedTool("files", "fs_write"), QualifiedTool("web", "fetch")])
    (name,) = alone
    assert name.startswith("files__fs_read-") and len(name) == len("files__fs_read-") + 8
    assert crowded[name] == dotted
    assert all(PROVIDER_NAME.match(n) for n in crowded)


def test_names_that_clash_after_sanitizing_all_get_suffixes_and_stay_distinct() -> None:
    a, b = QualifiedTool("a__b", "c"), QualifiedTool("a", "b__c")  # both "a__b__c"
    names = provider_names([a, b])
    assert sorted(names.values()) == sorted([a, b])
    assert not any(n == "a__b__c" for n in names)
    assert provider_names([b, a]) == names  # order does not matter


def test_a_long_name_is_cut_to_64_characters_with_its_suffix() -> None:
    tool = QualifiedTool("a-server-with-a-rather-long-name", "and_a_tool_with_an_even_longer_name_than_that")
    (name,) = provider_names([tool])
    assert len(name) == 64 and PROVIDER_NAME.match(name)


def test_a_reference_splits_at_the_dot_after_a_configured_server() -> None:
    servers = {"knowledge_base", "files"}
    assert resolve("knowledge_base.search_articles", servers) == QualifiedTool("knowledge_base", "search_articles")
    assert resolve("files.fs.read", servers) == QualifiedTool("files", "fs.read")
    assert resolve({"server": "files", "tool": "x"}, servers) == QualifiedTool("files", "x")


def test_an_ambiguous_or_unknown_reference_is_refused_with_the_way_to_write_it() -> None:
    with pytest.raises(ToolNameError, match=r"'a\.b\.c' is ambiguous; write one of \{server: a, tool: b\.c\}"):
        resolve("a.b.c", {"a", "a.b"})
    with pytest.raises(ToolNameError, match=r"names no configured server; write SERVER\.TOOL with one of"):
        resolve("payroll.run", {"a"})
