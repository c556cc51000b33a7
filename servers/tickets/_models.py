"""What the tickets tools return: pydantic models, published as each tool's output schema."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from servers.tickets._workflow import Category, Priority, Status

__all__ = [
    "AssignmentChanged",
    "Comment",
    "CommentAdded",
    "StatusChanged",
    "TicketCreated",
    "TicketDetail",
    "TicketList",
    "TicketSummary",
]


class TicketSummary(BaseModel):
    """A ticket as a search lists it."""

    id: int
    subject: str
    status: Status
    priority: Priority
    category: Category
    customer_name: str | None
    customer_company: str | None
    assignee: str | None = Field(description="The assignee's handle; null when nobody has it.")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class TicketList(BaseModel):
    """Search results, most recently updated first."""

    tickets: list[TicketSummary]
    total_matching: int = Field(description="How many tickets match; more than listed when over the limit.")


class Comment(BaseModel):
    """A reply to the customer or an internal note."""

    id: int
    author: str
    body: str
    internal: bool = Field(description="True for a note only the support team sees.")
    created_at: AwareDatetime


class TicketDetail(TicketSummary):
    """A whole ticket with its conversation."""

    description: str
    customer_email: str | None
    resolved_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    allowed_next_statuses: list[Status] = Field(description="The statuses update_status accepts next.")
    comments: list[Comment] = Field(description="Oldest first.")


class TicketCreated(BaseModel):
    """The ticket create_ticket filed."""

    ticket: TicketDetail
    replayed: bool = Field(
        default=False, description="True when this repeats the result of an earlier call with the same key."
    )


class CommentAdded(BaseModel):
    """The comment add_comment wrote."""

    ticket_id: int
    comment: Comment
    replayed: bool = False


class StatusChanged(BaseModel):
    """A status change and the note recorded with it."""

    ticket_id: int
    previous_status: Status
    status: Status
    allowed_next_statuses: list[Status]
    note: Comment | None = Field(description="The note written with the change, if one was given.")
    updated_at: AwareDatetime
    replayed: bool = False


class AssignmentChanged(BaseModel):
    """A change of assignee."""

    ticket_id: int
    previous_assignee: str | None
    assignee: str | None
    changed: bool = Field(description="False when the ticket already had this assignee.")
    updated_at: AwareDatetime
    replayed: bool = False
