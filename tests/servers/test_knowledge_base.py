"""The knowledge-base server, driven through the in-process client in both protocol eras."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent, TextResourceContents, ToolAnnotations

import servers.knowledge_base
from governance.provenance import read_provenance
from servers._config import ServerConfig
from servers.knowledge_base import build_server
from servers.knowledge_base._articles import CORPUS_EPOCH, Article, generate_articles
from servers.knowledge_base._store import KnowledgeBaseStore, QueryError, fts_query
from servers.knowledge_base.server import ArticleDetail, CollectionList, SearchResults

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> MCPServer:
    # Every tool is read-only, so one server serves the whole module.
    return build_server(ServerConfig(data_dir=tmp_path_factory.mktemp("kb")))


@pytest.fixture(scope="module")
def corpus() -> dict[str, Article]:
    return {article.slug: article for article in generate_articles()}


@pytest.fixture(params=["legacy", "auto"])
async def client(request: pytest.FixtureRequest, server: MCPServer) -> AsyncIterator[Client]:
    async with Client(server, mode=request.param) as connected:
        yield connected


async def call(client: Client, tool: str, **arguments: Any) -> CallToolResult:
    with anyio.fail_after(5):
        return await client.call_tool(tool, arguments)


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def search(client: Client, query: str, **filters: Any) -> SearchResults:
    result = await call(client, "search_articles", query=query, **filters)
    assert not result.is_error, result.content
    return SearchResults.model_validate(result.structured_content)


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("how do I reset my password on android", "reset-your-password-in-the-android-app"),
        ("verify webhook signature", "verify-webhook-signatures"),
        ("429 too many requests", "understand-api-rate-limits-and-429-responses"),
        ("lost my phone two-factor", "recover-your-account-if-you-lost-your-two-factor-device"),
        ("fedex parcel arrived damaged claim", "file-a-claim-for-a-lost-or-damaged-fedex-package"),
        ("how long does a paypal refund take", "how-long-refunds-take-for-paypal"),
    ],
)
async def test_search_ranks_the_obviously_relevant_article_first(
    client: Client, corpus: dict[str, Article], query: str, slug: str
) -> None:
    results = await search(client, query)

    top = results.hits[0]
    assert (top.id, top.title) == (corpus[slug].id, corpus[slug].title)
    assert [hit.score for hit in results.hits] == sorted((hit.score for hit in results.hits), reverse=True)


async def test_search_hits_carry_a_highlighted_snippet_and_the_article_facts(
    client: Client, corpus: dict[str, Article]
) -> None:
    article = corpus["verify-webhook-signatures"]

    top = (await search(client, "webhook signature")).hits[0]

    assert "**" in top.snippet
    assert top.collection == article.collection
    assert top.tags == list(article.tags)
    assert top.updated_at == article.updated_at


async def test_search_filtered_by_collection_returns_only_that_collection(client: Client) -> None:
    everywhere = await search(client, "refund", limit=50)
    billing = await search(client, "refund", collection="Billing", limit=50)

    assert {hit.collection for hit in everywhere.hits} > {"billing"}
    assert billing.hits
    assert {hit.collection for hit in billing.hits} == {"billing"}


async def test_search_filtered_by_tag_returns_only_articles_with_that_tag(client: Client) -> None:
    results = await search(client, "webhook", tag="webhooks", limit=50)

    assert results.hits
    assert all("webhooks" in hit.tags for hit in results.hits)
    # The tag crosses collections: API set-up articles and the troubleshooting one.
    assert {hit.collection for hit in results.hits} == {"integrations-api", "troubleshooting"}


async def test_search_with_an_unknown_collection_or_tag_is_refused_naming_the_choices(client: Client) -> None:
    unknown_collection = error_text(await call(client, "search_articles", query="refund", collection="faq"))
    unknown_tag = error_text(await call(client, "search_articles", query="refund", tag="no-such-tag"))

    assert "'faq'" in unknown_collection
    assert "billing" in unknown_collection
    assert "'no-such-tag'" in unknown_tag


async def test_search_returns_no_more_hits_than_the_limit(client: Client) -> None:
    assert len((await search(client, "order", limit=3)).hits) == 3
    assert len((await search(client, "order")).hits) == 10
    assert len((await search(client, "order", limit=50)).hits) == 50


@pytest.mark.parametrize("limit", [0, 51])
async def test_search_refuses_a_limit_outside_1_to_50(client: Client, limit: int) -> None:
    assert "limit" in error_text(await call(client, "search_articles", query="order", limit=limit))


@pytest.mark.parametrize(
    "query",
    [
        "reset* password",
        '"reset" -password',
        "(reset) ^password",
        "title: reset password",
        '"reset password',
        "reset + password;",
    ],
)
async def test_fts_syntax_in_a_query_is_read_as_plain_words(client: Client, query: str) -> None:
    # "title" stays a word here, not a column filter, so it is compared with the words typed plainly.
    words = "title reset password" if query.startswith("title") else "reset password"

    found = [hit.id for hit in (await search(client, query, limit=50)).hits]

    assert found
    assert found == [hit.id for hit in (await search(client, words, limit=50)).hits]


@pytest.mark.parametrize("operator", ["NOT", "OR", "AND"])
async def test_fts_operator_words_are_searched_for_as_words(client: Client, operator: str) -> None:
    results = await search(client, operator)

    assert results.matched == "all_words"
    assert f"**{operator.lower()}**" in results.hits[0].snippet.lower()


@pytest.mark.parametrize(
    "query",
    [
        "password OR invoice",
        "NEAR(reset password)",
        "NEAR(reset password, 2)",
        "reset AND NOT password",
        "password NEAR(",
    ],
)
async def test_fts_operator_expressions_do_not_error(client: Client, query: str) -> None:
    assert (await search(client, query)).hits


@pytest.mark.parametrize("query", ["   ", "!!!", '"', "*", "-", "(", "()", "_"])
async def test_a_query_without_words_is_refused_with_a_clear_message(client: Client, query: str) -> None:
    text = error_text(await call(client, "search_articles", query=query))

    assert "has no words to search for" in text
    assert "letters or digits" in text


async def test_an_empty_query_is_refused_by_the_input_schema(client: Client) -> None:
    text = error_text(await call(client, "search_articles", query=""))

    assert "query" in text
    assert "at least 1 character" in text


async def test_get_article_returns_the_whole_article(client: Client, corpus: dict[str, Article]) -> None:
    article = corpus["cancel-your-subscription"]

    result = await call(client, "get_article", article_id=article.id)

    detail = ArticleDetail.model_validate(result.structured_content)
    assert (detail.title, detail.body, detail.tags, detail.updated_at) == (
        article.title,
        article.body,
        list(article.tags),
        article.updated_at,
    )
    assert detail.uri == f"kb://articles/{article.id}"


async def test_get_article_with_an_unknown_id_is_an_error_naming_the_id(
    client: Client, corpus: dict[str, Article]
) -> None:
    missing = len(corpus) + 1

    text = error_text(await call(client, "get_article", article_id=missing))

    assert f"id {missing}" in text
    assert "search_articles" in text


async def test_get_article_refuses_an_id_below_1(client: Client) -> None:
    assert "article_id" in error_text(await call(client, "get_article", article_id=0))


async def test_list_collections_counts_sum_to_the_article_total(client: Client, corpus: dict[str, Article]) -> None:
    listing = CollectionList.model_validate((await call(client, "list_collections")).structured_content)

    assert len(listing.collections) >= 6
    assert sum(c.article_count for c in listing.collections) == listing.total_articles == len(corpus)
    assert {c.name for c in listing.collections} == {a.collection for a in corpus.values()}


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("search_articles", {"query": "invoice"}), ("get_article", {"article_id": 1}), ("list_collections", {})],
)
async def test_every_tool_result_carries_provenance_with_an_aware_as_of(
    client: Client, tool: str, arguments: dict[str, Any]
) -> None:
    result = await call(client, tool, **arguments)

    provenance = read_provenance(result.model_dump(mode="json", by_alias=True))
    assert provenance is not None
    assert provenance.source == "knowledge_base"
    assert provenance.as_of.utcoffset() == timedelta(0)


async def test_structured_content_matches_the_output_model_and_the_text_block(client: Client) -> None:
    result = await call(client, "search_articles", query="shipping label printer")

    block = result.content[0]
    assert isinstance(block, TextContent)
    assert json.loads(block.text) == result.structured_content
    assert SearchResults.model_validate(result.structured_content).model_dump(mode="json") == (
        result.structured_content
    )


async def test_tools_list_shows_output_schemas_constraints_and_read_only_annotations(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert set(tools) == {"search_articles", "get_article", "list_collections"}
    assert tools["search_articles"].output_schema == SearchResults.model_json_schema()
    assert tools["get_article"].output_schema == ArticleDetail.model_json_schema()
    assert tools["list_collections"].output_schema == CollectionList.model_json_schema()
    search_inputs = tools["search_articles"].input_schema["properties"]
    assert (search_inputs["query"]["minLength"], search_inputs["query"]["maxLength"]) == (1, 200)
    assert (search_inputs["limit"]["minimum"], search_inputs["limit"]["maximum"]) == (1, 50)
    assert tools["get_article"].input_schema["properties"]["article_id"]["minimum"] == 1
    for tool in tools.values():
        assert tool.description
        assert tool.annotations == ToolAnnotations(
            read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        )


async def test_an_article_resource_reads_as_markdown(client: Client, corpus: dict[str, Article]) -> None:
    article = corpus["verify-webhook-signatures"]

    with anyio.fail_after(5):
        result = await client.read_resource(f"kb://articles/{article.id}")

    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "text/markdown"
    assert content.text.startswith(f"# {article.title}\n\n{article.body}")
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["kb://articles/{article_id}"]


@pytest.mark.parametrize("article_id", ["99999", "abc", "0x1"])
async def test_reading_a_missing_article_resource_fails_naming_it(client: Client, article_id: str) -> None:
    with anyio.fail_after(5), pytest.raises(MCPError, match=f"No article has id '{article_id}'"):
        await client.read_resource(f"kb://articles/{article_id}")


async def test_concurrent_calls_share_the_index_safely(client: Client, corpus: dict[str, Article]) -> None:
    # Sync tools run on the SDK's worker threads; these overlap on the one SQLite connection.
    queries = ["reset password", "webhook", "refund paypal", "customs", "invoice", "okta"] * 5
    found: dict[int, list[int]] = {}

    async def run(index: int, query: str) -> None:
        found[index] = [hit.id for hit in (await search(client, query)).hits]

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            for index, query in enumerate(queries):
                tasks.start_soon(run, index, query)

    for index, query in enumerate(queries):
        assert found[index] == found[queries.index(query)]
        assert found[index]


async def test_the_server_names_itself_knowledge_base_with_the_package_version(client: Client) -> None:
    assert client.server_info is not None
    assert client.server_info.name == "knowledge_base"
    assert client.server_info.version


def test_the_corpus_is_deterministic() -> None:
    assert generate_articles() == generate_articles()


def test_two_builds_answer_a_search_identically() -> None:
    first, second = KnowledgeBaseStore.build(), KnowledgeBaseStore.build()

    assert first.search("reset password android") == second.search("reset password android")


def test_the_corpus_has_at_least_240_articles_in_at_least_6_collections(corpus: dict[str, Article]) -> None:
    articles = list(corpus.values())

    assert len(articles) >= 240
    assert len({a.collection for a in articles}) >= 6
    assert sorted(a.id for a in articles) == list(range(1, len(articles) + 1))
    assert all(a.body.count("\n\n") >= 4 and a.tags for a in articles)


def test_every_article_has_an_aware_updated_at_in_the_18_months_before_the_epoch(
    corpus: dict[str, Article],
) -> None:
    dates = [article.updated_at for article in corpus.values()]

    assert all(date.utcoffset() == timedelta(0) for date in dates)
    assert all(CORPUS_EPOCH - timedelta(days=550) <= date <= CORPUS_EPOCH for date in dates)
    # Spread out, not bunched: the corpus covers more than a year.
    assert max(dates) - min(dates) > timedelta(days=365)


@pytest.mark.parametrize(
    "text",
    [
        'a" OR "b',
        "NEAR(a b, 2)",
        "{title body}: reset",
        "password'); DROP TABLE articles; --",
        "\u00e9t\u00e9 caf\u0065\u0301 \u00bd \u65e5\u672c",
        "x" * 200,
    ],
)
def test_fts_query_quotes_every_word_so_the_index_accepts_any_text(text: str) -> None:
    store = KnowledgeBaseStore.build()
    query = fts_query(text)

    assert all(part.startswith('"') and part.endswith('"') for part in query.split(" "))
    store.search(text)  # must not raise sqlite3.OperationalError


def test_the_store_refuses_a_naive_build_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        KnowledgeBaseStore(generate_articles(), built_at=CORPUS_EPOCH.replace(tzinfo=None))


def test_fts_query_refuses_text_without_words() -> None:
    with pytest.raises(QueryError, match="no words"):
        fts_query("?! -- **")


def test_the_package_exports_only_build_server() -> None:
    assert servers.knowledge_base.__all__ == ["build_server"]


def test_build_server_ignores_its_data_dir(tmp_path: Path) -> None:
    build_server(ServerConfig(data_dir=tmp_path / "never-created"))

    assert not (tmp_path / "never-created").exists()
