"""``mcpgov audit``: verify the chain, look at the newest records, export the log.

None of these commands creates a database: a wrong ``--db`` is an error (exit 2),
not a new empty log that verifies as intact.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import orjson
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from governance.audit._store import AuditStore, StoredRecord
from governance.audit._verify import verify_chain
from governance.errors import ConfigurationError
from governance.settings import GovernanceSettings

app = typer.Typer(
    name="audit",
    help="Verify, read and export the tamper-evident audit log.",
    no_args_is_help=True,
    add_completion=False,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="MCPGOV_DB_URL",
        help="SQLAlchemy URL of the audit database [default: mcpgov.db in the state directory]",
        show_default=False,
    ),
]

SUPPORTED_FORMATS = ("jsonl",)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@contextmanager
def _opened(db: str | None) -> Iterator[AuditStore]:
    url = db or GovernanceSettings().resolved_db_url()
    try:
        store = AuditStore.open(url, create=False)
    except ConfigurationError as exc:
        _fail(f"{exc}; pass --db or set MCPGOV_DB_URL", code=2)
    try:
        yield store
    finally:
        store.close()


def _json_line(stored: StoredRecord) -> bytes:
    # The record is embedded as the exact bytes that were hashed, so anyone can
    # re-check an export: sha256(prev_hash + "\n" + canonical JSON of record).
    line = {
        "seq": stored.seq,
        "prev_hash": stored.prev_hash,
        "hash": stored.hash,
        "record": orjson.Fragment(stored.body),
    }
    return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


@app.command()
def verify(db: DbOption = None) -> None:
    """Check every record's hash and link; exit 1 at the first edited, deleted or inserted record."""
    with _opened(db) as store:
        report = verify_chain(store)
    if report.ok:
        typer.echo(f"ok: {report.checked} records, chain intact")
        return
    typer.echo(f"first bad record: seq {report.first_bad_seq} ({report.problem}): {report.detail}")
    raise typer.Exit(1)


@app.command()
def tail(
    db: DbOption = None,
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many records to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show the newest records, newest last."""
    with _opened(db) as store:
        records = store.tail(lines)
    if as_json:
        for stored in records:
            sys.stdout.write(_json_line(stored).decode())
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # seq, time and hash are what an operator copies; the rest may wrap.
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("time", no_wrap=True)
    for name in ("principal", "server", "tool", "decision", "outcome"):
        table.add_column(name, overflow="fold")
    table.add_column("hash", no_wrap=True)
    for stored in records:
        record = stored.record
        table.add_row(
            str(stored.seq),
            record.time,
            record.principal,
            record.server,
            record.tool or record.method,
            record.decision or "",
            record.outcome,
            stored.hash[:10],
        )
    Console().print(table)


@app.command()
def export(
    db: DbOption = None,
    format_: Annotated[
        str, typer.Option("--format", help=f"Output format; one of: {', '.join(SUPPORTED_FORMATS)}.")
    ] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export every record with its seq, prev_hash and hash, oldest first."""
    if format_ not in SUPPORTED_FORMATS:
        raise typer.BadParameter(
            f"unsupported format {format_!r}; the supported format is jsonl", param_hint="--format"
        )
    if output is not None and not output.parent.is_dir():
        _fail(f"cannot write {output}: the directory {output.parent} does not exist", code=2)
    with _opened(db) as store:
        if output is None:
            for stored in store.iter_records():
                sys.stdout.write(_json_line(stored).decode())
            return
        _export_to_file(store, output)


def _export_to_file(store: AuditStore, output: Path) -> None:
    # Written beside the target and renamed into place, so a failed export never
    # leaves a truncated file that looks like a complete (shorter) log.
    fd, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for stored in store.iter_records():
                out.write(_json_line(stored))
        os.replace(temp_name, output)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    app()
