"""The catalog MCP server: products, stock and prices fed by sources that sync on their own schedules.

Sources and what they feed (details in `servers.catalog.data`):

- ``erp-eu``: every ``EU-`` SKU (EUR); last synced 7 minutes before the server started.
- ``erp-us``: every ``US-`` SKU (USD); last synced 1 h 50 min before the server started.
- ``supplier-feed-acme``: every ``ACME-`` SKU, the 28 Acme Outdoor products (all in category
  ``outdoor``, USD). **Stale**: last synced 23 days before the server started, so recency policy
  has something to catch. `servers.catalog.data.products_from` lists a source's products.

Provenance: each result's ``as_of`` is the last sync of the source its data came from, and
``source`` names that source. A search result mixes products from several sources, so it takes the
OLDEST sync among the returned products' sources, and names that source: a result is only as
current as its least current part, and a recency check on any later time would pass a 23-day-old
Acme price as fresh. An empty search took nothing from any one source, but "nothing matches" is a
claim about every source, so it gets the oldest sync of all. The per-product sync times are in
the structured result too.

All tools are read-only, idempotent and closed-world (the catalog is this server's own data).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import version
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import AwareDatetime, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from governance.provenance import Provenance
from servers._config import ServerConfig
from servers.catalog._store import CatalogStore, SearchTextError, StoredProduct
from servers.catalog.data import sync_times

__all__ = ["CatalogSettings", "build_server"]

SERVER_NAME = "catalog"
MAX_LIMIT = 50
_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
_SKU = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9]+(-[A-Za-z0-9]+){1,3}$",
        max_length=32,
        description="A SKU from search_products, e.g. 'US-KIT-011' or 'ACME-401-1'.",
    ),
]
Category = Literal["kitchen", "home", "office", "audio", "fitness", "outdoor"]


class CatalogSettings(BaseSettings):
    """Settings of the catalog server (environment: ``MCPGOV_CATALOG_<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix="MCPGOV_CATALOG_", frozen=True)

    default_limit: int = Field(default=10, ge=1, le=MAX_LIMIT, description="Products per search by default.")


class ProductSummary(BaseModel):
    """One product in a search result."""

    sku: str
    name: str
    brand: str
    category: str
    price: Decimal
    currency: str
    in_stock: bool
    stock: int = Field(description="Units on hand, as the source last reported.")
    source: str = Field(description="The system this product's price and stock come from.")
    source_synced_at: AwareDatetime = Field(description="When that source last synced: the data is this old.")


class SourceSync(BaseModel):
    """A source that contributed to a result."""

    name: str
    last_sync: AwareDatetime
    products: int = Field(description="How many products in this result it fed.")


class SearchResults(BaseModel):
    """Matching products, best first."""

    products: list[ProductSummary]
    total_matches: int = Field(description="Matches in all; more than returned when the limit cut them off.")
    sources: list[SourceSync]
    data_as_of: AwareDatetime = Field(description="The oldest sync among the sources of these products.")


class ProductDetail(BaseModel):
    """A product in full."""

    sku: str
    name: str
    brand: str
    category: str
    description: str
    price: Decimal
    currency: str
    in_stock: bool
    stock: int
    warehouse: str
    source: str
    source_synced_at: AwareDatetime


class PriceQuote(BaseModel):
    """A product's price and where it comes from."""

    sku: str
    name: str
    price: Decimal
    currency: str
    source: str = Field(description="The system the price comes from.")
    source_synced_at: AwareDatetime = Field(description="When that source last synced.")


