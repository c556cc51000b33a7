"""What the notifications tools return: pydantic models, published as each tool's output schema."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

__all__ = ["DeliveryStatus", "DraftPreview", "OutboxEntry", "OutboxList", "SendResult"]

DeliveryStatus = Literal["pending", "delivered", "failed", "unknown"]
Transport = Literal["outbox", "smtp"]

_STATUS_HELP = (
    "pending: being delivered now; delivered: accepted by the SMTP server or written to the outbox; "
    "failed: not delivered (see error), nothing was sent; unknown: delivery was interrupted and may or "
    "may not have happened; it is never retried automatically, a person must check."
)


class DraftPreview(BaseModel):
    """A message as send_email would send it. Nothing is stored or sent."""

    draft_id: str = Field(
        description="A digest of the content. Pass it to send_email to be sure the message sent is this one."
    )
    headers: dict[str, str] = Field(description="From, To, Cc, Reply-To and Subject as the message will carry them.")
    body: str
    recipients: list[str] = Field(description="Every address the message goes to (to and cc).")
    transport: Transport = Field(description="Where send_email would deliver it.")


class OutboxEntry(BaseModel):
    """One message in the outbox ledger."""

    message_id: str = Field(description="The ledger id of the message.")
    message_id_header: str = Field(description="The Message-ID header it was sent with, to find it in mail logs.")
    status: DeliveryStatus = Field(description=_STATUS_HELP)
    transport: Transport
    to: list[str]
    cc: list[str]
    subject: str
    draft_id: str
    error: str | None = Field(description="Why delivery failed or is unknown; null otherwise.")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class SendResult(OutboxEntry):
    """The outcome of a send_email call."""

    replayed: bool = Field(
        default=False,
        description="True when an earlier call with the same idempotency_key already handled this message; "
        "nothing was sent by this call.",
    )


class OutboxList(BaseModel):
    """Messages in the ledger, newest first."""

    messages: list[OutboxEntry]
    counts: dict[str, int] = Field(description="How many messages the ledger holds in each status.")
    needs_attention: int = Field(description="Messages whose delivery is unknown: a person should check them.")
