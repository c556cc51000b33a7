"""Header and address checks: what may go into a message header, and what counts as an address.

Header injection is refused, not repaired: any control character (CR, LF, NUL, tab, DEL, NEL ...)
or Unicode line/paragraph separator in a header field is an error naming the field. Python's
``email`` package would refuse CR/LF too when rendering; checking first gives the caller a clear
message and guarantees nothing reaches the ledger or the SMTP server.

Recipients are bare addresses (``name@domain.example``), never display-name forms. That removes
the parser differentials that let ``"x@allowed.example" <y@evil.example>`` or
``alice(comment)@evil.example`` mean one domain to a policy check and another to the mailer: each
address must match a strict dot-atom grammar *and* parse, with ``email.headerregistry``, to exactly
itself with no defects. Internationalized domains are accepted in their ASCII (``xn--``) form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from email.headerregistry import Address
from email.policy import default as default_policy

__all__ = [
    "MessageRuleError",
    "check_header_text",
    "domain_allowed",
    "normalize_domain",
    "normalize_domain_pattern",
    "parse_address",
]

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_MAX_ADDRESS, _MAX_LOCAL = 254, 64
_NAMES = {"\r": "CR (\\r)", "\n": "LF (\\n)", "\t": "TAB (\\t)", "\x00": "NUL (\\x00)"}


class MessageRuleError(ValueError):
    """A message the server refuses to compose; the message names the field and the fix."""


def check_header_text(field: str, value: str) -> str:
    """Refuse ``value`` for a header field if it holds a control character or a line break.

    Returns:
        ``value`` unchanged.

    Raises:
        MessageRuleError: naming ``field`` and the offending character.
    """
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            name = _NAMES.get(char, f"U+{ord(char):04X}")
            raise MessageRuleError(
                f"{field} contains a control character, {name}: header fields must be a single line "
                "of text. Remove line breaks and control characters from it and call again."
            )
    return value


def normalize_domain(domain: str, field: str = "domain") -> str:
    """A domain in lower case, checked label by label.

    Raises:
        MessageRuleError: ``domain`` is not a dotted host name (IP literals and non-ASCII forms included).
    """
    check_header_text(field, domain)
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise MessageRuleError(
            f"{field} {domain!r} is not a valid domain: use a host name such as 'example.com' "
            "(internationalized names in their xn-- form; no IP addresses)."
        )
    return ".".join(labels)


def parse_address(field: str, value: str) -> str:
    """Check that ``value`` is one bare e-mail address and return it with its domain in lower case.

    Args:
        field: The argument it came from, for messages (``to[0]``, ``reply_to``).
        value: The text given.

    Raises:
        MessageRuleError: ``value`` holds a control character, a display name, several addresses,
            comments or quoting, or is not ``local@domain`` with a valid domain.
    """
    check_header_text(field, value)
    local, at, domain = value.partition("@")
    if not at or not _LOCAL.match(local) or len(local) > _MAX_LOCAL or len(value) > _MAX_ADDRESS:
        raise MessageRuleError(
            f"{field} {value!r} is not an e-mail address: give a bare address such as "
            "'name@example.com', without a display name, quotes, comments or spaces."
        )
    address = f"{local}@{normalize_domain(domain, field=f'the domain of {field}')}"
    # The mailer renders headers with this parser: it must read the address exactly as we did.
    parsed = default_policy.header_factory("To", address)
    addresses: Sequence[Address] = getattr(parsed, "addresses", ())
    if parsed.defects or len(addresses) != 1 or addresses[0].addr_spec != address:
        raise MessageRuleError(f"{field} {value!r} is not a single plain e-mail address.")
    return address


def normalize_domain_pattern(pattern: str) -> str:
    """An ``allowed_domains`` entry in lower case: a domain, or ``*.`` and a domain for its subdomains.

    Raises:
        MessageRuleError: the entry is neither.
    """
    if pattern.startswith("*."):
        return "*." + normalize_domain(pattern[2:], field="allowed_domains entry")
    return normalize_domain(pattern, field="allowed_domains entry")


def domain_allowed(address: str, patterns: Iterable[str]) -> bool:
    """Whether the (parsed) address's domain matches one of ``patterns``.

    The patterns mean what the policy's ``email_domains`` constraint means: ``example.com`` is that
    domain exactly, ``*.example.com`` any subdomain of it (whole labels: never ``evilexample.com``).
    """
    domain = address.rpartition("@")[2].lower()
    for pattern in patterns:
        if pattern.startswith("*.") and domain.endswith(pattern[1:]):
            return True
        if domain == pattern:
            return True
    return False
