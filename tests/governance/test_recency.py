"""Data recency on the way back: the real catalog under the example policy, and the rules one by one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from governance import Governance, Policy, govern
from governance.audit import AuditStore
from governance.errors import StaleData
from governance.guards.recency import RecencyGuard
from governance.model import Outcome, ToolCall, ToolInfo
from governance.policy import default_policy_path
from governance.provenance import Provenance
from governance.testing import audit_records, governed_server, open_audit
from servers._config import ServerConfig
from servers.catalog import build_server as build_catalog
from servers.catalog.data import STALE_SOURCE, products_from

pytestmark = pytest.mark.anyio
ERAS = ["legacy", "auto"]
EXAMPLE_POLICY = default_policy_path().with_name("example.yaml")
DAY = 86400.0


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditStore]:
    store = open_audit(tmp_path)
    yield store
    store.close()


def catalog_under_example_policy(tmp_path: Path, audit: AuditStore) -> MCPServer:
    governance = Governance(policy=Policy.load(EXAMPLE_POLICY), audit=audit, principal="local", transport="memory")
    return govern(build_catalog(ServerConfig(data_dir=tmp_path)), governance)


STALE_SKU = products_from(STALE_SOURCE)[0].sku  # Acme's feed: 23 days behind
FRESH_SKU = products_from("erp-us")[0].sku  # synced 1 h 50 min before the server started


def text(result: CallToolResult, index: int = 0) -> str:
    block = result.content[index]
    assert isinstance(block, TextContent)
    return block.text


@pytest.mark.requirement("recency.stale-blocks")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_price_from_the_lagging_feed_is_withheld_naming_source_as_of_age_and_limit(
    mode: str, tmp_path: Path, audit: AuditStore
) -> None:
    async with Client(catalog_under_example_policy(tmp_path, audit), mode=mode) as client:
        result = await client.call_tool("get_price", {"sku": STALE_SKU})
    assert result.is_error
    details = result.structured_content
    assert details is not None
    assert details["error"] == "stale_data"
    assert details["source"] == STALE_SOURCE
    assert datetime.fromisoformat(details["as_of"]) < datetime.now(UTC) - timedelta(days=22)
    assert 23 * DAY - 60 < details["age_seconds"] < 23 * DAY + 60
    assert details["max_age_seconds"] == DAY  # catalog.get_price's own rule, which blocks
    message = text(result)
    assert f"source '{STALE_SOURCE}' as of {details['as_of']}" in message
    assert "23 days old" in message and "allows at most 24 h" in message
    assert "328.95" not in message  # the withheld price itself is nowhere in the answer


@pytest.mark.requirement("recency.fresh-passes")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_price_from_a_fresh_source_passes_untouched(mode: str, tmp_path: Path, audit: AuditStore) -> None:
    async with Client(catalog_under_example_policy(tmp_path, audit), mode=mode) as client:
        result = await client.call_tool("get_price", {"sku": FRESH_SKU})
    assert not result.is_error
    assert result.structured_content is not None and result.structured_content["sku"] == FRESH_SKU
    assert len(result.content) == 1
    assert "mcpgov/stale" not in (result.meta or {})


@pytest.mark.requirement("recency.audited")
async def test_the_audit_record_carries_as_of_and_whether_the_data_was_stale(tmp_path: Path, audit: AuditStore) -> None:
    async with Client(catalog_under_example_policy(tmp_path, audit)) as client:
        await client.call_tool("get_price", {"sku": STALE_SKU})
        await client.call_tool("get_price", {"sku": FRESH_SKU})
        await client.call_tool("get_product", {"sku": STALE_SKU})
        await client.call_tool("get_price", {"sku": "NOPE-1"})
    calls = [r for r in audit_records(audit) if r.method == "tools/call"]
    assert [(r.outcome, r.error_code, r.stale) for r in calls] == [
        ("tool_error", "stale_data", True),
        ("ok", None, False),
        ("ok", None, True),  # warned, not withheld
        ("tool_error", None, None),  # the tool's own error: no data to judge
    ]
    stale_as_of, fresh_as_of = (datetime.fromisoformat(str(r.as_of)) for r in calls[:2])
    assert stale_as_of < datetime.now(UTC) - timedelta(days=22) < fresh_as_of


@pytest.mark.requirement("recency.warn-mode")
@pytest.mark.parametrize("mode", ERAS)
async def test_in_warn_mode_stale_data_goes_through_with_a_visible_warning_and_a_flag(
    mode: str, tmp_path: Path, audit: AuditStore
) -> None:
    async with Client(catalog_under_example_policy(tmp_path, audit), mode=mode) as client:
        stale = await client.call_tool("get_product", {"sku": STALE_SKU})
        fresh = await client.call_tool("get_product", {"sku": FRESH_SKU})
    assert not stale.is_error
    assert stale.structured_content is not None and stale.structured_content["sku"] == STALE_SKU
    assert text(stale).startswith("Warning, stale data: catalog.get_product returned data from source")
    assert "23 days old" in text(stale)
    assert STALE_SKU in text(stale, 1)  # the tool's own text follows the warning
    meta = stale.meta or {}
    assert meta["mcpgov/stale"] is True
    assert 23 * DAY - 60 < meta["mcpgov/age_seconds"] < 23 * DAY + 60
    assert meta["mcpgov/max_age_seconds"] == DAY
    assert meta["mcpgov/provenance"]["source"] == STALE_SOURCE
    assert not fresh.is_error and len(fresh.content) == 1 and "mcpgov/stale" not in (fresh.meta or {})


@pytest.mark.requirement("recency.source-rule")
async def test_a_source_rule_applies_to_every_tool_whose_result_names_that_source(
    tmp_path: Path, audit: AuditStore
) -> None:
    async with Client(catalog_under_example_policy(tmp_path, audit)) as client:
        outdoor = await client.call_tool("search_products", {"category": "outdoor", "limit": 50})
        kitchen = await client.call_tool("search_products", {"category": "kitchen"})
    # catalog.search_products has no rule of its own; supplier-feed-acme's (7 days, warn) applies.
    assert (outdoor.meta or {})["mcpgov/stale"] is True
    assert "the rule for 'supplier-feed-acme' allows at most 7 days" in text(outdoor)
    assert "mcpgov/stale" not in (kitchen.meta or {}) and not kitchen.is_error


@pytest.mark.requirement("recency.stricter-rule-holds")
@pytest.mark.parametrize(
    ("tool_rule", "source_rule"),
    [
        ("{max_age: 60d, on_stale: warn}", "{max_age: 1d, on_stale: block}"),
        ("{max_age: 1d, on_stale: block}", "{max_age: 60d, on_stale: warn}"),
    ],
)
async def test_when_a_tool_rule_and_a_source_rule_both_apply_the_stricter_one_holds(
    tool_rule: str, source_rule: str, tmp_path: Path, audit: AuditStore
) -> None:
    policy = f"""
