"""Corrections run one by one, then read and written together (issue 12, item 1).

`python -m benchmarks.correction_batches --requests 50`: a demo estate of its own on PostgreSQL
(corrections change it, so never the shared benchmark estate) and a store of its own get the
same approved corrections (a third each of names, phone numbers and dates of birth, the dates
shared by a few people); `--mode alone` runs each with `run_request`, as the worker did before
corrections were batched, `--mode batched` runs the worker's pass (`worker.jobs.execute`).
Statements to each database a request, the time, and what each record says are printed.
Run the `alone` mode on the code before the change to measure "before" (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select

from benchmarks.counting import StatementCounter, delta
from benchmarks.databases import Server
from benchmarks.drive import capture_codes
from benchmarks.store import settings_values
from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.demo.estate import SYSTEMS, build_estate
from rightful.demo.setup import load_data_map
from rightful.inventory import revision
from rightful.migrations import upgrade
from rightful.rights import flows, service
from rightful.rights.execution import run_request
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.worker.jobs import execute

PREFIX = "rightful_bench_t2_"
STORE, ESTATE = PREFIX + "store", PREFIX + "estate"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _asked(number: int) -> tuple[str, str]:
    """What the n-th person corrects: a name, a phone number or a date of birth."""
    if number % 3 == 0:
        return "name", f"Corrected Person{number}"
    if number % 3 == 1:
        return "phone_number", f"+1415555{number:04d}"
    return "date_of_birth", f"1990-01-{1 + number % 5:02d}"  # a few people share each date


def _approve(runtime: Runtime, server: Server, requests: int) -> list[str]:
    issued = capture_codes()
    with psycopg.connect(server.conninfo(ESTATE)) as conn:
        people = conn.execute(
            "SELECT c.email, c.first_name || ' ' || c.last_name, a.postal_code FROM customers c "
            "JOIN addresses a ON a.customer_id = c.id AND a.kind = 'billing' "
            "ORDER BY c.id LIMIT %s",
            (requests,),
        ).fetchall()
    ids = []
    for number, (email, name, postal_code) in enumerate(people):
        item, value = _asked(number)
        data = RequestIn(
            request_type="correct",
            email=email,
            name=name,
            postal_code=postal_code,
            jurisdiction="CA",
            channel="api",
            correction_item=item,
            correction_value=value,
        )
        settings = runtime.settings
        with unit_of_work(runtime.sessions) as session:
            request_id = flows.submit(session, settings, data, client="bench").id
        with unit_of_work(runtime.sessions) as session:
            flows.verify(session, settings, request_id=request_id, code=issued.pop(request_id))
            service.approve_request(
                session, settings, request_id=request_id, actor=system_actor("bench")
            )
        ids.append(request_id)
    return ids


def run(server: Server, counter: StatementCounter, requests: int, mode: str) -> dict[str, Any]:
    """Approve `requests` corrections on a fresh estate and store, then run them."""
    server.recreate(ESTATE)
    server.recreate(STORE)
    build_estate(dict.fromkeys(SYSTEMS, server.url(ESTATE)), people=max(200, requests))
    revision._cache.clear()
    values = settings_values(server, Path(tempfile.mkdtemp(prefix="rightful-corrections-")))
    values.update(database_url=server.url(STORE), worker_batch_size=max(requests, 1))
    runtime = build_runtime(Settings(**values))
    upgrade(runtime.engine)
    load_data_map(runtime, dict.fromkeys(SYSTEMS, server.url(ESTATE)))
    ids = _approve(runtime, server, requests)
    before = counter.snapshot()
    counter.captured = []
    started = time.perf_counter()
    if mode == "alone":
        for request_id in ids:
            run_request(runtime.sessions, runtime.settings, request_id)
    else:
        while execute(runtime):
            pass
    seconds = time.perf_counter() - started
    counts = delta(before, counter.snapshot())
    # Reads of rows, apart from the catalogue reads reflecting each table once a process.
    catalogue = ("pg_catalog", "information_schema")
    row_reads = [
        sql
        for side, sql in counter.captured or []
        if side == "estate"
        and re.match(r"SELECT \w+\.\w+", sql)
        and not any(c in sql for c in catalogue)
    ]
    counter.captured = None
    with runtime.sessions() as session:
        reqs = list(session.scalars(select(RightsRequest).where(RightsRequest.id.in_(ids))))
        done = sum(1 for r in reqs if r.status == "completed")
        fields = sum(len(r.summary.get("corrected", [])) for r in reqs)
    runtime.engine.dispose()
    dispose_all()
    n = len(ids)
    return {
        "mode": mode,
        "requests": n,
        "completed": done,
        "record_lines": fields,
        "total_s": round(seconds, 2),
        "per_request_ms": round(1000 * seconds / n, 1),
        "store_statements_per_request": round(counts.get("store.statements", 0) / n, 1),
        "estate_statements_per_request": round(counts.get("estate.statements", 0) / n, 2),
        "estate_selects_per_request": round(counts.get("estate.SELECT", 0) / n, 2),
        "estate_row_reads": len(row_reads),
        "estate_updates_per_request": round(counts.get("estate.UPDATE", 0) / n, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.correction_batches", description=__doc__
    )
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--mode", choices=["alone", "batched", "both"], default="both")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    args = parser.parse_args(argv)
    server = Server(args.host, args.port)
    counter = StatementCounter(STORE)
    counter.install()
    modes = ["alone", "batched"] if args.mode == "both" else [args.mode]
    results = []
    for mode in modes:
        _log(f"corrections: {args.requests} requests, {mode}")
        results.append(run(server, counter, args.requests, mode))
    print(
        json.dumps(
            {
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
