"""`mcpgov approvals list|show|approve|deny`: a reviewer's side of the workflow."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table

from governance.approvals._review import review
from governance.approvals._store import Approval, ApprovalStateError, ApprovalStore, Status
from governance.audit import AuditStore
from governance.errors import AuditUnavailable, ConfigurationError, PolicyError
from governance.policy import Policy, default_policy_path
from governance.settings import GovernanceSettings

app = typer.Typer(name="approvals", help="Review calls that wait for approval.", no_args_is_help=True)

DbOption = Annotated[str | None, typer.Option("--db", envvar="MCPGOV_DB_URL", help="The deployment's database URL.")]
PolicyOption = Annotated[Path | None, typer.Option("--policy", envvar="MCPGOV_POLICY", help="The policy in force.")]
ReviewerOption = Annotated[
    str, typer.Option("--as", envvar="MCPGOV_REVIEWER", help="Who is deciding (a principal with an approver role).")
]
CommentOption = Annotated[str | None, typer.Option("--comment", help="Why; a denial's comment is told to the agent.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _open(db: str | None) -> AuditStore:
    url = db or GovernanceSettings().resolved_db_url()
    try:
        return AuditStore.open(url, create=False)
    except ConfigurationError as error:
        raise _fail(f"{error}; pass --db or set MCPGOV_DB_URL", 2) from None


def _when(moment: float | None) -> str:
    return "" if moment is None else datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def _as_dict(approval: Approval) -> dict[str, object]:
    return {
        "id": approval.id,
        "status": approval.status,
        "principal": approval.principal,
        "tool": f"{approval.server}.{approval.tool}",
        "arguments": approval.arguments,
        "args_digest": approval.args_digest,
        "approvers": list(approval.approvers),
        "created_at": _when(approval.created_at),
        "expires_at": _when(approval.expires_at),
        "decided_by": approval.decided_by,
        "comment": approval.comment,
    }


@app.command("list")
def list_approvals(
    status: Annotated[str | None, typer.Option(help="pending, approved, denied, expired or consumed.")] = "pending",
    all_: Annotated[bool, typer.Option("--all", help="Every status.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    db: DbOption = None,
) -> None:
    """List approval requests (pending ones by default)."""
    allowed = ("pending", "approved", "denied", "expired", "consumed")
    if status not in allowed:
        raise _fail(f"unknown status {status!r}; use one of {', '.join(allowed)} or --all", 2)
    with _open(db) as audit:
        rows = ApprovalStore(audit.engine).list(None if all_ else cast(Status, status))
    if as_json:
        for approval in rows:
            typer.echo(json.dumps(_as_dict(approval)))
        return
    table = Table(title=f"Approvals ({'all' if all_ else status})")
    table.add_column("id", no_wrap=True)  # the reviewer copies it: never truncated
    for column in ("status", "principal", "tool", "arguments", "expires"):
        table.add_column(column, overflow="fold")
    for a in rows:
        table.add_row(a.id, a.status, a.principal, f"{a.server}.{a.tool}", json.dumps(a.arguments), _when(a.expires_at))
    Console().print(table)


@app.command("show")
def show(approval_id: str, db: DbOption = None) -> None:
    """Show one request in full, as JSON."""
    with _open(db) as audit:
        approval = ApprovalStore(audit.engine).get(approval_id)
    if approval is None:
        raise _fail(f"no approval has id {approval_id!r}; `mcpgov approvals list` shows them")
    typer.echo(json.dumps(_as_dict(approval), indent=2))


def _decide(
    approval_id: str, reviewer: str, approve: bool, comment: str | None, db: str | None, policy: Path | None
) -> None:
    try:
        loaded = Policy.load(policy or default_policy_path())
    except PolicyError as error:
        raise _fail(str(error), 2) from None
    with _open(db) as audit:
        try:
            decided = review(
                ApprovalStore(audit.engine),
                loaded,
                audit,
                approval_id,
                reviewer=reviewer,
                approve=approve,
                comment=comment,
                transport="cli",
            )
        except (ApprovalStateError, AuditUnavailable) as error:
            raise _fail(str(error)) from None
    typer.echo(f"{decided.id}: {decided.status} by {reviewer}")


@app.command("approve")
def approve(
    approval_id: str,
    reviewer: ReviewerOption,
    comment: CommentOption = None,
    db: DbOption = None,
    policy: PolicyOption = None,
) -> None:
    """Approve a pending request: the requester's identical call then runs, once."""
    _decide(approval_id, reviewer, True, comment, db, policy)


@app.command("deny")
def deny(
    approval_id: str,
    reviewer: ReviewerOption,
    comment: CommentOption = None,
    db: DbOption = None,
    policy: PolicyOption = None,
) -> None:
    """Deny a pending request; the comment goes back to the agent."""
    _decide(approval_id, reviewer, False, comment, db, policy)
