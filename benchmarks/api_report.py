"""The API run's results: merged run after run by deployment, and the table against the aims
of issue 12 (benchmarks/api_run.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.report import _columns

AIMS = {
    "server_ms": 50,
    "access_per_minute": 5000,
    "erasure_per_minute": 3000,
    "backlog_s": 120,
    "store_statements": 20,
    "memory_mib": 300,
    "cold_start_s": 1.0,
}


def merge(path: Path, result: dict[str, Any]) -> dict[str, Any]:
    """Earlier runs' figures kept unless this run measured the same; each run's machine noted."""
    kept = json.loads(path.read_text()) if path.exists() else {}
    deployments = kept.get("deployments", {})
    for name, figures in result.get("deployments", {}).items():
        merged = deployments.setdefault(name, {})
        for key, value in figures.items():  # a kind's sizes measured earlier are kept
            if isinstance(value, dict) and key in ("access", "erasure"):
                merged[key] = merged.get(key, {}) | value
            else:
                merged[key] = value
        merged.setdefault("runs", []).append(
            {
                "machine": result["machine"],
                "uptime": result["uptime"],
                "cold_start_s": result.get("cold_start_s"),
                "measured": sorted(figures),
            }
        )
    return result | {"deployments": deployments}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _sizes(result: dict[str, Any], kind: str) -> list[str]:
    found = {int(s) for f in result["deployments"].values() for s in f.get(kind, {}) if s.isdigit()}
    return [str(n) for n in sorted(found)]


def _rows(result: dict[str, Any]) -> list[tuple[str, tuple[str, ...], str]]:
    """(label, path into a deployment's figures, aim) for every line of the table."""
    rows = []
    for kind, aim in (("access", "access_per_minute"), ("erasure", "erasure_per_minute")):
        for size in _sizes(result, kind):
            at = f"{kind}, {int(size):,}" + (" alone" if size == "1" else "")
            rows += [
                (f"{at}: server ms, median", (kind, size, "server_ms", "median_ms"), "server_ms"),
                (f"{at}: end to end ms, median", (kind, size, "end_to_end_s", "median_ms"), ""),
                *([(f"{at}: a minute", (kind, size, "per_minute"), aim)] if size != "1" else []),
                (
                    f"{at}: store statements a request",
                    (kind, size, "counts_per_request", "store.statements"),
                    "store_statements",
                ),
                (f"{at}: CPU ms a request (ours)", (kind, size, "cpu_ms_per_request"), ""),
            ]
    return [
        *rows,
        ("backlog: requests", ("backlog", "requests"), ""),
        ("backlog: drain s (from workers' start)", ("backlog", "drain_s"), "backlog_s"),
        (
            "backlog: store statements a request",
            ("backlog", "counts_per_request", "store.statements"),
            "store_statements",
        ),
        ("memory, server + workers: PSS MiB", ("memory_after_runs", "pss_sum_mib"), "memory_mib"),
        ("memory: sum of peak RSS MiB", ("memory_after_runs", "peak_rss_sum_mib"), ""),
    ]


def _get(figures: dict[str, Any], path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(figures, dict) or key not in figures:
            return None
        figures = figures[key]
    return figures  # type: ignore[return-value]


def table(result: dict[str, Any]) -> str:
    """Each deployment against the issue's aims."""
    names = list(result["deployments"])
    lines: list[tuple[str, ...]] = [("", *names, "aim")]
    for label, path, aim in _rows(result):
        cells = [_fmt(_get(result["deployments"][n], path)) for n in names]
        limit = AIMS.get(aim)
        sign = ">=" if aim.endswith("per_minute") else "<="
        lines.append((label, *cells, f"{sign} {limit:,}" if limit else ""))
    cold = result.get("cold_start_s") or []
    return "\n".join(
        [
            _columns(lines),
            f"cold start, rightful serve to /healthz 200: {cold} s"
            f" (aim <= {AIMS['cold_start_s']} s)",
        ]
    )