principals:
  alice: {{roles: [buyer]}}
roles:
  buyer: {{allow: ["catalog.*"]}}
tools:
  catalog.get_price:
    recency: {tool_rule}
recency:
  sources:
    {STALE_SOURCE}: {source_rule}
"""
    server = governed_server(build_catalog(ServerConfig(data_dir=tmp_path)), policy, audit, principal="alice")
    async with Client(server) as client:
        stale = await client.call_tool("get_price", {"sku": STALE_SKU})
        fresh = await client.call_tool("get_price", {"sku": FRESH_SKU})
    assert stale.is_error and stale.structured_content is not None
    assert stale.structured_content["max_age_seconds"] == DAY
    assert not fresh.is_error


def bare_server() -> MCPServer:
    """A server whose `lookup` returns no provenance at all."""
    server = MCPServer("shop")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    def lookup(sku: str) -> str:
        """Look something up, saying nothing about where it came from."""
        return f"{sku}: 12.50"

    return server


@pytest.mark.requirement("recency.missing-provenance")
@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{require_provenance: true}", "blocked"),
        ("{require_provenance: true, on_stale: warn}", "warned"),
        ("{max_age: 1h}", "passed"),
    ],
)
async def test_a_result_without_provenance_counts_as_stale_where_the_policy_requires_provenance(
    rule: str, expected: str, audit: AuditStore
) -> None:
    policy = f"""