def build_server(
    config: ServerConfig,
    settings: CatalogSettings | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> MCPServer:
    """Build the catalog server; each source's last sync is set back from ``clock()`` now.

    Args:
        config: The suite's common settings; the catalog lives in memory, so it is unused.
        settings: Server settings; read from the environment when omitted.
        clock: The server's start time (aware); tests pass a fixed one.

    Returns:
        An MCPServer named ``catalog`` with the tools ``search_products``, ``get_product`` and
        ``get_price``.
    """
    del config  # The catalog is generated in memory at start: see _store.py for why.
    settings = settings or CatalogSettings()
    started_at = clock()
    if started_at.tzinfo is None:
        raise ValueError("the catalog's clock must return an aware datetime")
    store = CatalogStore.build(sync_times(started_at))
    server = MCPServer(
        name=SERVER_NAME,
        version=version("mcpgov"),
        instructions=(
            "The store's product catalog: search_products to find products, get_product for details "
            "and stock, get_price for a price with its currency and source. Prices and stock come from "
            "separate systems that sync on their own schedules; each result says how old its data is."
        ),
    )

    def result(model: BaseModel, source: str, as_of: datetime) -> CallToolResult:
        return CallToolResult(
            content=[TextContent(type="text", text=model.model_dump_json(indent=2))],
            structured_content=model.model_dump(mode="json"),
            _meta=Provenance(source=source, as_of=as_of).as_meta(),
        )

    def product_or_error(sku: str) -> StoredProduct:
        product = store.get(sku)
        if product is None:
            raise ToolError(f"No product has SKU {sku!r}; use search_products to find SKUs.")
        return product

    @server.tool(annotations=_READ_ONLY)
    def search_products(
        text: Annotated[
            str | None,
            Field(max_length=200, description="Words to look for, e.g. 'water bottle'; omit to browse."),
        ] = None,
        category: Annotated[Category | None, Field(description="Only products in this category.")] = None,
        in_stock: Annotated[bool, Field(description="Only products with units on hand.")] = False,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Most products to return.")] = (
            settings.default_limit
        ),
    ) -> Annotated[CallToolResult, SearchResults]:
        """Find products by words in their name, brand, category or description, best match first."""
        try:
            page = store.search(text, category=category, in_stock=in_stock, limit=limit)
        except SearchTextError as error:
            raise ToolError(str(error)) from None
        fed: dict[str, int] = {}
        for product in page.products:
            fed[product.source] = fed.get(product.source, 0) + 1
        # The oldest contributing sync bounds the whole result; with nothing returned, every
        # source stood behind the answer "no match".
        considered = fed or dict.fromkeys(store.last_sync, 0)
        oldest = min(considered, key=lambda name: (store.last_sync[name], name))
        results = SearchResults(
            products=[_summary(product) for product in page.products],
            total_matches=page.total,
            sources=[
                SourceSync(name=name, last_sync=store.last_sync[name], products=count)
                for name, count in sorted(considered.items())
            ],
            data_as_of=store.last_sync[oldest],
        )
        return result(results, oldest, store.last_sync[oldest])

    @server.tool(annotations=_READ_ONLY)
    def get_product(sku: _SKU) -> Annotated[CallToolResult, ProductDetail]:
        """Everything about one product: description, price, stock, warehouse and its data source."""
        product = product_or_error(sku)
        detail = ProductDetail(
            sku=product.sku,
            name=product.name,
            brand=product.brand,
            category=product.category,
            description=product.description,
            price=product.price,
            currency=product.currency,
            in_stock=product.stock > 0,
            stock=product.stock,
            warehouse=product.warehouse,
            source=product.source,
            source_synced_at=product.synced_at,
        )
        return result(detail, product.source, product.synced_at)

    @server.tool(annotations=_READ_ONLY)
    def get_price(sku: _SKU) -> Annotated[CallToolResult, PriceQuote]:
        """A product's current price with its currency, and which system it comes from and how fresh."""
        product = product_or_error(sku)
        quote = PriceQuote(
            sku=product.sku,
            name=product.name,
            price=product.price,
            currency=product.currency,
            source=product.source,
            source_synced_at=product.synced_at,
        )
        return result(quote, product.source, product.synced_at)

    return server


def _summary(product: StoredProduct) -> ProductSummary:
    return ProductSummary(
        sku=product.sku,
        name=product.name,
        brand=product.brand,
        category=product.category,
        price=product.price,
        currency=product.currency,
        in_stock=product.stock > 0,
        stock=product.stock,
        source=product.source,
        source_synced_at=product.synced_at,
    )
