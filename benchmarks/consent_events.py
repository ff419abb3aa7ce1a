"""Consent events at a site's pace: event requests through the real server with 2 and 4 server
processes at 8, 16, 32 and 256 connections, single events and batches, the sequencing lag, and the
PostgreSQL bound of each in the same run.

A fresh store (`--consent-store`, default `rightful_bench_consent_events`) gets the demo consent
catalogue, people with choices through the ledger (`--consent-people`) and, optionally, many
more people copied straight in (`--consent-bulk-people`, e.g. 1,000,000: subjects without
choices, so every index a write touches is as large as a big site's). Then, per number of
server processes: `uvicorn --workers N` and one `rightful worker` (the sequencer runs in its
`sequence` lane, as deployed), and per number of connections three kinds of requests, each for
new people or browsers so that every request writes:

- `api`: `POST /api/v1/consent/events`, a person by e-mail with one or two choices;
- `banner`: `POST /consent/events`, a new browser with one or two cookie choices, each request
  from another visitor's address (X-Forwarded-For from a trusted proxy: the shared rate limit
  counts every request, as it would behind a load balancer, without one hot key);
- `banner_batch`: the same, `--consent-batch` browsers' events in one request.

The load generator is wrk (`--consent-driver wrk`, the default: `benchmarks/wrk.py`, for
`--events-duration` seconds after a 2-second warm-up) or httpx (`--consent-driver httpx`: the
matrix's `requests` each). Either way the store is checked afterwards: the events written
must be those of the requests sent, warm-up included.

The sequencing lag of an event is the time from its write (`at`) to the signed head that
includes it. The bounds: the same writes issued directly with psycopg (`consent_bound`) into
copies of the consent tables filled with the store's rows, one transaction per request and,
for batches, one per batch.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import psycopg

from benchmarks import consent, consent_bound, loadgen, report
from benchmarks.databases import Server
from benchmarks.loadgen import Served

__all__ = ["Matrix", "measure", "table"]

STORE = "rightful_bench_consent_events"
CATEGORIES = ("performance", "functional", "targeting")
# PostgreSQL connections the server's processes may open together (pool and overflow), and
# the bound's at most: the machine's PostgreSQL allows 100, shared with other work, and 2
# cores keep far fewer backends busy than this.
SERVER_CONNECTIONS = 16
BOUND_CONNECTIONS = 32
# Bodies wrk may need a second, per kind: more requests than the server answers, so no body
# is sent twice (issue 14 aims at 1,000 a second).
WRK_PER_SECOND = 1500
Log = consent.Log


@dataclass(frozen=True)
class Matrix:
    """What the events part does (run.py's flags)."""

    requests: int  # timed requests per kind, connections and processes
    batch: int  # events in a batch request
    people: int  # seeded through the ledger, with choices
    bulk_people: int  # copied in, without choices
    connections: tuple[int, ...] = (8, 16, 32, 256)
    workers: tuple[int, ...] = (2, 4)
    store: str = STORE
    driver: str = "wrk"  # or "httpx"
    duration_s: float = 10  # each wrk run (the httpx driver sends `requests`)


# ------------------------------------------------------------------------------------ bodies


def banner_bodies(prefix: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` banner events, each a new browser in France with one or two cookie choices."""
    out = []
    for i in range(count):
        picked = rng.sample(CATEGORIES, rng.choice((1, 2)))
        device = f"{prefix}{i:09d}".ljust(22, "x")[:64]
        choices = {c: rng.random() < 0.5 for c in picked}
        out.append({"device_id": device, "jurisdiction": "FR", "choices": choices})
    return out


def _visitor(i: int) -> dict[str, str]:
    """Request i's visitor address, as the trusted proxy in front of Rightful reports it."""
    return {"X-Forwarded-For": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}


def _judge_api(body: dict[str, Any], answer: httpx.Response) -> str:
    if answer.status_code != 201:
        return f"status {answer.status_code}"
    return "ok" if len(answer.json()["events"]) == len(body["choices"]) else "events missing"


def _judge_banner(body: dict[str, Any], answer: httpx.Response) -> str:
    if answer.status_code != 200:
        return f"status {answer.status_code}"
    expected = sum(len(b["choices"]) for b in body.get("events", [body]))
    return "ok" if answer.json()["recorded"] == expected else "events missing"


# ------------------------------------------------------------------------------------ setup


def _copy_people(conninfo: str, count: int, log: Log) -> None:
    """`count` people straight into consent_subjects with COPY (no choices)."""
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY consent_subjects (id, kind, lookup_hash, email_sha256, sealed_email, created_at)"
            " FROM STDIN"
        ) as copy:
            for i in range(count):
                digest = os.urandom(32).hex()
                copy.write_row(
                    (os.urandom(16).hex(), "person", os.urandom(32).hex(), digest, "x" * 180, "now")
                )
                if (i + 1) % 250_000 == 0:
                    log(f"  {i + 1:,} people copied")
        conn.commit()
    log(f"  {count:,} people copied in {time.perf_counter() - started:.0f} s")


def _sequencer(store: consent.Store, log_path: Path) -> subprocess.Popen[bytes]:
    """`rightful worker` on the store: its `sequence` lane publishes the signed heads."""
    env = {**os.environ, **store.env, "RIGHTFUL_EMBEDDED_WORKER": "false"}
    command = [sys.executable, "-c", "from rightful.cli.main import app; app()", "worker"]
    with log_path.open("ab") as out:
        # Our own interpreter and a fixed command line; nothing comes from outside.
        return subprocess.Popen(command, cwd=loadgen.ROOT, env=env, stdout=out, stderr=out)  # noqa: S603


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --------------------------------------------------------------------------- sequencing lag


def _last_event(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM consent_events").fetchone()
        return int(row[0]) if row else 0


def _wait_sequenced(conninfo: str, timeout: float = 300) -> float:
    """Until no event waits for a position; how long that took after the load ended."""
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.perf_counter() - started < timeout:
            row = conn.execute("SELECT count(*) FROM consent_events WHERE position IS NULL")
            if (row.fetchone() or [1])[0] == 0:
                break
            time.sleep(0.2)
    return round(time.perf_counter() - started, 2)


LAG = """
SELECT count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY lag_ms),
       max(lag_ms)
FROM (
  SELECT h.timestamp - extract(epoch FROM e.at) * 1000 AS lag_ms
  FROM consent_events e
  CROSS JOIN LATERAL (
    SELECT timestamp FROM consent_tree_heads
    WHERE tree_size > e.position ORDER BY tree_size LIMIT 1
  ) h
  WHERE e.id > %s AND e.id <= %s
) lags
"""


def _lag(conninfo: str, after: int, upto: int) -> dict[str, Any]:
    """Write to inclusion in a signed head, for the events with ids in (after, upto]."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(LAG, (after, upto)).fetchone()
    assert row is not None
    count, median, p99, top = row
    return {
        "events": int(count),
        "median_ms": round(float(median or 0), 1),
        "p99_ms": round(float(p99 or 0), 1),
        "max_ms": round(float(top or 0), 1),
    }


# ------------------------------------------------------------------------------ the matrix


def _kinds(m: Matrix, label: str, rng: random.Random) -> dict[str, tuple[str, list[Any]]]:
    """Each kind's path and bodies for one run, warm-up first: new people and browsers
    every time (with httpx `requests` of each, a batch request counting `batch`)."""
    count = loadgen.bodies_needed(
        m.driver, m.requests, loadgen.WARM_S + m.duration_s, WRK_PER_SECOND
    )
    batches = max(1, count // m.batch) if m.driver == "httpx" else count
    flat = banner_bodies(f"{label}-b-", batches * m.batch, rng)
    return {
        "api": ("/api/v1/consent/events", consent.event_bodies(f"{label}-a-", count, rng)),
        "banner": ("/consent/events", banner_bodies(f"{label}-s-", count, rng)),
        "banner_batch": (
            "/consent/events",
            [{"events": flat[i : i + m.batch]} for i in range(0, len(flat), m.batch)],
        ),
    }


def _one_server(
    store: consent.Store, conninfo: str, m: Matrix, workers: int, results: Path, log: Log
) -> dict[str, Any]:
    """Every kind at every number of connections, with `workers` server processes."""
    out: dict[str, Any] = {"database_pool_size": SERVER_CONNECTIONS // (2 * workers)}
    env = {**store.env, "RIGHTFUL_DATABASE_POOL_SIZE": str(out["database_pool_size"])}
    server_log = results / "consent-events-server.log"
    worker = _sequencer(store, results / "consent-events-worker.log")
    try:
        with loadgen.serving(env, workers, store.token, server_log) as served:
            for connections in m.connections:
                label = f"w{workers}-c{connections}"
                kinds = _kinds(m, label, random.Random(f"{consent.SEED}-{label}"))
                for kind, (path, bodies) in kinds.items():
                    out[f"{kind}_c{connections}"] = _run_kind(
                        served, store, conninfo, m, kind, path, bodies, connections, log
                    )
                    log(f"    {_line(out[f'{kind}_c{connections}'])}")
    finally:
        _stop(worker)
    return out


def _run_kind(
    served: Served,
    store: consent.Store,
    conninfo: str,
    m: Matrix,
    kind: str,
    path: str,
    bodies: list[Any],
    connections: int,
    log: Log,
) -> dict[str, Any]:
    warm_count = _warm(m.driver, connections, len(bodies))
    warmup, timed = bodies[:warm_count], bodies[warm_count:]
    what = f"{m.duration_s:g} s" if m.driver == "wrk" else f"{len(timed):,} requests"
    log(f"consent events: {kind}, {what} with {m.driver}, {connections} in flight")
    first = _last_event(conninfo)
    driven = loadgen.drive(
        m.driver,
        served,
        store.token,
        path,
        timed,
        concurrency=connections,
        judge=_judge_api if kind == "api" else _judge_banner,
        patterns=[],  # wrk: the store is checked instead, below
        warmup=warmup,
        database=conninfo,
        duration_s=m.duration_s,
        headers=None if kind == "api" else _visitor,
    )
    result = driven.summary
    result["written"] = _written(conninfo, first, sum(_events(kind, b) for b in driven.sent))
    per_request = statistics.fmean(_events(kind, b) for b in timed)
    result["events_per_request"] = round(per_request, 3)
    result["events_per_second"] = round(result["per_second"] * per_request, 1)
    result["sequenced_after_load_s"] = _wait_sequenced(conninfo)
    result["sequencing_lag"] = _lag(conninfo, first, _last_event(conninfo))
    return result


def _warm(driver: str, connections: int, requests: int) -> int:
    """Untimed requests first: for httpx two a connection and ten, at most a fifth of the
    list; for wrk enough for its warm-up run."""
    if driver == "wrk":
        return WRK_PER_SECOND * loadgen.WARM_S
    return min(2 * connections + 10, requests // 5)


def _events(kind: str, body: dict[str, Any]) -> int:
    """Events one request records: a choice each, or each batched browser's choices."""
    if kind == "banner_batch":
        return sum(len(e["choices"]) for e in body["events"])
    return len(body["choices"])


def _written(conninfo: str, after: int, expected: int) -> dict[str, Any]:
    """Events stored since `after` against those the sent requests carry (the last requests
    wrk left in flight may still be committing: wait for them, up to 30 s)."""
    deadline = time.monotonic() + 30
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT count(*) FROM consent_events WHERE id > %s", (after,))
            written = int((row.fetchone() or [0])[0])
            if written >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.25)
    return {"expected_events": expected, "events": written, "right": written == expected}


def _line(r: dict[str, Any]) -> str:
    lag = r["sequencing_lag"]
    cpu = r["cpu_ms_per_request"]
    return (
        f"{r['per_second']:,} requests/s ({r['events_per_second']:,} events/s), median "
        f"{r['latency']['median_ms']} ms, p99 {r['latency']['p99_ms']} ms; CPU ms a request: "
        f"server {cpu['server']}, client {cpu['client']}, PostgreSQL {cpu['postgres']}; lag p99 "
        f"{lag['p99_ms']} ms; {r['outcomes']}; events written as sent: {r['written']['right']}"
    )


# ------------------------------------------------------------------------------- the bounds


def _api_shaped(bodies: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """Banner bodies as the bound writes them: a new subject and one event per choice."""
    return [
        {
            "email": f"{prefix}{i}@bound.bench",
            "choices": [
                {
                    "purpose": f"cookies.{c}",
                    "channel": "web",
                    "state": "given" if v else "withdrawn",
                }
                for c, v in b["choices"].items()
            ],
        }
        for i, b in enumerate(bodies)
    ]


def _bound_events(item: Any) -> int:
    """Events one bound request writes: a body's choices, or a batch's bodies' choices."""
    if isinstance(item, list):
        return sum(len(body["choices"]) for body in item)
    return len(item["choices"])


def _bounds(conninfo: str, m: Matrix, log: Log) -> dict[str, Any]:
    """Plain writes and batches of writes, directly, at every number of connections."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT round(avg(length(sealed_email))) FROM consent_subjects")
        sealed = int(next(iter(row.fetchone() or [200])) or 200)
    consent_bound.copy_tables(conninfo, filled=True)
    out: dict[str, Any] = {}
    try:
        for connections in m.connections:
            rng = random.Random(f"{consent.SEED}-bound-{connections}")
            singles = consent.event_bodies(f"bound-{connections}-", m.requests, rng)
            flat = _api_shaped(
                banner_bodies("bb", (m.requests // m.batch) * m.batch, rng), f"bb{connections}-"
            )
            batches = [flat[i : i + m.batch] for i in range(0, len(flat), m.batch)]
            for kind, job, items in (
                ("events", consent_bound.write_request(sealed, chained=False), singles),
                ("batches", consent_bound.write_batch(sealed), batches),
            ):
                log(f"bound: {kind}, {len(items):,} requests, {connections} in flight")
                warm = _warm("httpx", connections, len(items))
                r = consent_bound.run(
                    conninfo,
                    job,
                    items[warm:],
                    warmup=items[:warm],
                    connections=min(connections, BOUND_CONNECTIONS),
                )
                timed: list[Any] = items[warm:]
                per = sum(map(_bound_events, timed)) / len(timed)
                r["events_per_second"] = round(r["per_second"] * per, 1)
                out[f"{kind}_c{connections}"] = r
                log(f"    {r['per_second']:,} requests/s, p99 {r['latency']['p99_ms']} ms")
    finally:
        consent_bound.drop_tables(conninfo)
    return out


# ------------------------------------------------------------------------------ the measurement


def measure(server: Server, m: Matrix, data_dir: Path, results: Path, log: Log) -> dict[str, Any]:
    """The whole matrix on a fresh store; the machine and its load are recorded with it."""
    result: dict[str, Any] = {"machine": report.machine(server), "matrix": m.__dict__.copy()}
    results.mkdir(parents=True, exist_ok=True)
    log(f"consent events: a fresh store ({m.store})")
    store = consent.prepare_store(server, data_dir, m.store)
    # The banner's shared limit is counted on every request but never reached; each request
    # comes from its own visitor, as the trusted proxy in front says.
    limits = {"RIGHTFUL_BANNER_EVENTS_PER_MINUTE": "1000000000"}
    proxy = {"RIGHTFUL_TRUSTED_PROXIES": '["127.0.0.1"]'}
    store = replace(store, env={**store.env, **limits, **proxy})
    conninfo = server.conninfo(m.store)
    started = time.perf_counter()
    consent.seed_people(store, m.people, random.Random(consent.SEED), log)
    if m.bulk_people:
        _copy_people(conninfo, m.bulk_people, log)
    result["seed_s"] = round(time.perf_counter() - started, 1)
    consent_bound.settle(conninfo)
    result["rightful"] = {}
    for workers in m.workers:
        result["machine"][f"load_average_1m_before_{workers}_workers"] = round(
            os.getloadavg()[0], 2
        )
        result["rightful"][f"workers_{workers}"] = _one_server(
            store, conninfo, m, workers, results, log
        )
    store.runtime.engine.dispose()
    consent_bound.settle(conninfo)
    result["bound"] = _bounds(conninfo, m, log)
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    return result


def table(result: dict[str, Any]) -> str:
    """The figures as a Markdown table, each beside its bound."""
    rows = [
        "| Processes, connections, kind | requests/s (events/s) | median / p99 ms | "
        "CPU ms a request: server / client / PostgreSQL | errors | events written as sent | "
        "lag p99 ms | bound requests/s, p99 ms |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    bound = result["bound"]
    for workers, runs in result["rightful"].items():
        for name, r in runs.items():
            if not isinstance(r, dict):
                continue
            kind, connections = name.rsplit("_c", 1)
            b = bound[f"{'batches' if kind == 'banner_batch' else 'events'}_c{connections}"]
            cpu = r["cpu_ms_per_request"]
            errors = sum(n for k, n in r["outcomes"].items() if k != "ok")
            rows.append(
                f"| {workers.split('_')[1]}, {connections}, {kind} | {r['per_second']:,} "
                f"({r['events_per_second']:,}) | {r['latency']['median_ms']} / "
                f"{r['latency']['p99_ms']} | {cpu['server']} / {cpu['client']} / "
                f"{cpu['postgres']} | {errors} | {'yes' if r['written']['right'] else 'NO'} | "
                f"{r['sequencing_lag']['p99_ms']:,} | {b['per_second']:,}, "
                f"{b['latency']['p99_ms']} |"
            )
    return "\n".join(rows)
