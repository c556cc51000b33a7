"""Policy checks on argument values that JSON schema cannot say.

`email_domains`, `url_hosts` and `sql_tables` name what an argument may point
at. Each check is built once from the policy and returns the problem as text,
or None when the value passes. Domain and host patterns match whole DNS
labels (`*.example.com` matches `eu.example.com`, never `evilexample.com`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from governance.hostnames import host_matches as _matches
from governance.hostnames import string_values as _strings

ValueCheck = Callable[[Any], str | None]


# Bare addresses only: a display name or a comment ("a@ok.example (b@evil.example)")
# is read differently by different parsers, so the guard and the server could
# disagree about who the recipient is.
_BARE_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+$")


def email_domains(domains: Sequence[str]) -> ValueCheck:
    """Every address in the value must be a bare address at one of `domains`."""

    def check(value: Any) -> str | None:
        for address in _strings(value):
            if not _BARE_ADDRESS.match(address):
                return f"{address!r} is not a bare email address (write name@domain, nothing else)"
            if not _matches(address.rpartition("@")[2], domains):
                return f"recipient {address!r} is not at an allowed domain ({', '.join(domains)})"
        return None

    return check


def url_hosts(hosts: Sequence[str]) -> ValueCheck:
    """Every URL in the value must point at one of `hosts`."""

    def check(value: Any) -> str | None:
        for text in _strings(value):
            try:
                host = urlsplit(text).hostname
            except ValueError:
                host = None
            if not host or not _matches(host, hosts):
                return f"URL host {host or text!r} is not allowed (allowed: {', '.join(hosts)})"
        return None

    return check


def sql_tables(tables: Sequence[str]) -> ValueCheck:
    """A SQL query in the value may read only `tables` (CTE names it defines itself are fine)."""
    import sqlglot  # imported on first use: only deployments with SQL constraints pay for it
    from sqlglot import exp

    allowed = {table.lower() for table in tables}

    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        try:
            statements = sqlglot.parse(value, read="sqlite")
        except sqlglot.errors.ParseError:
            return "the query could not be parsed as SQL; send exactly one SELECT statement"
        referenced: set[str] = set()
        for statement in statements:
            if statement is None:
                continue
            defined = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
            referenced |= {t.name.lower() for t in statement.find_all(exp.Table)} - defined
        refused = sorted(referenced - allowed)
        if refused:
            return (
                f"the query reads table(s) {', '.join(refused)}, which the policy does not allow "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        return None

    return check
