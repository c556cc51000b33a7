"""Helpers for testing code that runs behind governance (shipped, like structlog's capture_logs).

`governed_server` builds a governed copy of any `MCPServer` with a policy from
YAML text and a throwaway audit store; `audit_records` reads back what it wrote;
`fake_clock` moves the limits guard's time (budgets, loop windows) without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mcp.server.mcpserver import MCPServer

from governance.audit import AuditStore
from governance.model import AuditRecord, Transport
from governance.policy import Policy
from governance.sdk_adapter import Governance, govern


def open_audit(directory: Path) -> AuditStore:
    """An audit store in a SQLite file under `directory` (a pytest `tmp_path`)."""
    return AuditStore.open(f"sqlite:///{directory / 'audit.db'}")


def governed_server(
    server: MCPServer,
    policy_yaml: str,
    audit: AuditStore,
    *,
    principal: str = "local",
    transport: Transport = "memory",
) -> MCPServer:
    """`server` behind governance with the policy in `policy_yaml`, auditing to `audit`."""
    governance = Governance(policy=Policy.from_text(policy_yaml), audit=audit, principal=principal, transport=transport)
    return govern(server, governance)


def audit_records(audit: AuditStore) -> list[AuditRecord]:
    """Every record in the store, oldest first."""
    return [stored.record for stored in audit.iter_records()]


class FakeClock:
    """A wall clock (seconds since the epoch) that moves only when told to."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        self.now += seconds


@contextmanager
def fake_clock(start: float = 1_785_000_000.0) -> Iterator[FakeClock]:
    """Run the limits guard's budgets and loop windows on a `FakeClock` for the duration.

    Rate limits keep the `limits` library's own clock; test them within one window.
    """
    from governance.guards.limits import set_clock

    clock = FakeClock(start)
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
