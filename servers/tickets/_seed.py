"""A deterministic demo queue: about 150 support tickets with their conversations.

`generate_tickets` is a pure function of its anchor time: the same anchor gives the same tickets
on every machine. The store anchors the queue at the moment it first seeds an empty database, so
a ticket "opened two hours ago" is two hours old when someone looks at it; pass a fixed anchor to
get byte-identical data.

Tickets come out oldest first, so the ids a fresh database assigns rise with the creation time.
The mix looks like a real desk: most old tickets are closed, most new ones open, urgent tickets
are outages and security reports, and every timestamp is before the anchor.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from servers._sql import write_session
from servers.tickets._seed_data import (
    AGENTS,
    CUSTOMERS,
    FOLLOW_UPS,
    INTERNAL_NOTES,
    RESOLUTIONS,
    TEAM_FOR,
    TOPICS,
)
from servers.tickets._tables import AgentRow, CommentRow, SeedRow, TicketRow
from servers.tickets._workflow import CATEGORIES, Category, Priority, Status

__all__ = ["DEFAULT_TICKET_COUNT", "SeedComment", "SeedTicket", "generate_tickets", "load_demo_queue"]

DEFAULT_TICKET_COUNT = 150
_SEED = 20_260_721
_AGENT_NAMES = {handle: name for handle, name, _team in AGENTS}
_CATEGORY_WEIGHTS = (18, 16, 20, 16, 10, 10, 5, 5)  # in CATEGORIES order
_CARRIERS = ("UPS", "FedEx", "DHL Express", "USPS", "Royal Mail", "Canada Post")
# status -> how many days back its tickets were opened (older tickets are mostly done).
_AGE_DAYS: dict[Status, tuple[float, float]] = {
    "open": (0.05, 4),
    "in_progress": (0.5, 9),
    "waiting_on_customer": (1, 14),
    "resolved": (2, 20),
    "closed": (12, 120),
}
_STATUS_WEIGHTS: dict[Status, int] = {
    "open": 20,
    "in_progress": 17,
    "waiting_on_customer": 10,
    "resolved": 23,
    "closed": 30,
}


@dataclass(frozen=True, slots=True)
class SeedComment:
    """One message in a seeded conversation."""

    author: str
    body: str
    internal: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SeedTicket:
    """One seeded ticket and its conversation, oldest message first."""

    subject: str
    description: str
    category: Category
    priority: Priority
    status: Status
    customer_name: str
    customer_email: str
    customer_company: str
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    comments: tuple[SeedComment, ...]


def generate_tickets(anchor: datetime, count: int = DEFAULT_TICKET_COUNT) -> list[SeedTicket]:
    """The demo queue as it stands at ``anchor`` (aware), oldest ticket first.

    Raises:
        ValueError: ``anchor`` is naive.
    """
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware, for example datetime.now(UTC)")
    rng = random.Random(_SEED)  # noqa: S311 - demo data, not security
    tickets = [_ticket(rng, anchor) for _ in range(count)]
    return sorted(tickets, key=lambda ticket: ticket.created_at)


def load_demo_queue(engine: Engine, anchor: datetime, count: int = DEFAULT_TICKET_COUNT) -> int:
    """Load the demo team and queue, unless the database was seeded before or already holds tickets.

    Returns:
        How many tickets were loaded (0 when the database was not empty).
    """
    try:
        with write_session(engine) as session:
            if session.exec(select(SeedRow.id)).first() is not None:
                return 0
            if session.exec(select(TicketRow.id).limit(1)).first() is not None:
                return 0  # someone's real queue: leave it alone
            # The marker goes in first: a second process seeding at the same time collides on its
            # primary key and rolls back, instead of loading a second queue.
            session.add(SeedRow(id=1, seeded_at=anchor, ticket_count=count))
            session.flush()
            session.add_all(AgentRow(handle=handle, name=name, team=team) for handle, name, team in AGENTS)
            for seeded in generate_tickets(anchor, count):
                ticket = TicketRow(**{name: getattr(seeded, name) for name in TicketRow.model_fields if name != "id"})
                session.add(ticket)
                session.flush()  # assigns the id the comments refer to
                assert ticket.id is not None
                session.add_all(
                    CommentRow(
                        ticket_id=ticket.id, author=c.author, body=c.body, internal=c.internal, created_at=c.created_at
                    )
                    for c in seeded.comments
                )
    except IntegrityError:
        return 0  # another process seeded first
    return count


def _ticket(rng: random.Random, anchor: datetime) -> SeedTicket:
    category: Category = rng.choices(CATEGORIES, weights=_CATEGORY_WEIGHTS)[0]
    status: Status = rng.choices(list(_STATUS_WEIGHTS), weights=list(_STATUS_WEIGHTS.values()))[0]
    name, email, company = rng.choice(CUSTOMERS)
    low, high = _AGE_DAYS[status]
    created = _business_hours(anchor - timedelta(days=rng.uniform(low, high)), anchor)
    slots = _slots(rng, created)
    subject, description = rng.choice(TOPICS[category])
    unassigned = status == "open" and rng.random() < 0.6
    assignee = None if unassigned else rng.choice(TEAM_FOR[category])

    clock = _Clock(rng, created, anchor)
    comments: list[SeedComment] = []
    if assignee is not None:
        agent = _AGENT_NAMES[assignee]
        first = name.split()[0]
        comments.append(clock.say(agent, f"Hi {first}, thanks for reaching out. I'm looking into this now."))
        if rng.random() < 0.7:
            comments.append(clock.say(agent, rng.choice(INTERNAL_NOTES[category]), internal=True))
        if status != "in_progress" and rng.random() < 0.4:
            comments.append(clock.say(name, rng.choice(FOLLOW_UPS)))
        if status == "waiting_on_customer":
            comments.append(clock.say(agent, "Could you send the exact time it happened and a screenshot?"))
    resolved_at = closed_at = None
    if status in ("resolved", "closed") and assignee is not None:
        resolution = rng.choice(RESOLUTIONS[category])
        comments.append(clock.say(_AGENT_NAMES[assignee], resolution))
        resolved_at = clock.now
        if status == "closed":
            comments.append(clock.say(name, "Confirmed, all good now. Thank you!"))
            closed_at = clock.later(hours=(48, 96))
    return SeedTicket(
        subject=subject.format(**slots),
        description=description.format(**slots),
        category=category,
        priority=_priority(rng, category),
        status=status,
        customer_name=name,
        customer_email=email,
        customer_company=company,
        assignee=assignee,
        created_at=created,
        updated_at=clock.now,
        resolved_at=resolved_at,
        closed_at=closed_at,
        comments=tuple(SeedComment(c.author, c.body.format(**slots), c.internal, c.created_at) for c in comments),
    )


class _Clock:
    """The time of each step in one ticket's conversation, moving forward and never past the anchor."""

    def __init__(self, rng: random.Random, start: datetime, anchor: datetime) -> None:
        self._rng, self.now, self._anchor = rng, start, anchor

    def later(self, hours: tuple[float, float] = (0.2, 20)) -> datetime:
        step = timedelta(hours=self._rng.uniform(*hours))
        # Squeeze the remaining steps into the time left, so a young ticket's conversation still fits.
        room = self._anchor - self.now
        self.now += min(step, room / 3)
        return self.now

    def say(self, author: str, body: str, *, internal: bool = False) -> SeedComment:
        return SeedComment(author=author, body=body, internal=internal, created_at=self.later())


