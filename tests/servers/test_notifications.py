"""The notifications server, governed, against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import socketserver
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Literal, cast

import anyio
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import SecretStr, ValidationError

from governance.audit import AuditStore
from governance.provenance import read_provenance
from governance.testing import audit_records, governed_server, open_audit
from servers._config import ServerConfig
from servers.notifications import NotificationsSettings, build_server
from servers.notifications._addresses import domain_allowed
from servers.notifications._compose import compose
from servers.notifications._ledger import Ledger

pytestmark = pytest.mark.anyio
pytest_plugins = ["postgres"]

ERAS = ["legacy", "auto"]
POLICY = """
principals:
  alice: {roles: [agent]}
roles:
  agent:
    allow: ["notifications.*"]
tools:
  notifications.send_email: {approval: never}
# Some tests repeat one keyed send on purpose, six at once: more than the default loop threshold (5).
limits:
  loop: {max_repeats: 10}
"""
MESSAGE = {
    "to": ["olivia@mapleandrye.example"],
    "cc": ["accounts@mapleandrye.example"],
    "subject": "Your refund for INV-2026-4821 — done",
    "body": "Hi Olivia,\n\nWe refunded the duplicate charge of $129.00.\n.\nA line with a lone dot above.\n\nHarbor Support",
    "reply_to": "billing@harbor.example",
}
PASSWORD = "correct horse battery staple"


# -- a real SMTP server ---------------------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives; can refuse data or single recipients."""

    received: list[Envelope] = field(default_factory=list)
    data_reply: str = "250 2.0.0 Ok: queued"
    refuse: set[str] = field(default_factory=set)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        if self.data_reply.startswith("250"):
            self.received.append(envelope)
        return self.data_reply

    def authenticate(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        login = cast(LoginPassword, data)
        if login.login == b"harbor-mailer" and login.password == PASSWORD.encode():
            self.logins.append(login.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def message(self, index: int = 0) -> EmailMessage:
        content = self.received[index].original_content or b""
        return message_from_bytes(content, policy=default_policy)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditStore]:
    store = open_audit(tmp_path)
    yield store
    store.close()


def smtp_settings(port: int, **changes: Any) -> NotificationsSettings:
    values: dict[str, Any] = {
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_timeout_seconds": 5,
        "delivery_lease_seconds": 60,
    }
    return NotificationsSettings(**(values | changes))


def notifications(tmp_path: Path, audit: AuditStore, settings: NotificationsSettings) -> MCPServer:
    server = build_server(ServerConfig(data_dir=tmp_path / "data"), settings)
    return governed_server(server, POLICY, audit, principal="alice")


def data(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None, result.content
    return dict(result.structured_content)


def text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


def tool_errors(audit: AuditStore, tool: str) -> int:
    return sum(1 for r in audit_records(audit) if r.tool == tool and r.outcome == "tool_error")


async def outbox_counts(client: Client) -> dict[str, int]:
    return dict(data(await client.call_tool("list_outbox", {}))["counts"])


# -- tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ERAS)
async def test_each_tool_carries_honest_annotations(mode: str, tmp_path: Path, audit: AuditStore) -> None:
    async with Client(notifications(tmp_path, audit, NotificationsSettings()), mode=mode) as client:
        tools = {tool.name: tool.annotations for tool in (await client.list_tools()).tools}
    hints = {
        name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)
        for name, a in tools.items()
        if a is not None
    }
    assert hints == {
        "draft_email": (True, False, True, False),
        "send_email": (False, False, False, True),
        "list_outbox": (True, False, True, False),
    }


@pytest.mark.parametrize("mode", ERAS)
async def test_a_draft_renders_the_message_and_neither_stores_nor_sends_it(
    mode: str, tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    async with Client(notifications(tmp_path, audit, smtp_settings(port)), mode=mode) as client:
        draft = data(await client.call_tool("draft_email", MESSAGE))
        again = data(await client.call_tool("draft_email", MESSAGE))
        counts = await outbox_counts(client)
    assert draft["headers"] == {
        "From": "Harbor Support <support@harbor.example>",
        "To": "olivia@mapleandrye.example",
        "Cc": "accounts@mapleandrye.example",
        "Reply-To": "billing@harbor.example",
        "Subject": "Your refund for INV-2026-4821 — done",
    }
    assert draft["recipients"] == ["olivia@mapleandrye.example", "accounts@mapleandrye.example"]
    assert draft["draft_id"] == again["draft_id"] and draft["transport"] == "smtp"
    assert box.received == [] and counts == {}


@pytest.mark.parametrize("mode", ERAS)
async def test_send_email_delivers_the_message_over_smtp(
    mode: str, tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    async with Client(notifications(tmp_path, audit, smtp_settings(port)), mode=mode) as client:
        result = await client.call_tool("send_email", {**MESSAGE, "from_name": "Marcus at Harbor"})
        listing = data(await client.call_tool("list_outbox", {"status": "delivered"}))
    sent = data(result)
    assert not result.is_error and sent["status"] == "delivered" and sent["error"] is None
    (envelope,) = box.received
    assert envelope.mail_from == "support@harbor.example"
    assert envelope.rcpt_tos == ["olivia@mapleandrye.example", "accounts@mapleandrye.example"]
    message = box.message()
    assert message["From"] == "Marcus at Harbor <support@harbor.example>"
    assert (message["To"], message["Cc"]) == ("olivia@mapleandrye.example", "accounts@mapleandrye.example")
    assert message["Reply-To"] == "billing@harbor.example"
    assert message["Subject"] == "Your refund for INV-2026-4821 — done"
    assert message["Message-ID"] == sent["message_id_header"]
    assert message["Bcc"] is None and message["Date"] is not None
    # CRLF on the wire; the lone dot line survives SMTP dot-stuffing.
    assert message.get_content().replace("\r\n", "\n") == f"{MESSAGE['body']}\n"
    assert [m["message_id"] for m in listing["messages"]] == [sent["message_id"]]
    provenance = read_provenance({"_meta": result.meta})
    assert provenance is not None and provenance.source == "notifications"


INJECTIONS = [
    ("subject", {"subject": "hi\r\nBcc: x@evil.example"}, "subject contains a control character, CR (\\r)"),
    ("subject", {"subject": "hi\nBcc: x@evil.example"}, "subject contains a control character, LF (\\n)"),
    ("subject", {"subject": "hi\x00there"}, "subject contains a control character, NUL"),
    ("subject", {"subject": "hi\u2028Bcc: x@evil.example"}, "subject contains a control character, U+2028"),
    ("to", {"to": ["olivia@mapleandrye.example\r\nBcc: x@evil.example"]}, "to[0] contains a control character"),
    ("cc", {"cc": ["a@mapleandrye.example", "b@x.example\nBcc: x@evil.example"]}, "cc[1] contains a control"),
    ("from_name", {"from_name": "Harbor\r\nBcc: x@evil.example"}, "from_name contains a control character"),
    ("reply_to", {"reply_to": "billing@harbor.example\rBcc: x@evil.example"}, "reply_to contains a control"),
]


@pytest.mark.parametrize(
    ("field_name", "change", "message"), INJECTIONS, ids=[f"{c[0]}-{i}" for i, c in enumerate(INJECTIONS)]
)
@pytest.mark.parametrize("tool", ["send_email", "draft_email"])
async def test_a_header_injection_in_any_field_is_refused_before_anything_is_sent(
    tool: str,
    field_name: str,
    change: dict[str, Any],
    message: str,
    tmp_path: Path,
    audit: AuditStore,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    async with Client(notifications(tmp_path, audit, smtp_settings(port))) as client:
        result = await client.call_tool(tool, {**MESSAGE, **change})
        counts = await outbox_counts(client)
    assert result.is_error
    assert message in text(result) and "header fields must be a single line" in text(result)
    assert box.received == [] and counts == {}  # nothing reached the SMTP server or the ledger
    assert tool_errors(audit, tool) == 1


@pytest.mark.parametrize(
    "address",
    [
        "Olivia <olivia@mapleandrye.example>",  # display names are not accepted
        "olivia@mapleandrye.example, x@evil.example",
        '"x@mapleandrye.example"@evil.example',
        "olivia(comment)@evil.example",
        "olivia@[127.0.0.1]",
        "olivia@localhost",
        "olivia@-bad.example",
        "olivia@mapleandrye",
        "olivia@mapleandrye.123",
        "olivia@mapleandrye.example@evil.example",
        "olivia@bücher.example",
    ],
)
async def test_a_recipient_must_be_one_bare_valid_address(
    address: str, tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    async with Client(notifications(tmp_path, audit, smtp_settings(port))) as client:
        result = await client.call_tool("send_email", {**MESSAGE, "to": [address]})
    assert result.is_error and "to[0]" in text(result)
    assert box.received == []


async def test_too_many_recipients_are_refused(tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    server = notifications(tmp_path, audit, smtp_settings(port, max_recipients=3))
    many = [f"staff{i}@mapleandrye.example" for i in range(4)]
    async with Client(server) as client:
        together = await client.call_tool("send_email", {**MESSAGE, "to": many[:2], "cc": many[2:]})
        in_one_list = await client.call_tool("send_email", {**MESSAGE, "to": many})
        twice = await client.call_tool("send_email", {**MESSAGE, "to": [many[0]], "cc": [many[0].upper()]})
    assert "4 recipients in to and cc together; the most this server sends to is 3" in text(together)
    assert in_one_list.is_error and "'to'" in text(in_one_list)  # the schema says maxItems 3
    assert "listed more than once" in text(twice)
    assert box.received == []


async def test_the_servers_own_allowed_domains_are_a_second_line(
    tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    settings = smtp_settings(port, allowed_domains=["MapleAndRye.example", "*.mapleandrye.example"])
    async with Client(notifications(tmp_path, audit, settings)) as client:
        outside = await client.call_tool("send_email", {**MESSAGE, "cc": ["x@evil.example"]})
        lookalike = await client.call_tool("send_email", {**MESSAGE, "cc": ["x@evilmapleandrye.example"]})
        subdomain = await client.call_tool("send_email", {**MESSAGE, "cc": ["eu@shop.mapleandrye.example"]})
    assert "x@evil.example is outside the domains this server may e-mail (mapleandrye.example, *.mapleandrye" in (
        text(outside)
    )
    assert lookalike.is_error
    assert not subdomain.is_error
    assert [e.rcpt_tos for e in box.received] == [["olivia@mapleandrye.example", "eu@shop.mapleandrye.example"]]


def test_allowed_domain_patterns_mean_what_the_policys_email_domains_mean() -> None:
    subdomains_only = ["*.mapleandrye.example"]
    assert domain_allowed("eu@shop.mapleandrye.example", subdomains_only)
    assert not domain_allowed("olivia@mapleandrye.example", subdomains_only)
    assert not domain_allowed("x@evilmapleandrye.example", subdomains_only)
    assert domain_allowed("olivia@mapleandrye.example", ["mapleandrye.example"])
    assert not domain_allowed("eu@shop.mapleandrye.example", ["mapleandrye.example"])


async def test_the_policys_email_domains_stop_a_recipient_before_the_server_sees_it(
    tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    constrained = POLICY.replace(
        "notifications.send_email: {approval: never}",
        "notifications.send_email:\n    approval: never\n    params:\n"
        "      to: {email_domains: [mapleandrye.example]}\n      cc: {email_domains: [mapleandrye.example]}",
    )
    server = build_server(ServerConfig(data_dir=tmp_path / "data"), smtp_settings(port))
    governed_server(server, constrained, audit, principal="alice")
    async with Client(server) as client:
        outside = await client.call_tool("send_email", {**MESSAGE, "cc": ["x@evil.example"]})
        inside = await client.call_tool("send_email", MESSAGE)
    assert outside.is_error and "x@evil.example" in text(outside) and "cc" in text(outside)
    assert not inside.is_error
    assert [e.rcpt_tos for e in box.received] == [["olivia@mapleandrye.example", "accounts@mapleandrye.example"]]
    assert tool_errors(audit, "send_email") == 1


@pytest.mark.parametrize("mode", ERAS)
async def test_a_message_the_smtp_server_rejects_is_marked_failed(
    mode: str, tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    box.data_reply = "554 5.7.1 Message rejected: looks like spam"
    async with Client(notifications(tmp_path, audit, smtp_settings(port)), mode=mode) as client:
        result = await client.call_tool("send_email", MESSAGE)
        counts = await outbox_counts(client)
    assert result.is_error
    assert text(result).startswith("Not delivered: The SMTP server refused the message: 554 5.7.1 Message rejected")
    assert data(result)["status"] == "failed" and "554" in data(result)["error"]
    assert counts == {"failed": 1}
    assert tool_errors(audit, "send_email") == 1


async def test_a_refused_recipient_means_the_message_goes_to_no_one(
    tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    box.refuse = {"accounts@mapleandrye.example"}
    async with Client(notifications(tmp_path, audit, smtp_settings(port))) as client:
        result = await client.call_tool("send_email", MESSAGE)
    assert result.is_error and data(result)["status"] == "failed"
    assert "sent to no one: accounts@mapleandrye.example (550 5.1.1 No such user here)" in text(result)
    assert box.received == []


async def test_an_smtp_server_that_is_not_there_marks_the_message_failed(tmp_path: Path, audit: AuditStore) -> None:
    with socket.socket() as bound_not_listening:  # connecting to it is refused at once
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        async with Client(notifications(tmp_path, audit, smtp_settings(port))) as client:
            result = await client.call_tool("send_email", MESSAGE)
            counts = await outbox_counts(client)
    assert result.is_error
    assert f"Could not connect to the SMTP server 127.0.0.1:{port}: Connection refused" in text(result)
    assert counts == {"failed": 1}


@pytest.mark.parametrize("mode", ERAS)
async def test_an_idempotency_key_never_sends_a_message_twice(
    mode: str, tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    keyed = {**MESSAGE, "idempotency_key": "refund-4821-confirmation"}
    async with Client(notifications(tmp_path, audit, smtp_settings(port)), mode=mode) as client:
        first = await client.call_tool("send_email", keyed)
        again = await client.call_tool("send_email", keyed)
        other = await client.call_tool("send_email", {**keyed, "subject": "Something else"})
    assert len(box.received) == 1
    assert data(again)["message_id"] == data(first)["message_id"]
    assert (data(first)["replayed"], data(again)["replayed"]) == (False, True)
    assert text(again).startswith("An earlier call with this idempotency_key handled this message")
    assert "idempotency_key 'refund-4821-confirmation' was already used for a different message" in text(other)


async def test_concurrent_sends_with_one_key_send_one_message(
    tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    results: list[CallToolResult] = []
    async with Client(notifications(tmp_path, audit, smtp_settings(port))) as client:

        async def send() -> None:
            results.append(await client.call_tool("send_email", {**MESSAGE, "idempotency_key": "race"}))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                for _ in range(6):
                    group.start_soon(send)
    assert len(box.received) == 1
    assert len({data(r)["message_id"] for r in results}) == 1
    assert sum(not data(r)["replayed"] for r in results) == 1


async def test_the_ledger_on_postgresql_sends_a_keyed_message_once_under_concurrency(
    postgres_url: str, tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    server = build_server(ServerConfig(data_dir=tmp_path / "data", db_url=postgres_url), smtp_settings(port))
    governed_server(server, POLICY, audit, principal="alice")
    results: list[CallToolResult] = []
    async with Client(server) as client:

        async def send() -> None:
            results.append(await client.call_tool("send_email", {**MESSAGE, "idempotency_key": "pg-race"}))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(6):
                    group.start_soon(send)
        counts = await outbox_counts(client)
    assert len(box.received) == 1 and counts == {"delivered": 1}
    assert len({data(r)["message_id"] for r in results}) == 1
    assert not (tmp_path / "data" / "notifications.db").exists()


async def test_a_failed_key_replays_the_failure_instead_of_sending(
    tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    box.data_reply = "451 4.3.0 Try again later"
    keyed = {**MESSAGE, "idempotency_key": "k-451"}
    async with Client(notifications(tmp_path, audit, smtp_settings(port))) as client:
        await client.call_tool("send_email", keyed)
        box.data_reply = "250 Ok"
        again = await client.call_tool("send_email", keyed)
    assert again.is_error and data(again)["status"] == "failed" and data(again)["replayed"]
    assert box.received == []


class DropAfterData(socketserver.StreamRequestHandler):
    """Speaks SMTP until the message has been sent, then hangs up instead of answering."""

    dropped: list[bytes]

    def handle(self) -> None:
        self.wfile.write(b"220 flaky.example ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                content = b"".join(iter(self.rfile.readline, b".\r\n"))
                self.dropped.append(content)
                return  # the server holds the whole message and never says whether it took it
            self.wfile.write(b"221 Bye\r\n" if verb == b"QUIT" else b"250 ok\r\n")


async def test_a_connection_lost_after_the_data_leaves_the_delivery_unknown_and_never_retries(
    tmp_path: Path, audit: AuditStore
) -> None:
    DropAfterData.dropped = []
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), DropAfterData) as flaky:
        thread = threading.Thread(target=flaky.serve_forever, daemon=True)
        thread.start()
        try:
            settings = smtp_settings(flaky.server_address[1])
            keyed = {**MESSAGE, "idempotency_key": "k-unknown"}
            async with Client(notifications(tmp_path, audit, settings)) as client:
                result = await client.call_tool("send_email", keyed)
                retry = await client.call_tool("send_email", keyed)
                unknown = data(await client.call_tool("list_outbox", {"status": "unknown"}))
        finally:
            flaky.shutdown()
            thread.join(5)
    assert result.is_error and data(result)["status"] == "unknown"
    assert "may or may not have been accepted. It is not re-sent automatically" in text(result)
    assert retry.is_error and data(retry)["replayed"]
    assert len(DropAfterData.dropped) == 1
    assert unknown["needs_attention"] == 1 and unknown["messages"][0]["message_id"] == data(result)["message_id"]


def interrupted_send(data_dir: Path, *, key: str, transport: Literal["smtp", "outbox"], minutes_ago: float) -> str:
    """What a process that died mid-send leaves behind: a pending ledger row, reserved long ago."""
    draft = compose(
        from_address="support@harbor.example",
        from_name="Harbor Support",
        to=["olivia@mapleandrye.example"],
        cc=[],
        reply_to=None,
        subject=f"Interrupted {key}",
        body="Hello",
        max_recipients=10,
        allowed_domains=[],
    )
    ledger = Ledger.open(f"sqlite:///{data_dir / 'notifications.db'}")
    try:
        reserved_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
        entry, new = ledger.reserve(
            draft,
            message_id=uuid.uuid4().hex,
            key=key,
            transport=transport,
            now=reserved_at,
            lease=dt.timedelta(minutes=5),
        )
    finally:
        ledger.close()
    assert new and entry.status == "pending"
    return entry.message_id


async def test_sends_left_pending_by_a_crash_become_unknown_at_start_and_are_never_resent(
    tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    data_dir = tmp_path / "data"
    crashed = interrupted_send(data_dir, key="k-crash", transport="smtp", minutes_ago=30)
    in_flight = interrupted_send(data_dir, key="k-live", transport="smtp", minutes_ago=1)
    async with Client(notifications(tmp_path, audit, smtp_settings(port))) as client:
        listing = data(await client.call_tool("list_outbox", {}))
        retry = await client.call_tool(
            "send_email",
            {
                "to": ["olivia@mapleandrye.example"],
                "subject": "Interrupted k-crash",
                "body": "Hello",
                "idempotency_key": "k-crash",
            },
        )
    statuses = {m["message_id"]: m["status"] for m in listing["messages"]}
    # Only a send whose lease ran out is settled; a younger one may still be in another process's hands.
    assert statuses == {crashed: "unknown", in_flight: "pending"}
    assert listing["needs_attention"] == 1
    assert "Message-ID <" + crashed in next(m["error"] for m in listing["messages"] if m["message_id"] == crashed)
    assert retry.is_error and data(retry)["status"] == "unknown" and data(retry)["replayed"]
    assert box.received == []


async def test_interrupted_outbox_sends_are_settled_exactly_from_the_outbox_files(
    tmp_path: Path, audit: AuditStore
) -> None:
    data_dir = tmp_path / "data"
    written = interrupted_send(data_dir, key="k-written", transport="outbox", minutes_ago=30)
    lost = interrupted_send(data_dir, key="k-lost", transport="outbox", minutes_ago=30)
    (data_dir / "outbox").mkdir()
    (data_dir / "outbox" / f"{written}.eml").write_bytes(b"Subject: Interrupted k-written\r\n\r\nHello\r\n")
    async with Client(notifications(tmp_path, audit, NotificationsSettings())) as client:
        listing = data(await client.call_tool("list_outbox", {}))
    statuses = {m["message_id"]: (m["status"], m["error"]) for m in listing["messages"]}
    assert statuses[written] == ("delivered", None)
    assert statuses[lost] == (
        "failed",
        "Delivery was interrupted before the message reached the outbox; nothing was sent.",
    )


@pytest.mark.parametrize("mode", ERAS)
async def test_the_default_outbox_gets_one_eml_file_per_message(mode: str, tmp_path: Path, audit: AuditStore) -> None:
    async with Client(notifications(tmp_path, audit, NotificationsSettings()), mode=mode) as client:
        sent = data(await client.call_tool("send_email", MESSAGE))
    outbox = tmp_path / "data" / "outbox"
    assert sorted(p.name for p in outbox.iterdir()) == [f"{sent['message_id']}.eml"]  # no temporary files left
    message = message_from_bytes((outbox / f"{sent['message_id']}.eml").read_bytes(), policy=default_policy)
    assert message["Subject"] == MESSAGE["subject"] and message["Message-ID"] == sent["message_id_header"]
    assert sent["status"] == "delivered" and sent["transport"] == "outbox"


async def test_a_draft_id_makes_sure_the_message_sent_is_the_one_previewed(
    tmp_path: Path, audit: AuditStore, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    async with Client(notifications(tmp_path, audit, smtp_settings(port))) as client:
        draft_id = data(await client.call_tool("draft_email", MESSAGE))["draft_id"]
        changed = await client.call_tool("send_email", {**MESSAGE, "body": "Changed.", "draft_id": draft_id})
        same = await client.call_tool("send_email", {**MESSAGE, "draft_id": draft_id})
    assert f"draft_id '{draft_id}' does not match this message" in text(changed)
    assert not same.is_error and data(same)["draft_id"] == draft_id
    assert len(box.received) == 1


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp.pem", directory / "smtp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


async def test_credentials_travel_over_starttls_and_never_appear_in_results(tmp_path: Path, audit: AuditStore) -> None:
    import ssl

    cert_file, key_file = self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    box, port = Mailbox(), free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        authenticator=box.authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        tls_settings = {"smtp_security": "starttls", "smtp_ca_file": cert_file, "smtp_username": "harbor-mailer"}
        good = smtp_settings(port, **tls_settings, smtp_password=SecretStr(PASSWORD))
        wrong = smtp_settings(port, **tls_settings, smtp_password=SecretStr("not-" + PASSWORD))
        async with Client(notifications(tmp_path / "good", audit, good)) as client:
            delivered = await client.call_tool("send_email", MESSAGE)
        async with Client(notifications(tmp_path / "wrong", audit, wrong)) as client:
            refused = await client.call_tool("send_email", MESSAGE)
    finally:
        controller.stop()
    assert not delivered.is_error and box.logins == ["harbor-mailer"] and len(box.received) == 1
    assert refused.is_error and "535" in text(refused)
    wire = delivered.model_dump_json() + refused.model_dump_json()
    assert PASSWORD not in wire and "correct horse" not in wire
    assert PASSWORD not in repr(good) and PASSWORD not in str(good.model_dump())


def test_settings_refuse_credentials_over_an_unencrypted_connection() -> None:
    with pytest.raises(ValidationError, match="credentials would cross the network in clear text"):
        NotificationsSettings(smtp_security="none", smtp_username="mailer", smtp_password=SecretStr("x"))
    with pytest.raises(ValidationError, match="from_address"):
        NotificationsSettings(from_address="Harbor <support@harbor.example>")
