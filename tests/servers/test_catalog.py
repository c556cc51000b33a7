"""The catalog server: prices and stock with per-source provenance, governed, in both protocol eras."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent

from governance.audit import AuditStore
from governance.provenance import Provenance, read_provenance
from governance.testing import audit_records, governed_server, open_audit
from servers._config import ServerConfig
from servers.catalog import build_server
from servers.catalog.data import (
    CATEGORIES,
    SOURCES,
    STALE_SOURCE,
    Product,
    catalog_products,
    products_from,
    source_named,
)
from servers.catalog.server import Category, PriceQuote, ProductDetail, SearchResults

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]
NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
POLICY = """
principals:
  alice: {roles: [buyer]}
roles:
  buyer:
    allow: ["catalog.*"]
"""


# -- finding test products through the data module (no hard-coded SKUs) ---------------------------


def stale_product() -> Product:
    """A product whose price and stock come from the source that is weeks behind."""
    return products_from(STALE_SOURCE)[0]


def fresh_product(currency: str = "USD") -> Product:
    """A product fed by a source that synced minutes or hours ago."""
    return next(p for p in catalog_products() if p.source != STALE_SOURCE and p.currency == currency)


def shared_word() -> str:
    """A word in the names of products from the stale source and from a fresh one."""

    def words(products: list[Product]) -> set[str]:
        return {word for product in products for word in re.findall(r"[a-z]{4,}", product.name.lower())}

    fresh = [p for p in catalog_products() if p.source != STALE_SOURCE]
    return sorted(words(products_from(STALE_SOURCE)) & words(fresh))[0]


def fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def last_sync(source: str) -> datetime:
    return NOW - source_named(source).sync_lag


# -- plumbing --------------------------------------------------------------------------------------


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditStore]:
    store = open_audit(tmp_path)
    yield store
    store.close()


def governed(audit: AuditStore, tmp_path: Path, now: datetime = NOW) -> MCPServer:
    server = build_server(ServerConfig(data_dir=tmp_path), clock=lambda: now)
    return governed_server(server, POLICY, audit, principal="alice")


async def call(server: MCPServer, mode: str, tool: str, **arguments: Any) -> CallToolResult:
    async with Client(server, mode=mode) as client:
        with anyio.fail_after(5):
            return await client.call_tool(tool, arguments)


def provenance(result: CallToolResult) -> Provenance:
    assert not result.is_error, result.content
    found = read_provenance(result.model_dump(mode="json", by_alias=True))
    assert found is not None
    return found


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


# -- provenance ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ERAS)
async def test_a_product_on_the_stale_source_carries_that_sources_weeks_old_sync(
    mode: str, audit: AuditStore, tmp_path: Path
) -> None:
    product = stale_product()

    result = await call(governed(audit, tmp_path), mode, "get_product", sku=product.sku)

    detail = ProductDetail.model_validate(result.structured_content)
    assert (detail.source, detail.price, detail.stock) == (STALE_SOURCE, product.price, product.stock)
    assert provenance(result) == Provenance(source=STALE_SOURCE, as_of=NOW - timedelta(days=23))
    assert detail.source_synced_at == provenance(result).as_of


@pytest.mark.parametrize("mode", ERAS)
async def test_a_price_names_its_currency_and_its_fresh_source(mode: str, audit: AuditStore, tmp_path: Path) -> None:
    product = fresh_product("EUR")

    result = await call(governed(audit, tmp_path), mode, "get_price", sku=product.sku.lower())

    quote = PriceQuote.model_validate(result.structured_content)
    assert (quote.sku, quote.price, quote.currency, quote.source) == (product.sku, product.price, "EUR", "erp-eu")
    assert provenance(result) == Provenance(source="erp-eu", as_of=last_sync("erp-eu"))
    assert NOW - provenance(result).as_of < timedelta(hours=1)


@pytest.mark.parametrize("mode", ERAS)
async def test_a_search_across_sources_is_as_old_as_its_oldest_source(
    mode: str, audit: AuditStore, tmp_path: Path
) -> None:
    result = await call(governed(audit, tmp_path), mode, "search_products", text=shared_word(), limit=50)

    found = SearchResults.model_validate(result.structured_content)
    sources = {product.source for product in found.products}
    assert STALE_SOURCE in sources and len(sources) > 1
    assert provenance(result) == Provenance(source=STALE_SOURCE, as_of=last_sync(STALE_SOURCE))
    assert found.data_as_of == last_sync(STALE_SOURCE)
    assert {s.name: s.products for s in found.sources} == {
        name: sum(p.source == name for p in found.products) for name in sources
    }


async def test_a_search_over_fresh_sources_only_is_as_old_as_the_older_of_them(
    audit: AuditStore, tmp_path: Path
) -> None:
    result = await call(governed(audit, tmp_path), "auto", "search_products", category="kitchen", limit=50)

    found = SearchResults.model_validate(result.structured_content)
    assert {p.source for p in found.products} == {"erp-eu", "erp-us"}
    older = min(("erp-eu", "erp-us"), key=last_sync)
    assert provenance(result) == Provenance(source=older, as_of=last_sync(older))


async def test_a_search_that_finds_nothing_is_as_old_as_the_oldest_source(audit: AuditStore, tmp_path: Path) -> None:
    result = await call(governed(audit, tmp_path), "auto", "search_products", text="submarine")

    found = SearchResults.model_validate(result.structured_content)
    assert (found.products, found.total_matches) == ([], 0)
    assert provenance(result).as_of == min(last_sync(source.name) for source in SOURCES)


async def test_sync_times_follow_the_clock_so_the_stale_source_stays_stale(tmp_path: Path) -> None:
    sku = stale_product().sku
    for now in (NOW, NOW + timedelta(days=400)):
        async with Client(build_server(ServerConfig(data_dir=tmp_path), clock=fixed(now))) as client:
            result = await client.call_tool("get_price", {"sku": sku})
        assert now - provenance(result).as_of == timedelta(days=23)

    before = datetime.now(UTC)
    server = build_server(ServerConfig(data_dir=tmp_path))  # the real clock
    after = datetime.now(UTC)
    async with Client(server) as client:
        fresh = await client.call_tool("get_price", {"sku": fresh_product().sku})
    assert before - timedelta(hours=2) <= provenance(fresh).as_of <= after


# -- search ----------------------------------------------------------------------------------------


async def test_search_puts_the_obvious_match_first(audit: AuditStore, tmp_path: Path) -> None:
    result = await call(governed(audit, tmp_path), "auto", "search_products", text="backpacking tent")

    found = SearchResults.model_validate(result.structured_content)
    assert found.products and all("Tent" in product.name for product in found.products)
    assert found.total_matches == len(found.products) == 2


async def test_the_in_stock_filter_leaves_out_sold_out_products(audit: AuditStore, tmp_path: Path) -> None:
    sold_out = next(p for p in catalog_products() if p.stock == 0)
    server = governed(audit, tmp_path)

    everything = await call(server, "auto", "search_products", category=sold_out.category, limit=50)
    available = await call(server, "auto", "search_products", category=sold_out.category, in_stock=True, limit=50)

    every_sku = {p.sku for p in SearchResults.model_validate(everything.structured_content).products}
    in_stock = SearchResults.model_validate(available.structured_content).products
    assert sold_out.sku in every_sku
    assert sold_out.sku not in {p.sku for p in in_stock}
    assert all(p.in_stock and p.stock > 0 for p in in_stock)


async def test_the_limit_cuts_results_and_the_total_still_counts_every_match(audit: AuditStore, tmp_path: Path) -> None:
    result = await call(governed(audit, tmp_path), "auto", "search_products", limit=3)

    found = SearchResults.model_validate(result.structured_content)
    assert (len(found.products), found.total_matches) == (3, len(catalog_products()))


@pytest.mark.parametrize("text", ['NEAR("kettle" OR *) name:', "kettle*", '"kettle'])
async def test_search_syntax_in_the_text_is_searched_for_never_run(
    text: str, audit: AuditStore, tmp_path: Path
) -> None:
    result = await call(governed(audit, tmp_path), "auto", "search_products", text=text)

    assert not result.is_error, result.content


# -- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        ("get_product", {"sku": "US-NOPE-1"}, "No product has SKU 'US-NOPE-1'"),
        ("get_price", {"sku": "EU-KIT-999"}, "No product has SKU 'EU-KIT-999'"),
        ("get_price", {"sku": "'; DROP TABLE products; --"}, "sku"),
        ("search_products", {"text": "?!"}, "no letters or digits"),
        ("search_products", {"category": "weapons"}, "category"),
        ("search_products", {"limit": 500}, "limit"),
    ],
)
@pytest.mark.parametrize("mode", ERAS)
async def test_a_bad_request_is_an_error_result_in_the_audit(
    mode: str, tool: str, arguments: dict[str, Any], fragment: str, audit: AuditStore, tmp_path: Path
) -> None:
    result = await call(governed(audit, tmp_path), mode, tool, **arguments)

    assert fragment in error_text(result)
    assert [r.outcome for r in audit_records(audit) if r.tool == tool] == ["tool_error"]


# -- the tool surface ------------------------------------------------------------------------------


async def test_every_tool_is_read_only_idempotent_and_closed_world(audit: AuditStore, tmp_path: Path) -> None:
    async with Client(governed(audit, tmp_path)) as client:
        tools = (await client.list_tools()).tools

    assert {tool.name for tool in tools} == {"search_products", "get_product", "get_price"}
    for tool in tools:
        hints = tool.annotations
        assert hints is not None
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint) == (
            True,
            False,
            True,
            False,
        )


async def test_structured_content_matches_the_text_block(audit: AuditStore, tmp_path: Path) -> None:
    result = await call(governed(audit, tmp_path), "auto", "get_product", sku=fresh_product().sku)

    block = result.content[0]
    assert isinstance(block, TextContent)
    assert json.loads(block.text) == result.structured_content


def test_the_data_module_matches_what_the_server_docstring_promises() -> None:
    stale = products_from(STALE_SOURCE)

    assert 180 <= len(catalog_products()) <= 220
    assert len({p.sku for p in catalog_products()}) == len(catalog_products())
    assert len(stale) == 28
    assert all(p.sku.startswith("ACME-") and p.category == "outdoor" for p in stale)
    assert all(p.sku.startswith("EU-") and p.currency == "EUR" for p in products_from("erp-eu"))
    assert all(p.sku.startswith("US-") and p.currency == "USD" for p in products_from("erp-us"))
    assert source_named(STALE_SOURCE).sync_lag == timedelta(days=23)
    assert all(source.sync_lag < timedelta(hours=3) for source in SOURCES if source.name != STALE_SOURCE)
    assert set(get_args(Category)) == set(CATEGORIES)
