"""The notifications MCP server: compose and send e-mail, and see what was sent.

Every message is checked before anything is stored or sent (see `_addresses` and `_compose`),
recorded in the outbox ledger before delivery and settled after it (see `_ledger`), and delivered
to the on-disk outbox by default or to an SMTP server (see `_delivery`).

Provenance: ``source: "notifications"``. The ledger is the live record of what was sent, so
list_outbox's ``as_of`` is the time of the read; a send's is when its outcome was recorded (for a
replay, when the ledger was read); a draft's is when it was rendered.
"""

# No `from __future__ import annotations`: the tools' annotations use `settings.max_recipients`, a
# local of build_server, and the SDK evaluates annotations against module globals only.

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from governance.provenance import Provenance
from servers._config import ServerConfig
from servers.notifications._addresses import MessageRuleError
from servers.notifications._compose import Draft, compose
from servers.notifications._delivery import Delivery, OutboxDelivery, SmtpDelivery
from servers.notifications._ledger import Ledger
from servers.notifications._models import DeliveryStatus, DraftPreview, OutboxEntry, OutboxList, SendResult
from servers.notifications._settings import NotificationsSettings

__all__ = ["SERVER_NAME", "build_server"]

SERVER_NAME = "notifications"
MAX_LIST = 100

# Stores nothing and contacts nobody: the draft id is a digest of the content, not a stored draft.
_PREVIEW = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Sending adds a message to the world; a second call sends a second message unless it reuses the key.
_SEND = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

Subject = Annotated[str, Field(min_length=1, max_length=200, description="One line.")]
Body = Annotated[str, Field(min_length=1, max_length=50_000, description="Plain text.")]
Address = Annotated[str, Field(min_length=3, max_length=254)]
ReplyTo = Annotated[Address | None, Field(description="A bare address replies should go to.")]
FromName = Annotated[
    str | None,
    Field(min_length=1, max_length=100, description="The sender's display name; the address is fixed."),
]


