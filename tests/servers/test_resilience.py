"""Circuit breakers and read retries around the servers' real upstreams: SMTP, HTTP and the databases."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import anyio
import pytest
import stamina
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope, Session
from mcp import Client
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from governance.audit import AuditStore
from governance.testing import governed_server, open_audit
from servers._config import ServerConfig
from servers._resilience import Breaker, BreakerGroup, UpstreamUnavailable
from servers.notifications._delivery import SmtpDelivery
from servers.notifications._settings import NotificationsSettings
from servers.notifications.server import build_server as build_notifications
from servers.tickets._store import NewTicket, TicketStore
from servers.web_fetch._errors import FetchError
from servers.web_fetch._fetch import Fetcher
from servers.web_fetch._settings import WebFetchSettings

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def retries_without_waiting() -> Iterator[None]:
    # stamina's own switch: retries happen, as many as in production, but without the backoff sleeps.
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until_retry_allowed(breaker: Breaker) -> None:
    """Wait until an open breaker lets one call try again."""
    # purgatory reads time.time() itself: the short reset time is waited out, once, not polled.
    await anyio.sleep(breaker.retry_in() + 0.05)
    assert breaker.retry_in() == 0


# -- SMTP --------------------------------------------------------------------------------------


@dataclass
class FlakyMailServer:
    """An aiosmtpd handler that answers 421 (service not available) while `down`, and counts sessions."""

    down: bool = True
    refuse: set[str] = field(default_factory=set)
    sessions: int = 0
    received: list[Envelope] = field(default_factory=list)

    async def handle_EHLO(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.down:
            return "421 4.3.2 Service not available, closing transmission channel"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def mail_server() -> Iterator[tuple[FlakyMailServer, int]]:
    handler, port = FlakyMailServer(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def smtp_settings(port: int) -> NotificationsSettings:
    return NotificationsSettings(
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_timeout_seconds=5,
        delivery_lease_seconds=60,
    )


def message(to: str = "olivia@mapleandrye.example") -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "support@harbor.example", to, "Your refund"
    mail["Message-ID"] = "<test@harbor.example>"
    mail.set_content("It is on its way.")
    return mail


def send(delivery: SmtpDelivery, to: str = "olivia@mapleandrye.example") -> Any:
    return delivery.deliver(message(to), message_id="m1", sender="support@harbor.example", recipients=[to])


@pytest.mark.requirement("limits.circuit-breaker")
async def test_the_smtp_breaker_opens_after_failures_answers_at_once_and_closes_when_the_server_recovers(
    mail_server: tuple[FlakyMailServer, int],
) -> None:
    server, port = mail_server
    breaker = Breaker(f"SMTP server 127.0.0.1:{port}", failures=2, reset_seconds=0.3)
    delivery = SmtpDelivery(smtp_settings(port), breaker=breaker)

    failures = [await anyio.to_thread.run_sync(send, delivery) for _ in range(2)]
    assert [outcome.status for outcome in failures] == ["failed", "failed"]
    assert all("421" in str(outcome.error) for outcome in failures)
    assert breaker.state == "opened" and server.sessions == 2

    started = time.monotonic()
    refused = await anyio.to_thread.run_sync(send, delivery)
    assert time.monotonic() - started < 0.1  # no connection, no timeout: at once
    assert refused.status == "failed"
    assert str(refused.error).startswith(f"SMTP server 127.0.0.1:{port} unavailable; circuit open for 1 more seconds")
    assert server.sessions == 2  # the server was not contacted

    server.down = False
    await until_retry_allowed(breaker)
    recovered = await anyio.to_thread.run_sync(send, delivery)
    assert recovered.status == "delivered"
    assert breaker.state == "closed" and len(server.received) == 1


@pytest.mark.requirement("limits.circuit-breaker")
async def test_refused_recipients_do_not_count_against_the_smtp_breaker(
    mail_server: tuple[FlakyMailServer, int],
) -> None:
    server, port = mail_server
    server.down, server.refuse = False, {"nobody@mapleandrye.example"}
    breaker = Breaker("SMTP server", failures=2)
    delivery = SmtpDelivery(smtp_settings(port), breaker=breaker)
    for _ in range(3):
        refused = await anyio.to_thread.run_sync(send, delivery, "nobody@mapleandrye.example")
        assert refused.status == "failed" and "550" in str(refused.error)
    assert breaker.state == "closed"
    assert (await anyio.to_thread.run_sync(send, delivery)).status == "delivered"


@pytest.mark.requirement("limits.circuit-breaker")
async def test_send_email_tells_the_agent_the_smtp_circuit_is_open_once_the_server_keeps_refusing(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens: every connection is refused
    server = build_notifications(ServerConfig(data_dir=tmp_path / "data"), smtp_settings(port))
    policy = (
        "principals: {alice: {roles: [agent]}}\nroles: {agent: {allow: ['notifications.*']}}\n"
        "tools: {notifications.send_email: {approval: never}}\n"
    )
    audit: AuditStore = open_audit(tmp_path)
    try:
        governed_server(server, policy, audit, principal="alice")
        async with Client(server) as client:
            sends = [
                await client.call_tool(
                    "send_email", {"to": ["olivia@mapleandrye.example"], "subject": f"Try {n}", "body": "Hello."}
                )
                for n in range(6)
            ]
    finally:
        audit.close()
    assert all(result.is_error for result in sends)
    assert all("Could not connect to the SMTP server" in str(r.content[0].text) for r in sends[:5])  # type: ignore[union-attr]
    last = str(sends[5].content[0].text)  # type: ignore[union-attr]
    assert f"SMTP server 127.0.0.1:{port} unavailable; circuit open for 30 more seconds" in last


def test_a_write_through_the_breaker_is_tried_once_and_a_read_is_retried() -> None:
    breaker = Breaker("the test database")
    attempts = {"read": 0, "write": 0}

    def flaky(kind: str) -> str:
        attempts[kind] += 1
        if attempts[kind] == 1:
            raise OperationalError("SELECT 1", {}, Exception("connection reset"))
        return kind

    assert breaker.read(lambda: flaky("read"), retry_on=OperationalError) == "read"
    with pytest.raises(OperationalError):
        breaker.call(lambda: flaky("write"))
    assert attempts == {"read": 2, "write": 1}


def test_an_open_circuit_is_not_retried() -> None:
    breaker = Breaker("the test database", failures=1)
    calls = 0

    def down() -> None:
        nonlocal calls
        calls += 1
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(UpstreamUnavailable, match="the test database unavailable; circuit open for 30 more seconds"):
        breaker.read(down, retry_on=OperationalError)
    assert calls == 1


def test_a_breaker_group_keeps_one_breaker_per_host_and_forgets_the_least_recently_used() -> None:
    group = BreakerGroup(lambda host: f"web server {host}", size=2)
    first = group["a.example"]
    assert group["a.example"] is first and first.upstream == "web server a.example"
    group["b.example"], group["a.example"], group["c.example"]  # b is now the least recently used
    assert group["a.example"] is first
    assert group["b.example"] is not None and group["a.example"] is first


# -- HTTP --------------------------------------------------------------------------------------


class FlakyWebServer:
    """A loopback HTTP server that hangs up on the first `drops` connections, then answers."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.connections = 0

    async def handle(self, stream: Any) -> None:
        self.connections += 1
        async with stream:
            if self.connections <= self.drops:
                return  # closed without a response
            await stream.receive(65536)
            body = b"fresh prices"
            await stream.send(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )


