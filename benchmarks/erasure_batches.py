"""Deletions finished one by one, then together (issue 12, item 1): statements to Rightful's own
store a request.

`python -m benchmarks.erasure_batches --requests 50 [--postgres]`: a fresh store and demo estate
(SQLite files, or the PostgreSQL databases `rightful_bench_t1_store` and `rightful_bench_t1_estate`)
get the same approved deletions twice; the worker's pass (`worker.jobs.execute`, the whole batch
at once) erases them and waits for the partners, every partner confirms, and a second pass
completes them. Once with `erasure_batches` off (each request's bookkeeping by its own
`run_request`, as before) and once on (`rights/erasure_batch.py`). Statements are counted on the
store's engine; those still made for each person (the consent record, the plan's check for
manual tasks, the completion e-mail's insert) are counted apart as well.
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

from sqlalchemy import create_engine, event, select, text

from benchmarks.databases import Server
from benchmarks.drive import capture_codes
from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import build_runtime
from rightful.demo.estate import SYSTEMS, build_estate, demo_urls
from rightful.demo.setup import load_data_map
from rightful.inventory import revision
from rightful.migrations import upgrade
from rightful.rights import flows, partners, service
from rightful.rights.models import PartnerNotice, RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.security.tokens import LinkSigner
from rightful.worker.jobs import execute

STORE, ESTATE = "rightful_bench_t1_store", "rightful_bench_t1_estate"
PER_PERSON = {
    "consent record": re.compile(r"\b(consent_\w+|marketing_suppressions)\b"),
    "plan's check for manual tasks": re.compile(
        r"FROM manual_tasks WHERE manual_tasks.request_id = \S+$"
    ),
    "completion e-mail": re.compile(r"^INSERT INTO outbox_messages "),
}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stage(settings: Settings, urls: dict[str, str], requests: int) -> tuple[Any, list[str]]:
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    build_estate(urls, people=max(200, 2 * requests))
    load_data_map(runtime, urls)
    shop = create_engine(urls["storefront"])
    with shop.connect() as conn:
        people = conn.execute(
            text("SELECT email, phone FROM customers ORDER BY id LIMIT :n"), {"n": requests}
        ).all()
    shop.dispose()
    issued = capture_codes()
    ids = []
    for email, phone in people:
        data = RequestIn(request_type="delete", email=email, phone_number=phone)  # type: ignore[arg-type]
        with unit_of_work(runtime.sessions) as session:
            request_id = flows.submit(session, settings, data, client=None).id
        with unit_of_work(runtime.sessions) as session:
            flows.verify(session, settings, request_id=request_id, code=issued.pop(request_id))
            service.approve_request(
                session, settings, request_id=request_id, actor=system_actor("bench")
            )
        ids.append(request_id)
    return runtime, ids


def _confirm(runtime: Any) -> None:
    signer = LinkSigner(runtime.settings.secret_key, "partner-ack")
    with unit_of_work(runtime.sessions) as session:
        for notice_id in list(session.scalars(select(PartnerNotice.id))):
            partners.acknowledge(session, runtime.settings, token=signer.sign(str(notice_id)))


def _pass(runtime: Any) -> tuple[list[str], float]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(runtime.engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        while execute(runtime):
            pass
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    return seen, time.perf_counter() - started


def run(requests: int, batched: bool, server: Server | None) -> dict[str, Any]:
    """Stage `requests` approved deletions, then count both of the worker's passes."""
    data_dir = Path(tempfile.mkdtemp(prefix="rightful-erasure-batches-"))
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "secret_key": os.urandom(32).hex(),
        "base_url": "http://bench",
        "require_approval": True,
        "erasure_batches": batched,
        "worker_batch_size": requests,
    }
    urls = demo_urls(data_dir)
    if server is not None:
        server.recreate(STORE)
        server.recreate(ESTATE)
        values["database_url"] = server.url(STORE)
        urls = dict.fromkeys(SYSTEMS, server.url(ESTATE))
    revision._cache.clear()
    runtime, ids = _stage(Settings(**values), urls, requests)
    erase, erase_s = _pass(runtime)
    _confirm(runtime)
    complete, complete_s = _pass(runtime)
    with runtime.sessions() as session:
        statuses = set(
            session.scalars(select(RightsRequest.status).where(RightsRequest.id.in_(ids)))
        )
    runtime.engine.dispose()
    dispose_all()
    every = erase + complete
    apart = {
        name: round(sum(1 for s in every if pattern.search(s)) / len(ids), 2)
        for name, pattern in PER_PERSON.items()
    }
    return {
        "mode": "batched bookkeeping" if batched else "one by one bookkeeping",
        "requests": len(ids),
        "statuses": sorted(statuses),
        "store_statements_per_request": {
            "erase_pass": round(len(erase) / len(ids), 2),
            "complete_pass": round(len(complete) / len(ids), 2),
            "both": round(len(every) / len(ids), 2),
            "of_which_still_per_person": apart,
        },
        "seconds": {"erase_pass": round(erase_s, 2), "complete_pass": round(complete_s, 2)},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.erasure_batches", description=__doc__
    )
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--postgres", action="store_true", help="store and estate on PostgreSQL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    args = parser.parse_args(argv)
    server = Server(args.host, args.port) if args.postgres else None
    results = []
    for batched in (False, True):
        _log(f"erasure batches: {args.requests} deletions, batched={batched}")
        results.append(run(args.requests, batched, server))
    print(
        json.dumps(
            {
                "store": "postgresql" if server else "sqlite",
                "load_1_5_15": os.getloadavg(),
                "cpus": os.cpu_count(),
                "runs": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
