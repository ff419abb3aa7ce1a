"""Access requests executed one by one, then read together in batches (issue 12, item 1).

`python -m benchmarks.access_batches --customers 20000 --requests 200`: on the estate `make bench`
built (read only: access requests change nothing there), a store of its own (never the main
benchmark's, which another run may be using) gets the same verified access requests twice; the
worker's pass (`worker.jobs.execute`) runs them once with `access_batches` off and once on, and
the time, the statements to each database and each request's rows are compared.
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

from sqlalchemy import select

from benchmarks.counting import StatementCounter, delta
from benchmarks.databases import Server, estate_name
from benchmarks.drive import capture_codes, submit_and_verify
from benchmarks.store import sample_people, settings_values
from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.core.runtime import build_runtime
from rightful.demo.estate import SYSTEMS
from rightful.demo.setup import load_data_map
from rightful.inventory import revision
from rightful.migrations import upgrade
from rightful.rights import service
from rightful.rights.models import RightsRequest
from rightful.worker.jobs import execute

STORE = "rightful_bench_access_batches"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(
    server: Server,
    counter: StatementCounter,
    args: argparse.Namespace,
    batched: bool,
) -> dict[str, Any]:
    """Stage `args.requests` verified access requests in a fresh store, then time the worker's
    passes until all are done."""
    customers, requests, batch = args.customers, args.requests, args.batch
    estate_db = args.estate_db or estate_name(customers)
    estate = server.url(estate_db)
    people = sample_people(server.conninfo(estate_db), customers, requests)
    server.recreate(args.store_db)
    revision._cache.clear()
    values = settings_values(server, Path(tempfile.mkdtemp(prefix="rightful-batches-")))
    values.update(
        database_url=server.url(args.store_db),
        access_batches=batched,
        worker_batch_size=batch,
        execution_batch_size=batch,
    )
    runtime = build_runtime(Settings(**values))
    upgrade(runtime.engine)
    load_data_map(runtime, dict.fromkeys(SYSTEMS, estate))
    issued = capture_codes()
    ids = [submit_and_verify(runtime, issued, person) for person in people]
    before = counter.snapshot()
    started = time.perf_counter()
    while execute(runtime):
        pass
    seconds = time.perf_counter() - started
    counts = delta(before, counter.snapshot())
    with runtime.sessions() as session:
        reqs = session.scalars(select(RightsRequest).where(RightsRequest.id.in_(ids)))
        rows = {
            service.identities_of(runtime.settings, r)["email"]: (r.status, r.summary.get("rows"))
            for r in reqs
        }
    runtime.engine.dispose()
    dispose_all()
    return {
        "mode": "batched" if batched else "one by one",
        "requests": len(ids),
        "total_s": round(seconds, 2),
        "per_request_ms": round(1000 * seconds / len(ids), 2),
        "requests_per_s": round(len(ids) / seconds, 1),
        "store_statements_per_request": round(counts.get("store.statements", 0) / len(ids), 1),
        "estate_statements_per_request": round(counts.get("estate.statements", 0) / len(ids), 2),
        "estate_read_ms_per_request": round(counts.get("estate.read_ms", 0) / len(ids), 2),
        "completed": sum(1 for status, _ in rows.values() if status == "completed"),
        "_rows": rows,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.access_batches", description=__doc__
    )
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100, help="requests a worker pass takes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--estate-db", default=None, help="the estate's database (built already)")
    parser.add_argument("--store-db", default=STORE, help="the store's database (recreated)")
    args = parser.parse_args(argv)
    server = Server(args.host, args.port)
    counter = StatementCounter(args.store_db)
    counter.install()  # once: it listens on every engine of the process
    results = []
    for batched in (False, True):
        _log(f"access batches: {args.requests} requests, batched={batched}")
        results.append(run(server, counter, args, batched))
    same = results[0].pop("_rows") == results[1].pop("_rows")
    print(
        json.dumps(
            {
                "customers": args.customers,
                "batch": args.batch,
                "same_rows_per_request": same,
                "load_1_5_15": os.getloadavg(),
                "cpus": os.cpu_count(),
                "postgres": server.version(),
                "runs": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
