"""The ticket workflow: the statuses, priorities and categories, and which status may follow which.

The state machine is an explicit table so the rules can be read in one place and every refusal
can name the moves that are allowed::

    open ─────────▶ in_progress ◀──────▶ waiting_on_customer
     │  ◀──────────── │                        │
     │                ▼                        │
     └────────────▶ resolved ◀─────────────────┘
                     │    │
          (reopen) ◀─┘    ▼
                        closed   (final: a follow-up is a new ticket)

A ticket is closed only from resolved, so it cannot be closed twice or closed unresolved, and a
closed ticket accepts no further change: follow-ups go in a new ticket that mentions it, which is
how support desks keep a closed conversation's history (and its satisfaction rating) intact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

__all__ = [
    "CATEGORIES",
    "PRIORITIES",
    "STATUSES",
    "TRANSITIONS",
    "Category",
    "Priority",
    "Status",
    "TicketRuleError",
    "check_transition",
]

Status = Literal["open", "in_progress", "waiting_on_customer", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
Category = Literal["billing", "account", "orders", "shipping", "returns", "api", "security", "outage"]

STATUSES: tuple[Status, ...] = get_args(Status)
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
CATEGORIES: tuple[Category, ...] = get_args(Category)

TRANSITIONS: Mapping[Status, tuple[Status, ...]] = {
    "open": ("in_progress", "waiting_on_customer", "resolved"),
    # Back to open: the assignee hands the ticket back to the queue.
    "in_progress": ("waiting_on_customer", "resolved", "open"),
    "waiting_on_customer": ("in_progress", "resolved"),
    # Back to open: the customer says the fix did not work (a reopen).
    "resolved": ("closed", "open"),
    "closed": (),
}


class TicketRuleError(ValueError):
    """A request the tracker refuses; the message names the problem and what to do instead."""


def _moves(status: Status) -> str:
    allowed = TRANSITIONS[status]
    return ", ".join(allowed) if allowed else "nothing (closed is final)"


def check_transition(ticket_id: int, current: Status, target: str) -> Status:
    """Check that a ticket may move from ``current`` to ``target``.

    Args:
        ticket_id: The ticket, for the message.
        current: Its status now.
        target: The status asked for (any text: unknown statuses are refused here too).

    Returns:
        ``target`` as a known status.

    Raises:
        TicketRuleError: ``target`` is not a status, is the current status, or may not follow it.
    """
    if target not in STATUSES:
        raise TicketRuleError(
            f"Unknown status {target!r}; the statuses are {', '.join(STATUSES)}. "
            f"Ticket #{ticket_id} is {current} and can move to: {_moves(current)}."
        )
    if current == "closed":
        raise TicketRuleError(
            f"Ticket #{ticket_id} is already closed, and a closed ticket is final. "
            f"File a follow-up with create_ticket and mention #{ticket_id} in it."
        )
    if target == current:
        raise TicketRuleError(
            f"Ticket #{ticket_id} is already {current}; from {current} it can move to: {_moves(current)}."
        )
    if target not in TRANSITIONS[current]:
        raise TicketRuleError(
            f"Ticket #{ticket_id} cannot go from {current} to {target}; "
            f"from {current} it can move to: {_moves(current)}."
        )
    return target
