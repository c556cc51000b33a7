"""The benchmark's own tool set: a price lookup that does almost no work.

With a tool this cheap, what the benchmark measures is the SDK and governance,
not the tool: the strictest setting for "governance is nearly free". The result
has the shape our servers' results have (structured content, an output schema,
provenance in ``_meta``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from governance.provenance import Provenance

SERVER_NAME = "fixture"
_AS_OF = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
_PRICES = {f"ABC-{n:04d}": 100 + n for n in range(100)}
_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


class Price(BaseModel):
    """A price quote."""

    sku: str
    quantity: int
    unit_cents: int
    total_cents: int


class SkuList(BaseModel):
    """Every known SKU."""

    skus: list[str]


def build_server() -> MCPServer:
    """The fixture server (ungoverned): tools ``lookup_price`` and ``list_skus``."""
    server = MCPServer(name=SERVER_NAME, version="1.0.0")
    meta = Provenance(source="price-list", as_of=_AS_OF).as_meta()

    @server.tool(annotations=_READ_ONLY)
    def lookup_price(
        sku: Annotated[str, Field(min_length=1, max_length=16, description="A SKU such as ABC-0001.")],
        quantity: Annotated[int, Field(ge=1, le=1000)] = 1,
    ) -> Annotated[CallToolResult, Price]:
        """The price of ``quantity`` units of ``sku``."""
        unit = _PRICES.get(sku, 0)
        price = Price(sku=sku, quantity=quantity, unit_cents=unit, total_cents=unit * quantity)
        return CallToolResult(
            content=[TextContent(type="text", text=price.model_dump_json())],
            structured_content=price.model_dump(),
            _meta=meta,
        )

    @server.tool(annotations=_READ_ONLY)
    def list_skus() -> SkuList:
        """Every SKU in the price list."""
        return SkuList(skus=sorted(_PRICES))

    return server