def local_fetcher() -> Fetcher:
    return Fetcher(WebFetchSettings.model_validate({"allowed_networks": ["127.0.0.1/32"]}))


@pytest.mark.requirement("limits.retry-idempotent-reads")
async def test_a_fetch_whose_connection_drops_is_retried_and_succeeds() -> None:
    web = FlakyWebServer(drops=1)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, web.handle)
        page = await local_fetcher().fetch(f"http://127.0.0.1:{port}/prices", 10_000)
        group.cancel_scope.cancel()
    assert page.text == "fresh prices"
    assert web.connections == 2


@pytest.mark.requirement("limits.circuit-breaker")
async def test_a_web_host_that_refuses_connections_is_cut_off_without_affecting_other_hosts() -> None:
    fetcher = Fetcher(WebFetchSettings.model_validate({"allowed_networks": ["127.0.0.0/8"]}))
    dead = free_port()  # nothing listens on 127.0.0.1 here
    with pytest.raises(FetchError, match="could not connect"):
        await fetcher.fetch(f"http://127.0.0.1:{dead}/", 10_000)  # three attempts: three failures
    with pytest.raises(UpstreamUnavailable, match=r"web server 127\.0\.0\.1 unavailable; circuit open"):
        await fetcher.fetch(f"http://127.0.0.1:{dead}/", 10_000)  # two more open it; the third is refused
    web = FlakyWebServer(drops=0)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.2")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, web.handle)
        other = await fetcher.fetch(f"http://127.0.0.2:{port}/", 10_000)  # another host, its own breaker
        group.cancel_scope.cancel()
    assert other.text == "fresh prices"


# -- databases ---------------------------------------------------------------------------------


@pytest.mark.requirement("limits.retry-idempotent-reads")
def test_a_ticket_read_is_retried_when_the_connection_fails_and_a_write_is_not(tmp_path: Path) -> None:
    store = TicketStore.open(f"sqlite:///{tmp_path / 'tickets.db'}", seed=True)
    failures_to_inject = 0
    connects = 0

    def flaky_connect(*_: Any) -> None:
        nonlocal failures_to_inject, connects
        connects += 1
        if failures_to_inject:
            failures_to_inject -= 1
            raise sqlite3.OperationalError("unable to open database file")

    event.listen(store._engine, "do_connect", flaky_connect)
    try:
        store.close()  # drop pooled connections: the next call connects
        failures_to_inject, connects = 1, 0
        found, _ = store.search(limit=1)
        assert len(found.tickets) == 1 and connects == 2

        store.close()
        failures_to_inject, connects = 1, 0
        new = NewTicket(subject="Follow up on the refund", description="Check it arrived.", category="billing")
        with pytest.raises(OperationalError):
            store.create(new)
        assert connects == 1
    finally:
        store.close()


@pytest.mark.requirement("limits.circuit-breaker")
def test_the_analytics_breaker_opens_when_the_database_file_cannot_be_opened(tmp_path: Path) -> None:
    from servers.analytics._database import DemoDatabase

    database = DemoDatabase(tmp_path / "missing" / "analytics.db", built_at=None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.OperationalError):
        database.tables()  # three attempts: three failures
    with pytest.raises(UpstreamUnavailable, match="the analytics database unavailable"):
        database.tables()  # two more open the circuit; the third attempt is refused at once
