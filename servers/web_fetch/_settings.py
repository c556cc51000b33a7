"""Settings of the web_fetch server (environment prefix ``MCPGOV_WEB_FETCH_``)."""

from __future__ import annotations

import re

from pydantic import Field, FilePath, IPvAnyNetwork, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# `example.com` (that host) or `*.example.com` (its subdomains, not the apex).
_HOST_PATTERN = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")


class WebFetchSettings(BaseSettings):
    """Where fetches may go and how much they may take.

    Every address that is not ordinary public unicast is refused (loopback,
    private, link-local, metadata services...); `allowed_networks` is the only
    way to open one, for an intranet or a test server.
    """

    model_config = SettingsConfigDict(env_prefix="MCPGOV_WEB_FETCH_", frozen=True, extra="forbid")

    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="If not empty, the only hosts (`example.com`, `*.example.com`) a fetch or redirect may reach.",
    )
    denied_hosts: list[str] = Field(
        default_factory=list, description="Hosts never fetched, even when `allowed_hosts` matches."
    )
    allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Networks opened despite the address rules (empty: public addresses only).",
    )
    max_bytes_limit: int = Field(
        default=2_000_000, ge=1024, le=50_000_000, description="The most body bytes a call may ask for."
    )
    default_max_bytes: int = Field(default=300_000, ge=1024, description="Body bytes read when not asked.")
    timeout_seconds: float = Field(
        default=20.0, gt=0, le=300, description="Deadline for a whole fetch: every redirect, DNS, body, text."
    )
    max_redirects: int = Field(default=5, ge=0, le=10)
    user_agent: str = "mcpgov-web-fetch/1 (+https://modelcontextprotocol.io)"
    ca_file: FilePath | None = Field(
        default=None, description="PEM file of extra CA certificates to trust (an intranet's own CA)."
    )

    @field_validator("allowed_hosts", "denied_hosts")
    @classmethod
    def _host_patterns(cls, patterns: list[str]) -> list[str]:
        normalized = [pattern.strip().lower().rstrip(".") for pattern in patterns]
        for pattern in normalized:
            if not _HOST_PATTERN.match(pattern):
                raise ValueError(f"{pattern!r} is not a host pattern; write 'example.com' or '*.example.com'")
        return normalized

    @model_validator(mode="after")
    def _default_within_limit(self) -> WebFetchSettings:
        if self.default_max_bytes > self.max_bytes_limit:
            raise ValueError("default_max_bytes is greater than max_bytes_limit")
        return self


def host_matches(host: str, pattern: str) -> bool:
    """Whether `host` (lower case, no trailing dot) is `pattern`, or under it for ``*.`` patterns.

    Compared label by label, never as a string suffix: ``*.example.com`` does not
    match ``evilexample.com``.
    """
    if pattern.startswith("*."):
        return host.split(".")[-len(pattern[2:].split(".")) :] == pattern[2:].split(".") and host != pattern[2:]
    return host == pattern
