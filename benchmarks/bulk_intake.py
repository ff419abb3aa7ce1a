"""Bulk intake: a batch of 1,000 and 10,000 requests filed in one transaction.

Each size runs on a fresh Rightful store, on PostgreSQL (`rightful_bench_bulk`, dropped and
created for each size) and on SQLite (a file in a temporary folder), through the same service
call the API and the CLI make (`rights.bulk.import_lines` in one unit of work): every line takes
the single request's path (sealed identities, clocks, acknowledgement queued, audit events).
Then the same batch again, as a retry would send it: every line reported as imported before.
Timed, with the statements sent to the store counted.

Run alone with `python -m benchmarks.bulk_intake` (`--lines 1000,10000`, `--host`, `--port`);
`make bench` runs it last (`--bulk-lines`, 0 skips; `--bulk-only`).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from benchmarks.databases import Server

__all__ = ["measure", "table"]

STORE = "rightful_bench_bulk"
Log = Callable[[str], None]


def lines(count: int) -> list[Any]:
    """Fake people from an agent service: deletions, opt-outs and copies, received last week."""
    from rightful.rights.bulk import Line

    kinds = ("delete", "opt_out_sale", "delete", "know_categories")
    return [
        Line(
            n + 2,
            {
                "external_id": f"PS-{n:06d}",
                "request_type": kinds[n % len(kinds)],
                "email": f"person.{n}@example.com",
                "name": f"Person {n}",
                "jurisdiction": "US-CA",
                "received_at": "2026-11-27",
            },
        )
        for n in range(count)
    ]


def _one(url: str, data_dir: Path, count: int) -> dict[str, Any]:
    """One size on one store: the batch, then the same batch again."""
    from rightful.core.config import Settings
    from rightful.core.db import unit_of_work
    from rightful.core.runtime import build_runtime
    from rightful.migrations import upgrade
    from rightful.rights import bulk
    from rightful.security.permissions import system_actor

    settings = Settings(data_dir=data_dir, secret_key=secrets.token_urlsafe(40), database_url=url)  # type: ignore[call-arg]
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    batch = lines(count)
    statements = _counter(runtime.engine)
    result: dict[str, Any] = {"lines": count}
    for run in ("first", "again"):
        statements["n"] = 0
        start, cpu = time.perf_counter(), time.process_time()
        with unit_of_work(runtime.sessions) as session:
            report = bulk.import_lines(
                session, settings, batch, actor=system_actor("bench"), via="cli", source="Bench"
            )
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        done = len(report.imported) if run == "first" else len(report.duplicates)
        assert done == count, f"{run}: {done} of {count}"
        result[run] = {
            "seconds": round(seconds, 2),
            # This process's own CPU: on a shared machine the wall time also counts others' load.
            "cpu_seconds": round(cpu, 2),
            "lines_per_second": round(count / seconds),
            "statements_per_line": round(statements["n"] / count, 1),
        }
    runtime.engine.dispose()
    return result


def _counter(engine: Engine) -> dict[str, int]:
    counts = {"n": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        counts["n"] += 1

    return counts


def measure(server: Server, sizes: list[int], data_dir: Path, log: Log) -> dict[str, Any]:
    """Each size on PostgreSQL and on SQLite."""
    found: dict[str, Any] = {
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        "postgresql": [],
        "sqlite": [],
    }
    for count in sizes:
        log(f"bulk intake: {count:,} lines on PostgreSQL")
        server.recreate(STORE)
        found["postgresql"].append(_one(server.url(STORE), data_dir / f"pg{count}", count))
        log(f"bulk intake: {count:,} lines on SQLite")
        folder = data_dir / f"sqlite{count}"
        found["sqlite"].append(_one("", folder, count))
    found["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    return found


def table(result: dict[str, Any]) -> str:
    """The results as a Markdown table, as docs/benchmarks.md shows them."""
    rows = [
        "| store | lines | one transaction | its CPU | lines/s | statements/line | again |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for store in ("postgresql", "sqlite"):
        for r in result[store]:
            rows.append(
                f"| {store} | {r['lines']:,} | {r['first']['seconds']} s | "
                f"{r['first']['cpu_seconds']} s | {r['first']['lines_per_second']:,} | "
                f"{r['first']['statements_per_line']} | "
                f"{r['again']['seconds']} s |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.bulk_intake`: print the table, write results/bulk_intake.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bulk_intake", description=__doc__)
    parser.add_argument("--lines", default="1000,10000", help="batch sizes, comma-separated")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.lines.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        result = measure(
            Server(args.host, args.port), sizes, Path(data_dir), lambda m: print(m, file=sys.stderr)
        )
    out = Path(__file__).parent / "results" / "bulk_intake.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(table(result))
    print(f"\nraw results: {out}")


if __name__ == "__main__":
    main()
