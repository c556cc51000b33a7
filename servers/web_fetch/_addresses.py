"""Which IP addresses a fetch may connect to, and how a URL's host becomes one.

An address is refused when it is anything but ordinary public unicast: the
`ipaddress` properties (private, loopback, link-local, multicast, reserved,
unspecified, site-local, not global) plus an explicit table of the IANA
special-purpose blocks, because those properties changed between Python patch
releases (CVE-2024-4032) and we want the same answer on every interpreter.
IPv6 forms that carry an IPv4 address (mapped, compatible, 6to4, NAT64) are
judged by the IPv4 address they lead to; Teredo is refused outright (2001::/23).

Hosts written as IPv4 in the legacy forms that `inet_aton` and browsers accept
(``2130706433``, ``0x7f.1``, ``017700000001``) are parsed here, by the WHATWG URL
rules, so they are checked as the address they are instead of being handed to
the system resolver to interpret.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# IANA IPv4/IPv6 special-purpose registries, plus the cloud metadata endpoints by name.
_BLOCKED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "'this network' (unspecified)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.169.254/32", "the cloud metadata service"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.31.196.0/24", "AS112"),
        ("192.52.193.0/24", "AMT"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("192.175.48.0/24", "AS112"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("255.255.255.255/32", "broadcast"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fd00:ec2::254/128", "the cloud metadata service"),
        ("fc00::/7", "unique-local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)

# IPv6 prefixes whose packets end up at an embedded IPv4 address.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


class HostError(ValueError):
    """A URL host that is not a usable IP literal or DNS name."""


def parse_ipv4_legacy(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address `host` denotes in the forms browsers accept, or None if it is a name.

    Follows the WHATWG URL "IPv4 parser": one to four dot-separated parts, each
    decimal, ``0x`` hexadecimal or ``0``-prefixed octal; the last part fills the
    remaining bytes. A host whose last label looks numeric is an IPv4 address or
    invalid, never a name.

    Raises:
        HostError: the host looks like an IPv4 address but is not a valid one.
    """
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]  # "127.0.0.1." is the same host
    if not _IPV4_PART.match(parts[-1]):
        return None
    if len(parts) > 4 or not all(_IPV4_PART.match(part) for part in parts):
        raise HostError(f"{host!r} is not a valid IPv4 address")
    numbers = [_ipv4_number(part) for part in parts]
    last = numbers.pop()
    if any(n > 255 for n in numbers) or last >= 256 ** (4 - len(numbers)):
        raise HostError(f"{host!r} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(numbers):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if not set(part) <= set("01234567"):
            raise HostError(f"{part!r} is not a valid octal number in an IPv4 address")
        return int(part, 8)
    return int(part)


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` (a URL's host, IPv6 without brackets) denotes, or None for a DNS name.

    Raises:
        HostError: the host is a malformed or scoped address.
    """
    if ":" in host:
        if "%" in host:
            raise HostError("IPv6 addresses with a zone (%) are not allowed")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise HostError(f"{host!r} is not a valid IPv6 address") from None
    return parse_ipv4_legacy(host)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries traffic to, if it is one of the embedding forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    for prefix in _NAT64:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def canonical(address: IPAddress) -> IPAddress:
    """The address to connect to: an IPv4-mapped IPv6 address is its IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal_reason(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why a fetch may not connect to `address`, or None when it may.

    Args:
        address: The resolved or literal address.
        allowed: Networks the deployment explicitly opened (an intranet, a test server);
            an address inside one is allowed whatever else it is.
    """
    allowed = tuple(allowed)
    if _inside(address, allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = refusal_reason(inner, allowed)
            return None if reason is None else f"{reason} (inside the IPv6 address {address})"
    for network, reason in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return f"{address} is {reason}"
    flags = ("private", "loopback", "link_local", "multicast", "reserved", "unspecified", "site_local")
    for flag in flags:
        if getattr(address, f"is_{flag}", False):
            return f"{address} is {flag.replace('_', '-')}"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def _inside(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)