def _priority(rng: random.Random, category: Category) -> Priority:
    if category == "outage":
        return rng.choice(("urgent", "urgent", "high"))
    if category == "security":
        return rng.choice(("urgent", "high", "high", "normal"))
    return rng.choices(("low", "normal", "high", "urgent"), weights=(20, 55, 20, 5))[0]


def _business_hours(moment: datetime, anchor: datetime) -> datetime:
    # Merchants mostly write in during the working day (UTC here); keep the date, move the hour.
    hour = 8 + (moment.hour * 7 + moment.minute) % 10
    shifted = moment.replace(hour=hour, second=0, microsecond=0)
    return shifted if shifted < anchor else moment.replace(microsecond=0)


def _slots(rng: random.Random, created: datetime) -> dict[str, str]:
    before = created - timedelta(days=rng.randint(1, 6))
    return {
        "order": f"#{rng.randint(10_400, 48_999)}",
        "invoice": f"INV-{created.year}-{rng.randint(1_000, 9_999)}",
        "amount": f"${rng.randint(19, 2_400)}.{rng.randint(0, 99):02d}",
        "date": f"{before:%B} {before.day}",
        "time": f"{rng.randint(7, 18):02d}:{rng.choice(('05', '20', '40', '55'))} UTC",
        "days": str(rng.randint(3, 9)),
        "count": str(rng.randint(2, 40)),
        "row": str(rng.randint(12, 480)),
        "carrier": rng.choice(_CARRIERS),
        "code": rng.choice(("502", "503", "401", "404")),
        "rpm": str(rng.choice((120, 240, 300, 600))),
        "hex": f"{rng.getrandbits(48):012x}",
    }