def build_server(config: ServerConfig, settings: NotificationsSettings | None = None) -> MCPServer:
    """Build the notifications server and settle sends a stopped process left unfinished.

    Args:
        config: ``db_url`` for the ledger when set (any SQLAlchemy URL), else SQLite at
            ``data_dir/notifications.db``; the outbox directory is ``data_dir/outbox``.
        settings: Delivery settings; read from ``MCPGOV_NOTIFICATIONS_*`` when omitted.

    Returns:
        An MCPServer named ``notifications`` with the tools ``draft_email``, ``send_email`` and
        ``list_outbox``.
    """
    settings = settings or NotificationsSettings()
    ledger = Ledger.open(config.db_url or f"sqlite:///{config.data_dir / 'notifications.db'}")
    outbox = OutboxDelivery(config.data_dir / "outbox")
    delivery: Delivery = SmtpDelivery(settings) if settings.transport == "smtp" else outbox
    lease = timedelta(seconds=settings.delivery_lease_seconds)
    ledger.settle_interrupted(datetime.now(UTC), outbox.holds)
    recipients_field = Field(min_length=1, max_length=settings.max_recipients)

    @asynccontextmanager
    async def release_connections(_: MCPServer[None]) -> AsyncIterator[None]:
        # When the server stops serving, close the ledger's pooled connections (reopened on demand).
        try:
            yield None
        finally:
            ledger.close()

    server = MCPServer(
        name=SERVER_NAME,
        lifespan=release_connections,
        version=version("mcpgov"),
        instructions=(
            "E-mail from Harbor Support. draft_email previews a message (nothing is sent); send_email sends "
            "it once (pass an idempotency_key so a retry never sends twice); list_outbox shows what was "
            "sent, and messages whose delivery is unknown and need a person to check."
        ),
    )

    def draft_of(
        to: list[str], cc: tuple[str, ...], subject: str, body: str, reply_to: str | None, from_name: str | None
    ) -> Draft:
        with _rules():
            return compose(
                from_address=settings.from_address,
                from_name=settings.from_name if from_name is None else from_name,
                to=to,
                cc=cc,
                reply_to=reply_to,
                subject=subject,
                body=body,
                max_recipients=settings.max_recipients,
                allowed_domains=settings.allowed_domains,
            )

    @server.tool(annotations=_PREVIEW)
    def draft_email(
        to: Annotated[list[Address], recipients_field],
        subject: Subject,
        body: Body,
        cc: Annotated[tuple[Address, ...], Field(max_length=settings.max_recipients)] = (),
        reply_to: ReplyTo = None,
        from_name: FromName = None,
    ) -> Annotated[CallToolResult, DraftPreview]:
        """Check and render an e-mail without sending or storing it.

        Returns the headers and body as they will be sent, and a draft_id to pass to send_email.
        """
        draft = draft_of(to, cc, subject, body, reply_to, from_name)
        preview = DraftPreview(
            draft_id=draft.draft_id,
            headers=draft.headers(),
            body=draft.body,
            recipients=list(draft.recipients),
            transport=delivery.name,
        )
        return _result(preview, text=preview.model_dump_json(indent=2), as_of=datetime.now(UTC))

    @server.tool(annotations=_SEND)
    def send_email(
        to: Annotated[list[Address], recipients_field],
        subject: Subject,
        body: Body,
        cc: Annotated[tuple[Address, ...], Field(max_length=settings.max_recipients)] = (),
        reply_to: ReplyTo = None,
        from_name: FromName = None,
        draft_id: Annotated[
            str | None, Field(max_length=64, description="From draft_email: refuse to send if the message differs.")
        ] = None,
        idempotency_key: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=128,
                pattern=r"^[A-Za-z0-9._:\-]+$",
                description="Retrying with the same key returns the first call's outcome and never sends the "
                "message twice; the same key with a different message is refused.",
            ),
        ] = None,
    ) -> Annotated[CallToolResult, SendResult]:
        """Send an e-mail once, to the recipients in to and cc (bare addresses such as name@example.com)."""
        draft = draft_of(to, cc, subject, body, reply_to, from_name)
        if draft_id is not None and draft_id != draft.draft_id:
            raise ToolError(
                f"draft_id {draft_id!r} does not match this message (its draft_id is {draft.draft_id}): the "
                "content differs from the draft that was previewed. Preview it again with draft_email, or "
                "omit draft_id."
            )
        now, message_id = datetime.now(UTC), uuid.uuid4().hex
        # Rendered before it is recorded: a message the mailer cannot render never becomes a ledger row.
        message = draft.render(message_id=message_id, date=now)
        ledger.settle_interrupted(now, outbox.holds)
        with _rules():
            entry, reserved = ledger.reserve(
                draft, message_id=message_id, key=idempotency_key, transport=delivery.name, now=now, lease=lease
            )
        if not reserved:
            return _sent(entry, replayed=True, as_of=now)
        outcome = delivery.deliver(
            message, message_id=entry.message_id, sender=draft.from_address, recipients=draft.recipients
        )
        settled_at = datetime.now(UTC)
        entry = ledger.finish(entry.message_id, outcome.status, outcome.error, settled_at)
        return _sent(entry, replayed=False, as_of=settled_at)

    @server.tool(annotations=_READ)
    def list_outbox(
        status: DeliveryStatus | None = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIST, description="Most messages to return.")] = 20,
    ) -> Annotated[CallToolResult, OutboxList]:
        """List sent and attempted e-mails, newest first; status 'unknown' lists those a person must check."""
        now = datetime.now(UTC)
        entries, counts = ledger.list(status=status, limit=limit, now=now)
        listing = OutboxList(messages=entries, counts=dict(counts), needs_attention=counts["unknown"])
        return _result(listing, text=listing.model_dump_json(indent=2), as_of=now)

    return server


@contextmanager
def _rules() -> Iterator[None]:
    """Turn refusals of a message into tool errors the model can read and act on."""
    try:
        yield
    except MessageRuleError as error:
        raise ToolError(str(error)) from error


def _sent(entry: OutboxEntry, *, replayed: bool, as_of: datetime) -> CallToolResult:
    result = SendResult(**entry.model_dump(), replayed=replayed)
    detail = result.model_dump_json(indent=2)
    earlier = "An earlier call with this idempotency_key handled this message; nothing was sent now. "
    prefix = earlier if replayed else ""
    if result.status == "delivered":
        return _result(result, text=f"{prefix}Delivered.\n{detail}", as_of=as_of)
    if result.status == "pending":
        return _result(result, text=f"{prefix}It is being delivered right now.\n{detail}", as_of=as_of)
    headline = "Not delivered" if result.status == "failed" else "Delivery unknown"
    return _result(result, text=f"{prefix}{headline}: {result.error}\n{detail}", as_of=as_of, is_error=True)


def _result(model: BaseModel, *, text: str, as_of: datetime, is_error: bool = False) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json"),
        is_error=is_error,
        _meta=Provenance(source=SERVER_NAME, as_of=as_of).as_meta(),
    )
