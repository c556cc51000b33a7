"""Turning a URL into a checked target: scheme, credentials, host rules, one resolution, addresses.

`TargetPolicy.check` is the only way a URL becomes something the transport will
connect to. The host is resolved once, every address it resolves to must pass
the address rules, and the target carries the address that was checked, so the
connection never looks the name up again (no DNS-rebinding window).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import httpx2

from servers.web_fetch._addresses import HostError, IPAddress, canonical, ip_literal, refusal_reason
from servers.web_fetch._errors import FetchError
from servers.web_fetch._settings import WebFetchSettings, host_matches

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""`(fully qualified name, port) -> addresses as text`; swapped in tests to play a rebinding DNS server."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
# Names that by standard or convention mean "this machine" or "this private network".
_LOCAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa")


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed every check, and the address to connect to for it."""

    url: httpx2.URL
    host: str
    port: int
    address: IPAddress

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, the page's origin (its provenance source)."""
        default = _DEFAULT_PORTS[self.url.scheme] == self.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.url.scheme}://{host}" if default else f"{self.url.scheme}://{host}:{self.port}"


async def system_resolver(name: str, port: int) -> list[str]:
    """Every address the system resolver gives for `name` (a fully qualified name)."""
    infos = await anyio.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class TargetPolicy:
    """Decides whether a URL may be fetched, and pins the address it will be fetched from."""

    def __init__(self, settings: WebFetchSettings, resolver: Resolver = system_resolver) -> None:
        self._settings = settings
        self._resolver = resolver
        self._allowed_networks = tuple(settings.allowed_networks)

    async def check(self, url: str | httpx2.URL) -> Target:
        """The target for `url`, or the reason it may not be fetched.

        Raises:
            FetchError: the URL is malformed, not http(s), carries credentials, names a
                host the settings refuse, does not resolve, or resolves to any refused address.
        """
        parsed = _parse(url)
        host = parsed.raw_host.decode("ascii").lower()
        try:
            literal = ip_literal(host)
        except HostError as error:
            raise FetchError(f"{error}; use a public host name or address") from None
        if literal is None:
            host = _check_name(host)
        else:
            host = str(canonical(literal))
        self._check_host_rules(host)
        port = parsed.port if parsed.port is not None else _DEFAULT_PORTS[parsed.scheme]
        if not 0 < port < 65536:
            raise FetchError(f"port {port} is out of range; ports are 1 to 65535")
        addresses = [literal] if literal is not None else await self._resolve(host, port)
        for address in addresses:
            reason = refusal_reason(address, self._allowed_networks)
            if reason is not None:
                raise FetchError(f"refusing to fetch {host}: {reason}; only public internet addresses can be fetched")
        address = canonical(addresses[0])
        return Target(url=parsed.copy_with(host=host), host=host, port=port, address=address)

    def _check_host_rules(self, host: str) -> None:
        settings = self._settings
        if any(host_matches(host, pattern) for pattern in settings.denied_hosts):
            raise FetchError(f"the host {host} is on this server's deny list; choose another source")
        if settings.allowed_hosts and not any(host_matches(host, p) for p in settings.allowed_hosts):
            allowed = ", ".join(settings.allowed_hosts)
            raise FetchError(f"the host {host} is not one this server may fetch from; allowed hosts: {allowed}")

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            # The trailing dot makes the name absolute, so no resolv.conf search domain is tried.
            found = await self._resolver(f"{host}.", port)
        except OSError:
            raise FetchError(f"the host {host} could not be resolved; check the spelling of the URL") from None
        if not found:
            raise FetchError(f"the host {host} has no addresses; check the spelling of the URL")
        try:
            return [ipaddress.ip_address(address) for address in found]
        except ValueError:
            raise FetchError(f"the host {host} resolved to something that is not an IP address") from None


def _parse(url: str | httpx2.URL) -> httpx2.URL:
    try:
        parsed = url if isinstance(url, httpx2.URL) else httpx2.URL(url)
    except httpx2.InvalidURL as error:
        raise FetchError(f"the URL is malformed ({error}); give an absolute http(s) URL") from None
    if parsed.scheme not in _DEFAULT_PORTS:
        shown = parsed.scheme or "none"
        raise FetchError(f"the URL scheme {shown!r} is not allowed; only http and https URLs can be fetched")
    if parsed.userinfo:
        raise FetchError("URLs with credentials (user:password@) are not allowed; remove them from the URL")
    if not parsed.raw_host:
        raise FetchError("the URL has no host; give an absolute URL such as https://example.com/page")
    return parsed


def _check_name(host: str) -> str:
    """A DNS name in the one form we compare and resolve: lower case, ASCII, no trailing dot."""
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise FetchError(f"{host!r} is not a valid host name")
    if len(labels) < 2:
        raise FetchError(f"the single-label host {name!r} is a local name; give a fully qualified host name")
    if any(name == suffix or name.endswith(f".{suffix}") for suffix in _LOCAL_SUFFIXES):
        raise FetchError(f"the host {name} is a local name; only public internet hosts can be fetched")
    return name
