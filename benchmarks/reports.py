"""Reports on a large year: the yearly metrics, the records export and the morning view.

A store on PostgreSQL (`rightful_bench_reports`, dropped and created for each size) gets a year
of requests (the mix of kinds and outcomes below, a twentieth still open) with the audit event
of each first answer, written straight into the tables (how the requests came to be is not what
is timed). Then, timed: the year's metrics for California and for everyone, the records of the
whole year as CSV, and the morning view.

Run with `python -m benchmarks.reports` (`--requests 100000,300000`, `--host`, `--port`).
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.databases import Server

STORE = "rightful_bench_reports"
KINDS = ("delete", "opt_out_sale", "know_categories", "access", "delete", "limit_sensitive")
OUTCOMES = ("completed", "completed", "completed", "denied", "partially_completed", "withdrawn")
PLACES = ("US-CA", "US-CA", "US-CA", "US-TX", "US-VA")


def _rows(count: int, year: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    start = datetime(year, 1, 1, 18, tzinfo=UTC)
    requests, events = [], []
    for n in range(count):
        received = start + timedelta(minutes=(n * 520_000) // count)
        request_id = uuid.uuid4().hex
        requests.append(
            {
                "id": request_id,
                "reference": f"R-{n:08d}",
                "request_type": KINDS[n % len(KINDS)],
                "status": "received" if n % 20 == 0 else OUTCOMES[n % len(OUTCOMES)],
                "channel": "web",
                "jurisdiction": PLACES[n % len(PLACES)],
                "identities": "sealed",
                "email_hash": "",
                "received_at": received,
                "acknowledge_due": (received + timedelta(days=14)).date(),
                "respond_due": (received + timedelta(days=45)).date(),
                "summary": {},
            }
        )
        if n % 20:
            events.append(
                {
                    "at": received + timedelta(days=n % 40),
                    "actor": "bench",
                    "action": f"request.{OUTCOMES[n % len(OUTCOMES)]}",
                    "subject_type": "rights_request",
                    "subject_id": request_id,
                    "detail": {"reason": "unable_to_verify"} if n % 6 == 3 else {},
                    "prev_hash": "0" * 64,
                    "hash": "0" * 64,
                }
            )
    return requests, events


def _timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return round(time.perf_counter() - started, 2), value


def measure(server: Server, count: int, data_dir: Path) -> dict[str, Any]:
    """Seed `count` requests in 2025 and time each report."""
    from sqlalchemy import insert

    from rightful.core.config import Settings
    from rightful.core.runtime import build_runtime
    from rightful.migrations import upgrade
    from rightful.reports import metrics, morning, records
    from rightful.rights.models import RightsRequest
    from rightful.security.models import AuditEvent
    from rightful.security.permissions import system_actor

    server.recreate(STORE)
    settings = Settings(  # type: ignore[call-arg]
        data_dir=data_dir, secret_key=secrets.token_urlsafe(40), database_url=server.url(STORE)
    )
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    requests, events = _rows(count, 2025)
    with runtime.sessions.begin() as session:
        for table, rows in ((RightsRequest, requests), (AuditEvent, events)):
            for i in range(0, len(rows), 10_000):
                session.execute(insert(table), rows[i : i + 10_000])
    actor, today = system_actor("bench"), date(2026, 6, 1)
    found: dict[str, Any] = {"requests": count}
    with runtime.sessions() as session:
        for scope in ("US-CA", "all"):
            seconds, m = _timed(
                lambda s=scope: metrics.compile_year(session, year=2025, scope=s, today=today)
            )
            found[f"metrics_{scope}_seconds"] = seconds
            found[f"metrics_{scope}_received"] = sum(r.received for r in m.rows)
        seconds, rows = _timed(
            lambda: records.to_csv(
                records.request_records(
                    session, actor=actor, first=date(2025, 1, 1), last=date(2025, 12, 31)
                )
            )
        )
        found["records_csv_seconds"], found["records_csv_megabytes"] = (
            seconds,
            round(len(rows) / 1e6, 1),
        )
        session.rollback()  # the export's audit event: not kept
        seconds, _ = _timed(lambda: morning.morning_view(session, settings, actor=actor))
        found["morning_view_seconds"] = seconds
    runtime.engine.dispose()
    return found


def main() -> None:
    """Each size, one after another; JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", default="100000")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    args = parser.parse_args()
    server = Server(args.host, args.port)
    with tempfile.TemporaryDirectory() as folder:
        results = [measure(server, int(n), Path(folder)) for n in str(args.requests).split(",")]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
