"""``python -m bench``: run every part of the benchmark, write the JSON report, print the table.

Parts (``--parts``): ``http`` (CPU per call, throughput and latency over HTTP,
bare and governed, both protocol paths), ``inprocess`` (``mcp.Client(server)``),
``stdio`` (cold start), ``audit`` (sustained appends, verifying 1M records).
Each part runs in processes of its own, so nothing one part imports or
warms up flatters another.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from bench import coldstart, httpbench, machine, report
from bench.toolsets import POLICY_PATH, TOOLSETS

PARTS = ("http", "inprocess", "stdio", "audit")
DEFAULT_OUTPUT = Path(__file__).parent / "results" / "report.json"


@dataclass(frozen=True)
class Settings:
    """How long and how often each part measures."""

    rounds: int
    toolsets: tuple[str, ...]
    concurrencies: tuple[int, ...] = (1, 8)
    warmup: float = 1.0
    duration: float = 5.0
    inprocess_calls: int = 2_000
    stdio_runs: int = 7
    audit_seconds: float = 5.0
    audit_concurrency: int = 64
    verify_records: int = 1_000_000

    @classmethod
    def smoke(cls) -> Settings:
        """Tiny and fast: proves the benchmark works and its checks hold, measures nothing worth reading."""
        return cls(
            rounds=1,
            toolsets=("fixture",),
            warmup=0.2,
            duration=0.5,
            inprocess_calls=50,
            stdio_runs=1,
            audit_seconds=0.5,
            audit_concurrency=16,
            verify_records=5_000,
        )


def _json_subprocess(args: list[str], timeout: float) -> dict[str, Any]:
    done = subprocess.run([sys.executable, *args], capture_output=True, check=False, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {done.stderr.decode()[-3000:]}")
    result: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return result


def _http(settings: Settings, work_dir: Path, result: dict[str, Any], say: Any) -> None:
    result["http"], result["http_summary"] = {}, {}
    for name in settings.toolsets:
        say(f"[bold]HTTP[/] {name}: {settings.rounds} rounds, bare and governed alternating")
        http = httpbench.run_http(
            TOOLSETS[name],
            rounds=settings.rounds,
            concurrencies=settings.concurrencies,
            warmup=settings.warmup,
            duration=settings.duration,
            work_dir=work_dir,
            say=say,
        )
        result["http"][name] = http
        result["http_summary"][name] = report.summarize_http(http)


def _inprocess(settings: Settings, work_dir: Path, result: dict[str, Any], say: Any) -> None:
    result["inprocess"] = {}
    for name in settings.toolsets:
        say(f"[bold]in-process[/] {name}: mcp.Client(server), {settings.inprocess_calls} calls per round")
        result["inprocess"][name] = _json_subprocess(
            [
                "-m",
                "bench.inprocess",
                "--toolset",
                name,
                "--calls",
                str(settings.inprocess_calls),
                "--rounds",
                str(settings.rounds),
                "--data-dir",
                str(work_dir / "data"),
                "--db-dir",
                str(work_dir),
            ],
            timeout=1800,
        )


def _stdio(settings: Settings, work_dir: Path, result: dict[str, Any], say: Any) -> None:
    say(f"[bold]stdio cold start[/]: {settings.stdio_runs} spawns of each")
    result["stdio_cold_start"] = coldstart.measure("knowledge_base", runs=settings.stdio_runs, work_dir=work_dir)


def _audit(settings: Settings, work_dir: Path, result: dict[str, Any], say: Any) -> None:
    say(f"[bold]audit[/]: appends for {settings.audit_seconds} s, then verify {settings.verify_records:,} records")
    result["audit_throughput"] = _json_subprocess(
        [
            "-m",
            "bench.auditbench",
            "throughput",
            "--db",
            str(work_dir / "append-rate.db"),
            "--concurrency",
            str(settings.audit_concurrency),
            "--seconds",
            str(settings.audit_seconds),
            "--warmup",
            str(min(1.0, settings.audit_seconds)),
        ],
        timeout=600,
    )
    result["audit_verify"] = _json_subprocess(
        [
            "-m",
            "bench.auditbench",
            "verify",
            "--db",
            str(work_dir / "verify.db"),
            "--records",
            str(settings.verify_records),
        ],
        timeout=1800,
    )


_PARTS = {"http": _http, "inprocess": _inprocess, "stdio": _stdio, "audit": _audit}


def run(settings: Settings, parts: tuple[str, ...], work_dir: Path, console: Console) -> dict[str, Any]:
    say = console.print
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": settings.__dict__ | {"parts": list(parts)},
        "machine": machine.describe_machine(),
        "libraries": machine.library_versions(),
        "code": machine.code_state(),
        "policy": str(POLICY_PATH.relative_to(machine.ROOT)),
        "toolsets": {name: {"tool": TOOLSETS[name].tool, "arguments": TOOLSETS[name].arguments,
                            "description": TOOLSETS[name].description} for name in settings.toolsets},
    }  # fmt: skip
    started = time.perf_counter()
    for part in parts:
        # A part that fails (a server that does not start, say) is reported as
        # failed and the other parts still run: a half report beats none.
        try:
            _PARTS[part](settings, work_dir, result, say)
        except Exception as error:
            say(f"[red]{part} failed:[/] {error}")
            result.setdefault("failed_parts", {})[part] = f"{type(error).__name__}: {error}"[-3000:]
    result["machine"]["load_average_at_end"] = machine.load_average()
    result["elapsed_seconds"] = round(time.perf_counter() - started, 1)
    targets = []
    for name, summary in result.get("http_summary", {}).items():
        targets += report.judge_http(name, summary)
    targets += report.judge_rest(result)
    result["targets"] = targets
    result["correctness"] = report.correctness(result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a tiny fast run: checks that it works, not timings")
    parser.add_argument("--rounds", type=int, default=3, help="bare/governed rounds (default 3)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the JSON report")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--toolsets", help=f"comma-separated subset of {','.join(TOOLSETS)}")
    parser.add_argument("--duration", type=float, help="seconds measured per HTTP load run")
    parser.add_argument("--work-dir", type=Path, help="keep servers' logs and databases here (default: a temp dir)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    settings = Settings.smoke() if args.smoke else Settings(rounds=args.rounds, toolsets=tuple(TOOLSETS))
    overrides: dict[str, Any] = {}
    if args.toolsets:
        overrides["toolsets"] = tuple(name.strip() for name in args.toolsets.split(","))
    if args.duration:
        overrides["duration"] = args.duration
    if not args.smoke and args.rounds:
        overrides["rounds"] = args.rounds
    settings = Settings(**(settings.__dict__ | overrides))
    parts = tuple(part.strip() for part in args.parts.split(","))
    if unknown := [p for p in parts if p not in PARTS] + [t for t in settings.toolsets if t not in TOOLSETS]:
        parser.error(f"unknown part or tool set: {', '.join(unknown)}")

    console = Console(stderr=True, soft_wrap=True)
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="mcpgov-bench-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = run(settings, parts, work_dir, console)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    report.print_table(result)
    console.print(f"report: {args.output}")
    if not result["correctness"]["ok"]:
        failed = [c["check"] for c in result["correctness"]["checks"] if not c["ok"]]
        console.print(f"[red]correctness checks failed:[/] {', '.join(failed)}")
        return 1
    if args.strict and any(t["verdict"] == "MISS" for t in result["targets"]):
        return 1
    return 0
