"""The knowledge-base MCP server: search and read Harbor's help-centre articles.

Every tool is read-only and returns a pydantic model as structured content. Each successful
result also carries the index's provenance in ``_meta``; to send ``_meta`` and still publish an
output schema, a tool returns ``Annotated[CallToolResult, Model]``: the SDK derives the schema from
``Model`` and validates ``structured_content`` against it, but passes the result through as built.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import AwareDatetime, BaseModel, Field

from governance.provenance import Provenance
from servers._config import ServerConfig
from servers.knowledge_base._articles import Article
from servers.knowledge_base._store import MAX_LIMIT, KnowledgeBaseStore, QueryError

__all__ = ["build_server"]

SERVER_NAME = "knowledge_base"
ARTICLE_URI = "kb://articles/{article_id}"

_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


class ArticleHit(BaseModel):
    """One search result."""

    id: int = Field(description="Article id, for get_article or kb://articles/{id}.")
    title: str
    collection: str
    tags: list[str]
    snippet: str = Field(description="An excerpt of the body with the matching words in **bold**.")
    score: float = Field(description="bm25 relevance: higher is more relevant.")
    updated_at: AwareDatetime


class SearchResults(BaseModel):
    """Ranked search results."""

    query: str
    matched: Literal["all_words", "any_word"] = Field(
        description="all_words: every hit holds every word of the query; any_word: no article held "
        "them all, so these hold some of them."
    )
    hits: list[ArticleHit]


class ArticleDetail(BaseModel):
    """A whole help-centre article."""

    id: int
    slug: str
    uri: str = Field(description="The article as a markdown resource.")
    collection: str
    title: str
    body: str
    tags: list[str]
    updated_at: AwareDatetime


class CollectionSummary(BaseModel):
    """A help-centre collection."""

    name: str = Field(description="The value search_articles takes as collection.")
    article_count: int


class CollectionList(BaseModel):
    """Every collection with its article count."""

    collections: list[CollectionSummary]
    total_articles: int


def build_server(config: ServerConfig) -> MCPServer:
    """Build the knowledge-base server over a freshly indexed help-centre corpus.

    Args:
        config: The suite's common settings; the knowledge base keeps no files, so it is unused.

    Returns:
        An MCPServer named ``knowledge_base`` with the tools ``search_articles``, ``get_article``
        and ``list_collections`` and the resource template ``kb://articles/{article_id}``.
    """
    del config  # The corpus is generated in memory; nothing lives in data_dir.
    store = KnowledgeBaseStore.build()
    provenance = Provenance(source=SERVER_NAME, as_of=store.built_at)
    server = MCPServer(
        name=SERVER_NAME,
        version=version("mcpgov"),
        instructions=(
            "Harbor's help centre: search_articles to find articles on billing, accounts, orders, "
            "shipping, returns, the API, security and troubleshooting; get_article to read one."
        ),
    )

    def result(model: BaseModel) -> CallToolResult:
        # The text block mirrors what the SDK would send for a plain model, for clients that
        # ignore structured content. A fresh _meta per result: later layers may add to it.
        return CallToolResult(
            content=[TextContent(type="text", text=model.model_dump_json(indent=2))],
            structured_content=model.model_dump(mode="json"),
            _meta=provenance.as_meta(),
        )

    @server.tool(annotations=_READ_ONLY)
    def search_articles(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="Words to look for, e.g. 'reset password android'. Plain text: OR, AND, "
                "NOT and NEAR are searched for as words; quotes, * and other punctuation are ignored.",
            ),
        ],
        collection: Annotated[str | None, Field(description="Only this collection (see list_collections).")] = None,
        tag: Annotated[str | None, Field(description="Only articles with this tag, e.g. 'webhooks'.")] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Most hits to return.")] = 10,
    ) -> Annotated[CallToolResult, SearchResults]:
        """Full-text search over the help centre, best match first.

        Returns the articles that contain every word of the query; when no article does, those
        that contain any of them (the result's `matched` says which).
        """
        try:
            found = store.search(query, collection=collection, tag=tag, limit=limit)
        except QueryError as error:
            raise ToolError(str(error)) from error
        hits = [
            ArticleHit(
                id=hit.article_id,
                title=hit.title,
                collection=hit.collection,
                tags=list(hit.tags),
                snippet=hit.snippet,
                score=hit.score,
                updated_at=hit.updated_at,
            )
            for hit in found.hits
        ]
        return result(SearchResults(query=query, matched=found.matched, hits=hits))

    @server.tool(annotations=_READ_ONLY)
    def get_article(
        article_id: Annotated[int, Field(ge=1, description="An id from search_articles.")],
    ) -> Annotated[CallToolResult, ArticleDetail]:
        """Read one help-centre article in full: title, body, collection, tags and last update."""
        article = store.get(article_id)
        if article is None:
            raise ToolError(f"No article has id {article_id}; use search_articles to find article ids.")
        return result(_detail(article))

    @server.tool(annotations=_READ_ONLY)
    def list_collections() -> Annotated[CallToolResult, CollectionList]:
        """List the help centre's collections (sections) and how many articles each holds."""
        collections = [CollectionSummary(name=c.name, article_count=c.article_count) for c in store.collections()]
        return result(CollectionList(collections=collections, total_articles=store.article_count))

    @server.resource(
        ARTICLE_URI,
        name="article",
        title="Help-centre article",
        description="A help-centre article as markdown.",
        mime_type="text/markdown",
    )
    def read_article(article_id: str) -> str:
        # Taken as text and parsed here: a non-numeric id is the caller's mistake, which the SDK
        # would otherwise report as a server crash from argument validation.
        article = store.get(int(article_id)) if article_id.isdecimal() else None
        if article is None:
            raise ResourceNotFoundError(
                f"No article has id {article_id!r}; ids are positive integers from search_articles."
            )
        return _markdown(article)

    return server


def _detail(article: Article) -> ArticleDetail:
    return ArticleDetail(
        id=article.id,
        slug=article.slug,
        uri=ARTICLE_URI.format(article_id=article.id),
        collection=article.collection,
        title=article.title,
        body=article.body,
        tags=list(article.tags),
        updated_at=article.updated_at,
    )


def _markdown(article: Article) -> str:
    footer = (
        f"Collection: {article.collection} · Tags: {', '.join(article.tags)} · "
        f"Updated: {article.updated_at.isoformat()}"
    )
    return f"# {article.title}\n\n{article.body}\n\n---\n{footer}\n"