principals:
  alice: {{roles: [buyer]}}
roles:
  buyer: {{allow: ["shop.*"]}}
tools:
  shop.lookup:
    recency: {rule}
"""
    async with Client(governed_server(bare_server(), policy, audit, principal="alice")) as client:
        result = await client.call_tool("lookup", {"sku": "A-1"})
    outcome = {True: "blocked"}.get(bool(result.is_error)) or ("warned" if len(result.content) == 2 else "passed")
    assert outcome == expected
    record = [r for r in audit_records(audit) if r.method == "tools/call"][-1]
    assert (record.as_of, record.stale) == (None, None if expected == "passed" else True)
    if expected == "blocked":
        assert result.structured_content == {
            "error": "stale_data",
            "source": None,
            "as_of": None,
            "age_seconds": None,
            "max_age_seconds": None,
            "message": text(result),
        }
        assert "shop.lookup returned no provenance" in text(result)
    if expected == "warned":
        assert "no provenance" in text(result) and text(result, 1) == "A-1: 12.50"


@pytest.mark.requirement("recency.stale-blocks")
async def test_an_error_result_from_the_tool_passes_through_untouched(tmp_path: Path, audit: AuditStore) -> None:
    async with Client(catalog_under_example_policy(tmp_path, audit)) as client:
        result = await client.call_tool("get_price", {"sku": "NOPE-1"})
    assert result.is_error
    assert "No product has SKU 'NOPE-1'" in text(result)
    assert result.structured_content is None


# -- the age limit itself, on a fake clock ----------------------------------------------------------

AS_OF = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
INFO = ToolInfo(server="shop", name="price", input_schema={}, read_only=True, open_world=False)


def guard_at(now: datetime, rule: str) -> RecencyGuard:
    policy = Policy.from_text(f"tools:\n  shop.price:\n    recency: {rule}\n")
    return RecencyGuard(policy, clock=lambda: now)


async def answer(call: ToolCall) -> Outcome:
    meta = Provenance(source="price-list", as_of=AS_OF).as_meta()
    return Outcome(call=call, result={"content": [{"type": "text", "text": "12.50"}], "isError": False, "_meta": meta})


CALL = ToolCall(
    method="tools/call", server="shop", principal="p", transport="memory", protocol_version="", tool="price", info=INFO
)


@pytest.mark.requirement("recency.fresh-passes")
@pytest.mark.requirement("recency.stale-blocks")
async def test_data_exactly_at_the_limit_is_fresh_and_a_second_older_is_stale() -> None:
    at_limit = await guard_at(AS_OF + timedelta(hours=24), "{max_age: 24h}")(CALL, answer)
    assert (at_limit.call.stale, at_limit.call.as_of) == (False, AS_OF.isoformat())
    with pytest.raises(StaleData) as raised:
        await guard_at(AS_OF + timedelta(hours=24, seconds=1), "{max_age: 24h}")(CALL, answer)
    assert (raised.value.age_seconds, raised.value.max_age_seconds) == (DAY + 1, DAY)
    assert raised.value.call is not None and raised.value.call.stale is True
    # A source whose clock is ahead of ours is not stale.
    ahead = await guard_at(AS_OF - timedelta(minutes=5), "{max_age: 1m}")(CALL, answer)
    assert ahead.call.stale is False
