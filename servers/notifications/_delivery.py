"""Delivering a rendered message: to the on-disk outbox, or to an SMTP server.

Each transport reports one of three outcomes, and only says ``delivered`` past its commit point:

- outbox: the message is written to a temporary file in the outbox directory, flushed to disk,
  and renamed to ``<message id>.eml``. The rename is atomic, so a reader never sees half a
  message, and the file's presence is the proof of delivery.
- SMTP: the conversation is driven step by step rather than through ``sendmail``, so that a
  failure before the end of DATA is known to have sent nothing (``failed``), a refusal of the
  data is ``failed`` too, and only a connection lost while the server holds the whole message,
  before it answers, is ``unknown``. Every recipient must be accepted, or the transaction is
  reset and nothing is sent: a message never reaches only some of its recipients.

Errors carry the SMTP code and the server's text, never credentials.

A circuit breaker (`servers._resilience`) watches the SMTP server: a connection that fails or
breaks, a timeout, or a 421 ("service not available") counts against it; refused recipients or
content do not. Once open, a send fails at once, nothing sent, saying for how long it stays open.
Sends are never retried here: a retry is the caller's, under its idempotency key.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol

from servers._resilience import Breaker, UpstreamUnavailable
from servers.notifications._models import Transport
from servers.notifications._settings import NotificationsSettings

__all__ = ["Delivery", "DeliveryOutcome", "OutboxDelivery", "SmtpDelivery"]

_ACCEPTED_RCPT = (250, 251)
_SERVICE_NOT_AVAILABLE = 421  # the server is closing the channel: it, not the message, is the problem


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What became of one delivery attempt."""

    status: Literal["delivered", "failed", "unknown"]
    error: str | None = None
    # The server, not the message, failed (it is down, hung up, or said 421): counts against its breaker.
    upstream_down: bool = False


class _UpstreamDown(Exception):
    """Carries a delivery outcome through the breaker as the failure it counts."""

    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


class Delivery(Protocol):
    """A way to deliver messages."""

    name: Transport

    def deliver(
        self, message: EmailMessage, *, message_id: str, sender: str, recipients: Sequence[str]
    ) -> DeliveryOutcome:
        """Deliver ``message`` once; never raises for a delivery problem, reports it instead."""
        ...


