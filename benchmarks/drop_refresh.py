"""The DROP index between cycles: built once, then refreshed with nothing changed, and after
people were added, had their e-mail changed and were erased in the estate (docs/drop.md).

    .venv/bin/python -m benchmarks.drop_refresh                    # 100,000 customers
    .venv/bin/python -m benchmarks.drop_refresh --customers 1000000 --changes 1000

Uses its own databases (`rightful_bench_drop_refresh_estate`, `..._store`; names can be
prefixed with --prefix), since it changes the estate. Writes benchmarks/results/drop_refresh.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from benchmarks import estate
from benchmarks.databases import Server
from benchmarks.store import settings_values
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import build_runtime
from rightful.demo.estate import SYSTEMS
from rightful.demo.setup import load_data_map
from rightful.drop.refresh import refresh
from rightful.migrations import upgrade

RESULTS = Path(__file__).parent / "results"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def change_estate(conninfo: str, customers: int, changes: int) -> None:
    """`changes` people added, `changes` e-mails changed, `changes` subscriptions erased."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "INSERT INTO customers (id, email, first_name, last_name, password_hash, created_at) "
            "SELECT g, 'new.' || g || '@example.net', 'New', 'Person', 'x', now() "
            "FROM generate_series(%s, %s) g",
            (customers + 1, customers + changes),
        )
        conn.execute(
            "UPDATE customers SET email = 'changed.' || id || '@example.net' "
            "WHERE id %% %s = 7 AND id <= %s",
            (max(customers // changes, 1), customers),
        )
        conn.execute(
            "DELETE FROM marketing_subscriptions WHERE id IN "
            "(SELECT id FROM marketing_subscriptions ORDER BY id LIMIT %s)",
            (changes,),
        )


def _timed(runtime: Any, **options: bool) -> dict[str, Any]:
    started = time.perf_counter()
    with unit_of_work(runtime.sessions) as session:
        done = refresh(session, runtime.settings, **options)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "full": done.full,
        "rows": done.rows,
        "entries": done.entries,
        "rewritten": done.rewritten,
        "load": os.getloadavg(),
    }


def run(customers: int, changes: int, prefix: str) -> dict[str, Any]:
    """Build the estate and the store, then time the build and two refreshes."""
    server = Server()
    name, store = f"{prefix}estate", f"{prefix}store"
    conninfo = server.conninfo(name)
    result: dict[str, Any] = {"customers": customers, "changes": changes}
    _log(f"building the estate {name} ({customers:,} customers)")
    server.recreate(name)
    estate.build(conninfo, customers, _log)
    server.recreate(store)
    folder = Path(tempfile.mkdtemp(prefix="rightful-bench-drop-refresh-"))
    values = {**settings_values(server, folder), "database_url": server.url(store)}
    runtime = build_runtime(Settings(**values))
    upgrade(runtime.engine)
    load_data_map(runtime, dict.fromkeys(SYSTEMS, server.url(name)))
    result["load_before"] = os.getloadavg()
    result["build"] = _timed(runtime, full=True)
    _log(f"build: {result['build']}")
    result["unchanged"] = _timed(runtime)
    _log(f"refresh, nothing changed: {result['unchanged']}")
    change_estate(conninfo, customers, changes)
    result["changed"] = _timed(runtime)
    _log(f"refresh after the changes: {result['changed']}")
    runtime.engine.dispose()
    return result


def main(argv: list[str] | None = None) -> None:
    """Run and print; write benchmarks/results/drop_refresh.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drop_refresh", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--prefix", default="rightful_bench_drop_refresh_")
    args = parser.parse_args(argv)
    result = run(args.customers, args.changes, args.prefix)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "drop_refresh.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
