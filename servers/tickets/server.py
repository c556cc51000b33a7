"""The tickets MCP server: the issue tracker an agent reads and files follow-ups in.

Provenance: every result says ``source: "tickets"`` and ``as_of`` = the moment the store was read
or written. The store is the live source of truth, so what a read returns is true at the time of
the read, however long ago the ticket last changed. Using the ticket's ``updated_at`` instead would
make every quiet ticket look stale to the recency guard, which asks "how old is this copy of the
data?", not "how long since anyone touched it?" (that is ``updated_at``, in the result). A replayed
idempotent write is the original result, so its ``as_of`` is when the original write ran.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from importlib.metadata import version
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, StringConstraints

from governance.provenance import Provenance
from servers._config import ServerConfig
from servers.tickets._idempotency import Written
from servers.tickets._models import (
    AssignmentChanged,
    CommentAdded,
    StatusChanged,
    TicketCreated,
    TicketDetail,
    TicketList,
)
from servers.tickets._settings import TicketsSettings
from servers.tickets._store import UNASSIGNED, NewTicket, TicketStore
from servers.tickets._workflow import Category, Priority, Status, TicketRuleError

__all__ = ["SERVER_NAME", "build_server"]

SERVER_NAME = "tickets"
MAX_LIMIT = 50

_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# A second identical call files a second ticket or comment (unless it carries an idempotency_key).
_APPEND = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
# Repeating a status change or an assignment changes nothing more (the repeat is refused or a no-op).
_SET = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

TicketId = Annotated[int, Field(ge=1, description="A ticket id from search_tickets.")]
IdempotencyKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:\-]+$",
        description="Optional. Retrying with the same key and arguments returns the first call's result "
        "without writing again; the same key with other arguments is refused. Use a new key per request.",
    ),
]
Handle = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9._\-]+$")]
_Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def build_server(config: ServerConfig, settings: TicketsSettings | None = None) -> MCPServer:
    """Build the tickets server over its store, seeding the demo queue into an empty database.

    Args:
        config: ``db_url`` when set (any SQLAlchemy URL), else SQLite at ``data_dir/tickets.db``.
        settings: Server settings; read from ``MCPGOV_TICKETS_*`` when omitted.

    Returns:
        An MCPServer named ``tickets`` with the tools ``search_tickets``, ``get_ticket``,
        ``create_ticket``, ``add_comment``, ``update_status`` and ``assign_ticket``.

    Raises:
        StoreConfigurationError: ``db_url`` is an in-memory SQLite database.
    """
    settings = settings or TicketsSettings()
    url = config.db_url or f"sqlite:///{config.data_dir / 'tickets.db'}"
    store = TicketStore.open(url, seed=settings.seed_demo_data)
    author = settings.comment_author

    @asynccontextmanager
    async def release_connections(_: MCPServer[None]) -> AsyncIterator[None]:
        # When the server stops serving (stdio closed, HTTP app shut down, in-process client gone),
        # close the pooled database connections; the engine reopens them if it serves again.
        try:
            yield None
        finally:
            store.close()

    server = MCPServer(
        name=SERVER_NAME,
        lifespan=release_connections,
        version=version("mcpgov"),
        instructions=(
            "Harbor's support ticket queue. search_tickets and get_ticket to read; create_ticket to file "
            "a follow-up; add_comment, update_status (open -> in_progress / waiting_on_customer -> "
            "resolved -> closed; resolved can be reopened, closed is final) and assign_ticket to work a "
            "ticket. Pass an idempotency_key to writes you may retry."
        ),
    )

    @server.tool(annotations=_READ)
    def search_tickets(
        text: Annotated[
            str | None,
            Field(
                max_length=200,
                description="Words that must all appear in the subject, description or customer "
                "(name, company, e-mail), e.g. 'refund invoice'. Case-insensitive; the first 10 words count.",
            ),
        ] = None,
        status: Status | None = None,
        assignee: Annotated[
            str | None, Field(max_length=64, description=f"A team member's handle, or '{UNASSIGNED}'.")
        ] = None,
        priority: Priority | None = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Most tickets to return.")] = 20,
    ) -> Annotated[CallToolResult, TicketList]:
        """Find tickets by words, status, assignee and priority, most recently updated first."""
        with _rules():
            found, as_of = store.search(text=text, status=status, assignee=assignee, priority=priority, limit=limit)
        return _result(found, as_of)

    @server.tool(annotations=_READ)
    def get_ticket(ticket_id: TicketId) -> Annotated[CallToolResult, TicketDetail]:
        """Read one ticket in full: description, customer, status, the statuses it can move to, and every comment."""
        with _rules():
            detail, as_of = store.get(ticket_id)
        return _result(detail, as_of)

    @server.tool(annotations=_APPEND)
    def create_ticket(
        subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)],
        description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)],
        category: Category,
        priority: Priority = "normal",
        customer_name: _Line | None = None,
        customer_email: Annotated[str | None, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] = None,
        customer_company: _Line | None = None,
        assignee: Annotated[
            Handle | None, Field(description="A team member's handle; omit to leave it in the queue.")
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Annotated[CallToolResult, TicketCreated]:
        """File a new ticket (status open), e.g. a follow-up to a closed one. Returns the whole ticket."""
        new = NewTicket(
            subject=subject,
            description=description,
            category=category,
            priority=priority,
            customer_name=customer_name,
            customer_email=customer_email,
            customer_company=customer_company,
            assignee=assignee,
        )
        with _rules():
            written = store.create(new, idempotency_key=idempotency_key)
        return _written(written)

    @server.tool(annotations=_APPEND)
    def add_comment(
        ticket_id: TicketId,
        body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)],
        internal: Annotated[bool, Field(description="True for a note only the support team sees.")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> Annotated[CallToolResult, CommentAdded]:
        """Add a reply or an internal note to a ticket that is not closed."""
        with _rules():
            written = store.add_comment(
                ticket_id, body, author=author, internal=internal, idempotency_key=idempotency_key
            )
        return _written(written)

    @server.tool(annotations=_SET)
    def update_status(
        ticket_id: TicketId,
        status: Annotated[Status, Field(description="The new status; get_ticket lists the allowed ones.")],
        note: Annotated[
            str | None,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000),
            Field(description="Optional note recorded with the change, e.g. the resolution."),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Annotated[CallToolResult, StatusChanged]:
        """Move a ticket through the workflow: open -> in_progress / waiting_on_customer -> resolved -> closed.

        A resolved ticket can be reopened (status open); a closed ticket is final. Moving a ticket to
        the status it already has is refused, so a ticket is never closed twice.
        """
        with _rules():
            written = store.update_status(ticket_id, status, author=author, note=note, idempotency_key=idempotency_key)
        return _written(written)

    @server.tool(annotations=_SET)
    def assign_ticket(
        ticket_id: TicketId,
        assignee: Annotated[
            Handle | None, Field(description="A team member's handle; null returns the ticket to the queue.")
        ],
        idempotency_key: IdempotencyKey = None,
    ) -> Annotated[CallToolResult, AssignmentChanged]:
        """Give a ticket to a member of the support team, or back to the queue. Closed tickets cannot be reassigned."""
        with _rules():
            written = store.assign(ticket_id, assignee, idempotency_key=idempotency_key)
        return _written(written)

    return server


@contextmanager
def _rules() -> Iterator[None]:
    """Turn the store's refusals into tool errors the model can read and act on."""
    try:
        yield
    except TicketRuleError as error:
        raise ToolError(str(error)) from error


def _written(written: Written[Any]) -> CallToolResult:
    return _result(written.result, written.as_of)


def _result(model: BaseModel, as_of: datetime) -> CallToolResult:
    # The text block mirrors the structured content for clients that ignore structured content.
    return CallToolResult(
        content=[TextContent(type="text", text=model.model_dump_json(indent=2))],
        structured_content=model.model_dump(mode="json"),
        _meta=Provenance(source=SERVER_NAME, as_of=as_of).as_meta(),
    )