class OutboxDelivery:
    """Writes each message to ``<directory>/<message id>.eml``, atomically."""

    name: Transport = "outbox"

    def __init__(self, directory: Path) -> None:
        """Deliver into ``directory`` (created on first use)."""
        self.directory = directory

    def path_of(self, message_id: str) -> Path:
        """Where the message with this ledger id is (or would be) delivered."""
        return self.directory / f"{message_id}.eml"

    def holds(self, message_id: str) -> bool:
        """Whether the outbox has the message with this ledger id."""
        return self.path_of(message_id).is_file()

    def deliver(
        self, message: EmailMessage, *, message_id: str, sender: str, recipients: Sequence[str]
    ) -> DeliveryOutcome:
        """Write the message file; a failure before the rename leaves no message behind."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Same directory as the target: the rename must not cross file systems to stay atomic.
            descriptor, name = tempfile.mkstemp(dir=self.directory, prefix=f".{message_id}.", suffix=".tmp")
        except OSError as error:
            return DeliveryOutcome("failed", f"Could not write to the outbox: {error.strerror or error}.")
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(message.as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path_of(message_id))
        except OSError as error:
            temporary.unlink(missing_ok=True)
            return DeliveryOutcome("failed", f"Could not write to the outbox: {error.strerror or error}.")
        _sync_directory(self.directory)
        return DeliveryOutcome("delivered")


class SmtpDelivery:
    """Hands each message to one SMTP server, over TLS unless configured otherwise."""

    name: Transport = "smtp"

    def __init__(self, settings: NotificationsSettings, breaker: Breaker | None = None) -> None:
        """Use the SMTP server, security and credentials in ``settings``, behind ``breaker`` (a default one)."""
        self._settings = settings
        self.breaker = breaker or Breaker(f"SMTP server {settings.smtp_host}:{settings.smtp_port}")

    def deliver(
        self, message: EmailMessage, *, message_id: str, sender: str, recipients: Sequence[str]
    ) -> DeliveryOutcome:
        """Run one SMTP transaction for ``message``; see the module docstring for the outcomes."""
        try:
            with self.breaker.guard():
                outcome = self._send(message, sender=sender, recipients=recipients)
                if outcome.upstream_down:
                    raise _UpstreamDown(outcome)
        except UpstreamUnavailable as open_circuit:
            return DeliveryOutcome("failed", str(open_circuit), upstream_down=True)
        except _UpstreamDown as down:
            return down.outcome
        return outcome

    def _send(self, message: EmailMessage, *, sender: str, recipients: Sequence[str]) -> DeliveryOutcome:
        settings = self._settings
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        # The ledger's lease outlasts this send only if DATA starts early enough to finish within it
        # (the data and the final reply take at most a few timeouts).
        latest_data_start = time.monotonic() + settings.delivery_lease_seconds - 3 * settings.smtp_timeout_seconds
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            return DeliveryOutcome(
                "failed", f"Could not connect to the SMTP server {where}: {_describe(error)}", upstream_down=True
            )
        try:
            try:
                self._prepare(smtp)
                code, reply = smtp.mail(sender)
                if code != 250:
                    return DeliveryOutcome(
                        "failed",
                        f"The SMTP server refused the sender: {_reply(code, reply)}",
                        upstream_down=code == _SERVICE_NOT_AVAILABLE,
                    )
                refused, down = [], False
                for recipient in recipients:
                    code, reply = smtp.rcpt(recipient)
                    if code not in _ACCEPTED_RCPT:
                        refused.append(f"{recipient} ({_reply(code, reply)})")
                        down = down or code == _SERVICE_NOT_AVAILABLE
                if refused:
                    smtp.rset()
                    return DeliveryOutcome(
                        "failed",
                        "The SMTP server refused recipients, so the message was sent to no one: " + "; ".join(refused),
                        upstream_down=down,
                    )
                if time.monotonic() > latest_data_start:
                    smtp.rset()
                    return DeliveryOutcome(
                        "failed", f"The SMTP server {where} was too slow; nothing was sent.", upstream_down=True
                    )
            except (OSError, smtplib.SMTPException) as error:
                return DeliveryOutcome(
                    "failed", f"SMTP delivery to {where} failed: {_describe(error)}", upstream_down=_is_down(error)
                )
            try:
                code, reply = smtp.data(message.as_bytes())
            except smtplib.SMTPDataError as error:  # refused DATA itself: the message was not sent
                return DeliveryOutcome(
                    "failed", f"The SMTP server refused the message: {_describe(error)}", upstream_down=_is_down(error)
                )
            except (OSError, smtplib.SMTPException) as error:
                return DeliveryOutcome(
                    "unknown",
                    f"The connection to {where} failed after the message was sent and before the server "
                    f"answered ({_describe(error)}); it may or may not have been accepted. It is not "
                    f"re-sent automatically; search the mail server's log for Message-ID {message['Message-ID']}.",
                    upstream_down=True,
                )
            if code != 250:
                return DeliveryOutcome(
                    "failed",
                    f"The SMTP server refused the message: {_reply(code, reply)}",
                    upstream_down=code == _SERVICE_NOT_AVAILABLE,
                )
            return DeliveryOutcome("delivered")
        finally:
            _quit(smtp)

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        if settings.smtp_security == "tls":
            return smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=settings.smtp_timeout_seconds,
                context=self._tls_context(),
            )
        return smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds)

    def _prepare(self, smtp: smtplib.SMTP) -> None:
        settings = self._settings
        smtp.ehlo()
        if settings.smtp_security == "starttls":
            # Raises SMTPNotSupportedError when the server does not offer it: never fall back to clear text.
            smtp.starttls(context=self._tls_context())
            smtp.ehlo()
        if settings.smtp_username is not None and settings.smtp_password is not None:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self._settings.smtp_ca_file
        return ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))


def _quit(smtp: smtplib.SMTP) -> None:
    # The outcome is already decided; a server that hangs up instead of answering QUIT changes nothing.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _sync_directory(directory: Path) -> None:
    # Make the rename itself durable. Best effort: some file systems cannot fsync a directory, and
    # the message is already visible under its final name either way.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _is_down(error: BaseException) -> bool:
    """The connection failed or the server said it is not available; a refusal of this message is not that."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == _SERVICE_NOT_AVAILABLE
    return isinstance(error, OSError | smtplib.SMTPServerDisconnected)


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {_printable(text)}"


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply(error.smtp_code, error.smtp_error)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return _printable(str(error)) or type(error).__name__


def _printable(text: str, limit: int = 300) -> str:
    # Server replies go into results and logs: one line, no control characters, bounded.
    flat = "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)
    return " ".join(flat.split())[:limit]
