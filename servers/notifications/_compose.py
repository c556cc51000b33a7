"""Composing a message: every field checked, then rendered with Python's ``email`` package.

A `Draft` is the checked content of a message. Its ``draft_id`` is a digest of that content, so
previewing (draft_email) stores nothing: send_email recomputes the id from its own arguments, and
a caller who passes the previewed ``draft_id`` is refused if the message changed in between.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from servers.notifications._addresses import MessageRuleError, check_header_text, domain_allowed, parse_address

__all__ = ["Draft", "compose"]

_DISPLAY_NAME_FORBIDDEN = set('<>@",;:')


@dataclass(frozen=True, slots=True)
class Draft:
    """A message whose every field has been checked; renders the same way every time."""

    from_name: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: str | None
    subject: str
    body: str

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every envelope recipient: to, then cc."""
        return self.to + self.cc

    @property
    def draft_id(self) -> str:
        """A digest of the content: equal for equal messages, different if any field differs."""
        content = [self.from_name, self.from_address, self.to, self.cc, self.reply_to, self.subject, self.body]
        return "draft_" + hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]

    def message_id_header(self, message_id: str) -> str:
        """The Message-ID header for the message with this ledger id (unique, and findable in mail logs)."""
        return f"<{message_id}@{self.from_address.rpartition('@')[2]}>"

    def headers(self) -> dict[str, str]:
        """The headers the message will carry (Date and Message-ID are added when it is sent)."""
        headers = {"From": str(Address(self.from_name, addr_spec=self.from_address)), "To": ", ".join(self.to)}
        if self.cc:
            headers["Cc"] = ", ".join(self.cc)
        if self.reply_to:
            headers["Reply-To"] = self.reply_to
        headers["Subject"] = self.subject
        return headers

    def render(self, *, message_id: str, date: datetime) -> EmailMessage:
        """The message as sent, under the ledger id ``message_id``: RFC 5322, CRLF line ends, UTF-8 text."""
        message = EmailMessage(policy=SMTP)
        for name, value in self.headers().items():
            message[name] = value
        message["Date"] = format_datetime(date)
        message["Message-ID"] = self.message_id_header(message_id)
        message.set_content(self.body)
        return message


def compose(
    *,
    from_address: str,
    from_name: str,
    to: Sequence[str],
    cc: Sequence[str],
    reply_to: str | None,
    subject: str,
    body: str,
    max_recipients: int,
    allowed_domains: Iterable[str],
) -> Draft:
    """Check every field of a message and return it as a `Draft`.

    Raises:
        MessageRuleError: a header field holds a control character, an address is not a bare
            address, a recipient is listed twice or is outside ``allowed_domains`` (when not
            empty), there are too many recipients, or the body holds control characters.
    """
    check_header_text("subject", subject)
    check_header_text("from_name", from_name)
    if _DISPLAY_NAME_FORBIDDEN & set(from_name):
        raise MessageRuleError(
            "from_name may not contain < > @ \" , ; or : — it is a display name such as 'Harbor Support', "
            "not an address (the sender address is fixed by the server)."
        )
    recipients = [parse_address(f"to[{i}]", value) for i, value in enumerate(to)]
    recipients += [parse_address(f"cc[{i}]", value) for i, value in enumerate(cc)]
    if len(recipients) > max_recipients:
        raise MessageRuleError(
            f"{len(recipients)} recipients in to and cc together; the most this server sends to is "
            f"{max_recipients}. Send fewer, or several messages."
        )
    seen: set[str] = set()
    for address in recipients:
        if address.lower() in seen:
            raise MessageRuleError(f"{address} is listed more than once in to and cc; list each recipient once.")
        seen.add(address.lower())
    allowed = list(allowed_domains)
    if allowed:
        for address in recipients:
            if not domain_allowed(address, allowed):
                raise MessageRuleError(
                    f"{address} is outside the domains this server may e-mail ({', '.join(allowed)}); "
                    "remove that recipient."
                )
    _check_body(body)
    return Draft(
        from_name=from_name,
        from_address=from_address,
        to=tuple(recipients[: len(to)]),
        cc=tuple(recipients[len(to) :]),
        reply_to=None if reply_to is None else parse_address("reply_to", reply_to),
        subject=subject,
        body=body,
    )


def _check_body(body: str) -> None:
    for char in body:
        if char not in "\r\n\t" and unicodedata.category(char) == "Cc":
            raise MessageRuleError(
                f"body contains the control character U+{ord(char):04X}; remove it (line breaks and tabs are fine)."
            )
