"""Settings of the notifications server (environment variables ``MCPGOV_NOTIFICATIONS_*``).

The defaults deliver nothing: messages go to an on-disk outbox. SMTP is opt-in, uses STARTTLS
unless told otherwise, and refuses to send credentials over an unencrypted connection.
List settings are JSON in the environment, e.g. ``MCPGOV_NOTIFICATIONS_ALLOWED_DOMAINS='["acme.example"]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servers.notifications._addresses import MessageRuleError, normalize_domain_pattern, parse_address

__all__ = ["NotificationsSettings"]


class NotificationsSettings(BaseSettings):
    """How the notifications server delivers mail; every default is safe.

    Attributes:
        transport: ``outbox`` writes one ``.eml`` file per message under ``data_dir/outbox``;
            ``smtp`` hands messages to the SMTP server below.
        from_address: The sender address of every message (the agent cannot change it).
        from_name: The sender's display name when a call gives none.
        smtp_host: The SMTP server (a relay or submission server).
        smtp_port: Its port: 587 for submission with STARTTLS, 465 for implicit TLS, 25 for relays.
        smtp_security: ``starttls`` (upgrade after connecting), ``tls`` (implicit TLS) or ``none``.
        smtp_ca_file: A PEM bundle to trust instead of the system's (a private relay's CA).
        smtp_username: Login name, if the server wants one; needs TLS.
        smtp_password: Login password; never logged, never in a result or error.
        smtp_timeout_seconds: Limit on each blocking SMTP step (connect, each command, the data).
        delivery_lease_seconds: How long a send may stay ``pending`` before another process
            treats it as interrupted (``unknown``). At least six SMTP timeouts.
        allowed_domains: Recipient domains the server accepts: ``example.com`` exactly, or
            ``*.example.com`` for its subdomains; empty means any. A second line behind the
            policy's ``email_domains`` constraint, with the same meaning.
        max_recipients: The most addresses in to and cc together.
    """

    model_config = SettingsConfigDict(env_prefix="MCPGOV_NOTIFICATIONS_", extra="forbid")

    transport: Literal["outbox", "smtp"] = "outbox"
    from_address: str = "support@harbor.example"
    from_name: str = Field(default="Harbor Support", min_length=1, max_length=100)
    smtp_host: str = Field(default="localhost", min_length=1, max_length=253)
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_ca_file: Path | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    delivery_lease_seconds: float = Field(default=300.0, gt=0)
    allowed_domains: list[str] = Field(default_factory=list)
    max_recipients: int = Field(default=10, ge=1, le=100)

    @field_validator("from_address")
    @classmethod
    def _sender(cls, value: str) -> str:
        try:
            return parse_address("from_address", value)
        except MessageRuleError as error:
            raise ValueError(str(error)) from None

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        try:
            return [normalize_domain_pattern(domain) for domain in domains]
        except MessageRuleError as error:
            raise ValueError(str(error)) from None

    @model_validator(mode="after")
    def _safe_smtp(self) -> NotificationsSettings:
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("set smtp_username and smtp_password together, or neither")
        if self.smtp_username is not None and self.smtp_security == "none":
            raise ValueError(
                "smtp_username is set but smtp_security is 'none': credentials would cross the network "
                "in clear text; use 'starttls' or 'tls'"
            )
        if self.delivery_lease_seconds < 6 * self.smtp_timeout_seconds:
            raise ValueError(
                "delivery_lease_seconds must be at least 6 x smtp_timeout_seconds, so a send that is "
                "still running is never taken for an interrupted one"
            )
        return self
