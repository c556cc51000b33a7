"""From raw runs to the report: median ratios per round, the targets of issue 3, and the table."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Target:
    """One target of issue 3: ``value <op> limit``."""

    id: str
    label: str
    limit: float
    at_most: bool  # True: value <= limit passes; False: value >= limit passes
    unit: str = ""

    def judge(self, value: float | None) -> dict[str, Any]:
        if value is None:
            return {"target": self.id, "value": None, "limit": self.limit, "verdict": "N/A"}
        passed = value <= self.limit if self.at_most else value >= self.limit
        # By how much it misses, as a fraction of the limit (positive = worse than the limit).
        miss = (value - self.limit) / self.limit if self.at_most else (self.limit - value) / self.limit
        return {
            "target": self.id,
            "value": value,
            "limit": self.limit,
            "verdict": "PASS" if passed else "MISS",
            "miss_by": None if passed else miss,
        }


CPU_RATIO = Target("http.cpu_per_call_ratio", "server CPU per call, governed/bare", 1.15, True)
THROUGHPUT_RATIO = Target("http.throughput_c8_ratio", "throughput at c=8, governed/bare", 0.85, False)
ADDED_P50 = Target("http.added_latency_p50_ms", "added latency p50 at c=1", 0.15, True, "ms")
ADDED_P99 = Target("http.added_latency_p99_ms", "added latency p99 at c=1", 0.5, True, "ms")
COLD_START = Target("stdio.cold_start_ratio", "stdio cold start, governed/bare", 1.2, True)
AUDIT_RATE = Target("audit.records_per_second", "audit records/s sustained", 20_000, False, "rec/s")
VERIFY_1M = Target("audit.verify_1m_seconds", "`mcpgov audit verify`, 1M records", 10.0, True, "s")


def _median(values: list[float | None] | list[float]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize_http(http: dict[str, Any]) -> dict[str, Any]:
    """Per protocol and concurrency: medians of each mode and median of the per-round ratios."""
    by_key: dict[tuple[str, int], dict[int, dict[str, dict[str, Any]]]] = defaultdict(lambda: defaultdict(dict))
    for run in http["runs"]:
        by_key[(run["protocol"], run["concurrency"])][run["round"]][run["mode"]] = run
    summary: dict[str, Any] = {}
    for (protocol, concurrency), rounds in sorted(by_key.items()):
        pairs = [(r["bare"], r["governed"]) for r in rounds.values() if "bare" in r and "governed" in r]
        cpu_ratio = [g["cpu_us_per_call"] / b["cpu_us_per_call"] for b, g in pairs if b["cpu_us_per_call"]]
        tput_ratio = [g["throughput"] / b["throughput"] for b, g in pairs if b["throughput"]]
        added_p50 = [(g["latency_us"]["p50"] - b["latency_us"]["p50"]) / 1e3 for b, g in pairs]
        added_p99 = [(g["latency_us"]["p99"] - b["latency_us"]["p99"]) / 1e3 for b, g in pairs]
        entry = {
            "rounds": len(pairs),
            "cpu_us_per_call": {
                "bare": _median([b["cpu_us_per_call"] for b, _ in pairs]),
                "governed": _median([g["cpu_us_per_call"] for _, g in pairs]),
                "ratio": _median(cpu_ratio),
                "ratio_per_round": cpu_ratio,
                "loop_thread_bare": _median([b.get("loop_thread_cpu_us_per_call") for b, _ in pairs]),
                "loop_thread_governed": _median([g.get("loop_thread_cpu_us_per_call") for _, g in pairs]),
                "other_threads_bare": _median([b.get("other_threads_cpu_us_per_call") for b, _ in pairs]),
                "other_threads_governed": _median([g.get("other_threads_cpu_us_per_call") for _, g in pairs]),
            },
            "throughput": {
                "bare": _median([b["throughput"] for b, _ in pairs]),
                "governed": _median([g["throughput"] for _, g in pairs]),
                "ratio": _median(tput_ratio),
                "ratio_per_round": tput_ratio,
            },
            "latency_ms": {
                "bare_p50": _median([b["latency_us"]["p50"] / 1e3 for b, _ in pairs]),
                "governed_p50": _median([g["latency_us"]["p50"] / 1e3 for _, g in pairs]),
                "bare_p99": _median([b["latency_us"]["p99"] / 1e3 for b, _ in pairs]),
                "governed_p99": _median([g["latency_us"]["p99"] / 1e3 for _, g in pairs]),
                "added_p50": _median(added_p50),
                "added_p99": _median(added_p99),
                "added_p50_per_round": added_p50,
                "added_p99_per_round": added_p99,
            },
            "failed_calls": sum(b["calls_failed"] + g["calls_failed"] for b, g in pairs),
        }
        summary[f"{protocol}/c{concurrency}"] = entry
    return summary


def judge_http(toolset: str, summary: dict[str, Any]) -> list[dict[str, Any]]:
    verdicts = []
    for protocol in ("modern", "legacy"):
        where = {"toolset": toolset, "protocol": protocol}
        c1, c8 = summary.get(f"{protocol}/c1"), summary.get(f"{protocol}/c8")
        # CPU per call is judged at both concurrencies: the worse of the two must meet the target.
        cpu = [e["cpu_us_per_call"]["ratio"] for e in (c1, c8) if e and e["cpu_us_per_call"]["ratio"]]
        verdicts.append({**where, **CPU_RATIO.judge(max(cpu) if cpu else None)})
        verdicts.append({**where, **THROUGHPUT_RATIO.judge(c8["throughput"]["ratio"] if c8 else None)})
        verdicts.append({**where, **ADDED_P50.judge(c1["latency_ms"]["added_p50"] if c1 else None)})
        verdicts.append({**where, **ADDED_P99.judge(c1["latency_ms"]["added_p99"] if c1 else None)})
    return verdicts


def judge_rest(report: dict[str, Any]) -> list[dict[str, Any]]:
    verdicts = []
    if "stdio_cold_start" in report:
        verdicts.append(
            {"toolset": report["stdio_cold_start"]["server"], **COLD_START.judge(report["stdio_cold_start"]["ratio"])}
        )
    if "audit_throughput" in report:
        verdicts.append(AUDIT_RATE.judge(report["audit_throughput"]["records_per_second"]))
    if "audit_verify" in report:
        verify = report["audit_verify"]
        verdict = VERIFY_1M.judge(verify["verify_seconds"])
        if verify["records"] != 1_000_000:  # smoke mode: a smaller chain says nothing about the target
            verdict = {**verdict, "verdict": "N/A", "note": f"{verify['records']} records (smoke)"}
        verdicts.append(verdict)
    return verdicts


def correctness(report: dict[str, Any]) -> dict[str, Any]:
    """Every check the benchmark makes of itself; ``ok`` only if all hold."""
    checks: list[dict[str, Any]] = []
    for toolset, http in report.get("http", {}).items():
        failed = sum(run["calls_failed"] for run in http["runs"])
        checks.append(
            {
                "check": f"http.{toolset}.every_answer_successful",
                "ok": failed == 0 and all(run["calls"] > 0 for run in http["runs"]),
                "failed_calls": failed,
                "errors": [e for run in http["runs"] for e in run["errors"]][:5],
            }
        )
        for audit in http["audit_checks"]:
            checks.append(
                {
                    "check": f"http.{toolset}.round{audit['round']}.records_equal_calls",
                    "ok": audit["records_equal_calls"],
                    **audit,
                }
            )
            checks.append({"check": f"http.{toolset}.round{audit['round']}.chain_verifies", "ok": audit["chain_ok"]})
    for toolset, inprocess in report.get("inprocess", {}).items():
        checks.append(
            {
                "check": f"inprocess.{toolset}.records_equal_calls",
                "ok": inprocess["audit_records"] == inprocess["calls_ok"],
                "records": inprocess["audit_records"],
                "calls_ok": inprocess["calls_ok"],
            }
        )
    if "audit_throughput" in report:
        throughput = report["audit_throughput"]
        checks.append({"check": "audit.throughput.records_equal_appends", "ok": throughput["records_equal_appends"]})
        checks.append({"check": "audit.throughput.chain_verifies", "ok": throughput["chain_ok"]})
    if "audit_verify" in report:
        checks.append({"check": "audit.verify.generated_chain_verifies", "ok": report["audit_verify"]["chain_ok"]})
    for part, error in report.get("failed_parts", {}).items():
        checks.append({"check": f"{part}.ran", "ok": False, "error": error})
    return {"ok": bool(checks) and all(check["ok"] for check in checks), "checks": checks}


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "rec/s":
        return f"{value:,.0f} rec/s"
    if unit in ("ms", "s"):
        return f"{value:.3f} {unit}" if abs(value) < 10 else f"{value:.1f} {unit}"
    return f"{value:.2f}"


def print_table(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, 110))
    targets = {t.id: t for t in (CPU_RATIO, THROUGHPUT_RATIO, ADDED_P50, ADDED_P99, COLD_START, AUDIT_RATE, VERIFY_1M)}
    table = Table(title="mcpgov governance cost vs the bare SDK (medians over rounds)", show_lines=False)
    for column in ("target", "where", "limit", "measured", "verdict"):
        table.add_column(column, justify="right" if column in ("limit", "measured") else "left")
    for verdict in report["targets"]:
        target = targets[verdict["target"]]
        where = " ".join(str(verdict[k]) for k in ("toolset", "protocol") if k in verdict)
        limit = ("≤ " if target.at_most else "≥ ") + _fmt(target.limit, target.unit)
        style = {"PASS": "green", "MISS": "red"}.get(verdict["verdict"], "yellow")
        table.add_row(
            target.label, where, limit, _fmt(verdict["value"], target.unit), f"[{style}]{verdict['verdict']}[/]"
        )
    console.print(table)

    info = Table(title="in-process (mcp.Client(server)) and raw numbers", show_lines=False)
    for column in ("what", "bare", "governed", "ratio"):
        info.add_column(column, justify="left" if column == "what" else "right")
    for toolset, inprocess in report.get("inprocess", {}).items():
        info.add_row(
            f"{toolset} in-process µs/call",
            f"{inprocess['bare_us']:.0f}",
            f"{inprocess['governed_us']:.0f}",
            f"{inprocess['ratio']:.2f}",
        )
    for toolset, summary in report.get("http_summary", {}).items():
        for key, entry in summary.items():
            info.add_row(
                f"{toolset} {key} calls/s",
                f"{entry['throughput']['bare']:.0f}",
                f"{entry['throughput']['governed']:.0f}",
                f"{entry['throughput']['ratio']:.2f}",
            )
            info.add_row(
                f"{toolset} {key} CPU µs/call",
                f"{entry['cpu_us_per_call']['bare']:.0f}",
                f"{entry['cpu_us_per_call']['governed']:.0f}",
                f"{entry['cpu_us_per_call']['ratio']:.2f}",
            )
    console.print(info)
    state = "[green]all hold[/]" if report["correctness"]["ok"] else "[red]FAILED[/]"
    console.print(f"correctness (records == calls, chains verify, every answer a result): {state}")
    machine = report["machine"]
    console.print(
        f"machine: {machine['cores']} cores, {machine['cpu_model']}; load average "
        f"{machine['load_average_at_start']} at start, {machine.get('load_average_at_end')} at end"
    )
