"""What each part of governance costs over HTTP, and what each proposed fix would save.

``python -m bench.breakdown`` serves the fixture tool set bare, governed, and
governed with each diagnostic patch of `bench.experiments`, in alternating
rounds, and loads each on the 2026-07-28 path at concurrency 1 and 8. Each
round's numbers are compared with that round's bare server. The variants that
keep a durable audit are checked as the main benchmark checks them (records
equal calls, the chain verifies). Writes ``bench/results/breakdown.json``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench import httpbench, machine
from bench.toolsets import TOOLSETS

VARIANTS: dict[str, tuple[str, str]] = {
    "bare": ("bare", ""),
    "governed": ("governed", ""),
    "governed +no-log": ("governed", "no-log"),
    "governed +raw-sqlite": ("governed", "raw-sqlite"),
    "governed +no-log +raw-sqlite": ("governed", "no-log,raw-sqlite"),
    "governed +inline-sqlite": ("governed", "inline-sqlite"),
    "governed +no-log +inline-sqlite": ("governed", "no-log,inline-sqlite"),
    "governed +null-audit +no-log": ("governed", "null-audit,no-log"),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--toolset", default="fixture", choices=sorted(TOOLSETS))
    parser.add_argument("--variants", help="comma-separated subset of the variant names")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "breakdown.json")
    args = parser.parse_args(argv)
    names = [v.strip() for v in args.variants.split(";")] if args.variants else list(VARIANTS)
    toolset = TOOLSETS[args.toolset]
    console = Console(stderr=True, soft_wrap=True)
    runs: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    start_load = machine.load_average()
    with tempfile.TemporaryDirectory(prefix="mcpgov-breakdown-") as tmp:
        work_dir = Path(tmp)
        for round_index in range(args.rounds):
            order = names[round_index % len(names) :] + names[: round_index % len(names)]
            for name in order:
                tag = f"{round_index}-{name.replace(' ', '').replace('+', '_')}"
                try:
                    checked = run_variant(toolset, name, round_index, work_dir, tag, args.duration, runs, console)
                except Exception as error:  # one variant failing (a server that died) must not lose the rest
                    console.print(f"[red]round {round_index + 1} {name} failed:[/] {str(error)[-500:]}")
                    failures.append({"round": round_index, "variant": name, "error": str(error)[-2000:]})
                    continue
                if checked is not None:
                    checks.append(checked)
    summary = summarize(runs, names)
    report = {
        "machine": machine.describe_machine()
        | {"load_average_at_start": start_load, "load_average_at_end": machine.load_average()},
        "code": machine.code_state(),
        "toolset": toolset.name,
        "rounds": args.rounds,
        "summary": summary,
        "audit_checks": checks,
        "audit_checks_ok": all(c["records_equal_calls"] and c["chain_ok"] for c in checks),
        "failures": failures,
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    table = Table(
        title=f"{toolset.name}, 2026-07-28 path: medians over {args.rounds} rounds (Δ = vs that round's bare)"
    )
    for column in (
        "variant",
        "c",
        "calls/s",
        "tput ratio",
        "CPU µs/call",
        "Δ CPU µs",
        "CPU ratio",
        "loop µs",
        "other µs",
        "p50 µs",
        "Δ p50 µs",
        "Δ p99 µs",
    ):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for row in summary:
        table.add_row(
            row["variant"], str(row["concurrency"]), f"{row['throughput']:.0f}", f"{row['throughput_ratio']:.2f}",
            f"{row['cpu_us']:.0f}", f"{row['added_cpu_us']:+.0f}", f"{row['cpu_ratio']:.2f}", f"{row['loop_us']:.0f}",
            f"{row['other_us']:.0f}", f"{row['p50_us']:.0f}", f"{row['added_p50_us']:+.0f}", f"{row['added_p99_us']:+.0f}",
        )  # fmt: skip
    Console(width=160).print(table)
    console.print(
        f"audit checks (records == calls, chain verifies): {'all hold' if report['audit_checks_ok'] else 'FAILED'}"
    )
    console.print(f"written: {args.output}")


def run_variant(
    toolset: Any,
    name: str,
    round_index: int,
    work_dir: Path,
    tag: str,
    duration: float,
    runs: list[dict[str, Any]],
    console: Console,
) -> dict[str, Any] | None:
    """Serve one variant, load it at c=1 and c=8, and check its audit (unless it keeps none)."""
    mode, experiment = VARIANTS[name]
    server = httpbench.start_server(toolset, mode, work_dir, tag, experiment)
    calls_ok = 0
    try:
        for concurrency in (1, 8):
            result = httpbench.run_load(
                server, protocol="modern", concurrency=concurrency, warmup=0.5, duration=duration
            )
            calls_ok += result["calls_ok_total"]
            runs.append({"round": round_index, "variant": name, **result})
            if not result["calls"]:
                console.print(
                    f"round {round_index + 1} {name} c={concurrency}: no successful call: {result['errors'][:2]}"
                )
                continue
            console.print(
                f"round {round_index + 1} {name:<36} c={concurrency}: {result['throughput']:6.0f}/s "
                f"cpu {result['cpu_us_per_call']:5.0f} µs (loop {result['loop_thread_cpu_us_per_call']:4.0f}, "
                f"other {result['other_threads_cpu_us_per_call']:4.0f}) p50 {result['latency_us']['p50']:5.0f} µs "
                f"load {result['load_average'][0]}"
            )
    finally:
        server.stop()
    if server.db_path is None or "null-audit" in experiment:
        return None
    return {"round": round_index, "variant": name, **httpbench.audit_check(server.db_path, calls_ok)}


def summarize(runs: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        for concurrency in (1, 8):
            mine = {r["round"]: r for r in runs if r["variant"] == name and r["concurrency"] == concurrency}
            bare = {r["round"]: r for r in runs if r["variant"] == "bare" and r["concurrency"] == concurrency}
            mine = {r: run for r, run in mine.items() if run["calls"]}
            rounds = sorted(set(mine) & set(bare)) or sorted(mine)

            def med(values: list[float]) -> float:
                return statistics.median(values) if values else float("nan")

            rows.append(
                {
                    "variant": name,
                    "concurrency": concurrency,
                    "throughput": med([mine[r]["throughput"] for r in mine]),
                    "throughput_ratio": med(
                        [mine[r]["throughput"] / bare[r]["throughput"] for r in rounds if r in bare]
                    ),
                    "cpu_us": med([mine[r]["cpu_us_per_call"] for r in mine]),
                    "added_cpu_us": med(
                        [mine[r]["cpu_us_per_call"] - bare[r]["cpu_us_per_call"] for r in rounds if r in bare]
                    ),
                    "cpu_ratio": med(
                        [mine[r]["cpu_us_per_call"] / bare[r]["cpu_us_per_call"] for r in rounds if r in bare]
                    ),
                    "loop_us": med([mine[r]["loop_thread_cpu_us_per_call"] for r in mine]),
                    "other_us": med([mine[r]["other_threads_cpu_us_per_call"] for r in mine]),
                    "p50_us": med([mine[r]["latency_us"]["p50"] for r in mine]),
                    "added_p50_us": med(
                        [mine[r]["latency_us"]["p50"] - bare[r]["latency_us"]["p50"] for r in rounds if r in bare]
                    ),
                    "added_p99_us": med(
                        [mine[r]["latency_us"]["p99"] - bare[r]["latency_us"]["p99"] for r in rounds if r in bare]
                    ),
                }
            )
    return rows


if __name__ == "__main__":
    main()
