"""Summaries of the timings and counts, the printed table, and the JSON results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rightful
from benchmarks.databases import Server

# As reported for Fides on a comparable estate and two-core machine (see docs/benchmarks.md).
FIDES = {"end_to_end_ms": 1100, "per_minute": 76, "store_statements": 1000}
PHASES = ("submit", "verify", "execute")


def _git(*args: str) -> str:
    root = Path(__file__).parent.parent
    # A fixed git command on our own checkout; no input comes from outside.
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)  # noqa: S603, S607
    return done.stdout.strip()


def _revision() -> str:
    """The commit measured, and whether Rightful came from this checkout's src/ as it was."""
    head = _git("rev-parse", "--short", "HEAD")
    imported = Path(rightful.__file__).resolve().parent.parent
    if imported != Path(__file__).resolve().parent.parent / "src":
        return f"Rightful imported from {imported} (this checkout is at {head})"
    return head + (
        " with uncommitted changes in src/" if _git("status", "--porcelain", "src") else ""
    )


def machine(server: Server) -> dict[str, Any]:
    """Where the benchmark ran."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "date": datetime.now(UTC).date().isoformat(),
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "cpu": cpu,
        "postgresql": server.version(),
        "python": platform.python_version(),
        "rightful_revision": _revision(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }


def spread(seconds: list[float]) -> dict[str, float]:
    """Mean, median, 95th percentile, min and max, in milliseconds."""
    ms = sorted(1000 * s for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "mean_ms": round(statistics.fmean(ms), 2),
        "median_ms": round(ms[len(ms) // 2], 2),
        "p95_ms": round(p95, 2),
        "min_ms": round(ms[0], 2),
        "max_ms": round(ms[-1], 2),
        "total_s": round(sum(seconds), 2),
    }


def counts_per_request(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean counts per request for each phase and in total (statements, by verb, checkouts)."""

    def mean(summed: Counter[str]) -> dict[str, float]:
        return {k: round(v / len(records), 2) for k, v in sorted(summed.items())}

    out: dict[str, dict[str, float]] = {}
    total: Counter[str] = Counter()
    for phase in PHASES:
        summed: Counter[str] = Counter()
        for record in records:
            summed.update(record[f"{phase}_counts"])
        total.update(summed)
        out[phase] = mean(summed)
    out["total"] = mean(total)
    return out


def timings(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The spread of each phase and of the whole request."""
    out = {phase: spread([r[f"{phase}_s"] for r in records]) for phase in PHASES}
    out["end_to_end"] = spread([r["end_to_end_s"] for r in records])
    return out


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def table(result: dict[str, Any]) -> str:
    """The figures that matter, side by side."""
    seq, par, bnd = result["sequential"], result["parallel"], result["bound"]
    counts = seq["counts_per_request"]
    n = result["requests"]
    rows = [
        ("", "Rightful", "bound", "ratio", "Fides"),
        ("one request, cold: execute", _ms(result["single"]["cold"]["execute_ms"]), "", "", ""),
        (
            "one request, cold: end to end",
            _ms(result["single"]["cold"]["end_to_end_ms"]),
            "",
            "",
            "",
        ),
        (
            "one request, warm: execute",
            _ms(result["single"]["warm"]["execute_ms"]),
            _ms(bnd["sequential"]["mean_ms"]),
            f"{result['ratio']['warm_single']:.1f}x",
            "",
        ),
        (
            "one request, warm: end to end",
            _ms(result["single"]["warm"]["end_to_end_ms"]),
            "",
            "",
            _ms(FIDES["end_to_end_ms"]),
        ),
        (
            f"{n:,} in turn: execute mean",
            _ms(seq["timings"]["execute"]["mean_ms"]),
            _ms(bnd["sequential"]["mean_ms"]),
            f"{result['ratio']['execute_mean']:.1f}x",
            "",
        ),
        (
            f"{n:,} in turn: execute p95",
            _ms(seq["timings"]["execute"]["p95_ms"]),
            _ms(bnd["sequential"]["p95_ms"]),
            "",
            "",
        ),
        (
            f"{n:,} in turn: end to end mean",
            _ms(seq["timings"]["end_to_end"]["mean_ms"]),
            "",
            "",
            _ms(FIDES["end_to_end_ms"]),
        ),
        (
            f"{n:,} in turn: wall",
            f"{seq['wall_s']:,.1f} s",
            f"{bnd['sequential']['total_s']} s",
            "",
            "",
        ),
        (
            "requests a minute, 1 process",
            f"{seq['per_minute']:,.0f}",
            f"{bnd['per_minute_1']:,.0f}",
            "",
            "",
        ),
        (
            f"requests a minute, {par['processes']} processes",
            f"{par['per_minute']:,.0f}",
            f"{bnd['per_minute_parallel']:,.0f}",
            "",
            str(FIDES["per_minute"]),
        ),
        (
            "store statements a request",
            f"{counts['total'].get('store.statements', 0):g}",
            "0",
            "",
            f"~{FIDES['store_statements']:,}",
        ),
        ("  of which execution", f"{counts['execute'].get('store.statements', 0):g}", "", "", ""),
        (
            "store transactions a request",
            f"{seq['transactions_per_request']['store']:g}",
            "0",
            "",
            "",
        ),
        (
            "estate statements a request",
            f"{counts['total'].get('estate.statements', 0):g}",
            f"{bnd['statements_per_request']:g}",
            "",
            "",
        ),
        (
            "  of which execution",
            f"{counts['execute'].get('estate.statements', 0):g}",
            f"{bnd['statements_per_request']:g}",
            "",
            "",
        ),
    ]
    return _columns(rows)


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(row: tuple[str, ...]) -> str:
        rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join([row[0].ljust(widths[0]), *rest])

    lines = [line(r) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def write(result: dict[str, Any], path: Path) -> None:
    """Save every figure as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
