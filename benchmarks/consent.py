"""Consent through the real server: events recorded, checks answered, a million-line bulk check.

A fresh store (`rightful_bench_consent`) is migrated, given the demo consent catalogue, people
with choices and an API token, then served by uvicorn on loopback (`loadgen.serving`). The load
generator records events (`POST /api/v1/consent/events`, each request a new person with one or
two choices, so every request writes) and asks checks (`POST /api/v1/consent/check` for seeded
people), first one at a time, then with many connections. 1,000,000 SHA-256 digests, a fifth of
them suppressed, then go to `POST /api/v1/suppressions/bulk` as text/plain. Beside each: the
same writes and lookups done directly with psycopg (`consent_bound`).
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import event, func, select
from starlette.testclient import TestClient

import rightful.demo
from benchmarks import consent_bound, consent_bulk, loadgen, report
from benchmarks.consent_report import table
from benchmarks.databases import Server
from benchmarks.loadgen import Served
from rightful.consent import catalog, ledger, sequencer, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentSubject
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.migrations import upgrade
from rightful.security import service as staff_service
from rightful.security.permissions import system_actor
from rightful.web.app import create_app

__all__ = ["Sizes", "measure", "table"]

STORE = "rightful_bench_consent"
STAFF = "bench@lumen.example"
# What the generated choices and checks pick from: every marketing e-mail case (suppression
# rows), another channel, and the two choices that apply on every channel.
EVENT_PAIRS = (
    ("marketing", "email"),
    ("marketing.newsletter", "email"),
    ("marketing.offers", "email"),
    ("marketing.offers", "sms"),
    ("marketing.product_news", "email"),
    ("sale_share", "all"),
    ("targeted_advertising", "all"),
)
CHECK_PAIRS = (
    ("marketing.newsletter", "email"),
    ("marketing.offers", "sms"),
    ("sale_share", "all"),
    ("targeted_advertising", "all"),
)
SEED = 2718
Log = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    """How much each part does (run.py's flags)."""

    events: int
    checks: int
    people: int
    suppressions: int
    concurrency: int
    workers: int
    one_by_one: int
    store: str = STORE  # the database, dropped and created again (--consent-store)


@dataclass(frozen=True)
class Store:
    """The benchmark's store: how to open it here and in the server, and the API token."""

    runtime: Runtime
    env: dict[str, str]
    token: str


@dataclass(frozen=True)
class Seeded:
    """A person with recorded choices, as the check sends them and the bound looks them up."""

    email: str
    lookup_hash: str


def prepare_store(server: Server, data_dir: Path, name: str = STORE) -> Store:
    """A fresh store: migrated, the demo catalogue applied, a staff member with an API token."""
    server.recreate(name)
    values = {
        "database_url": server.url(name),
        "secret_key": secrets.token_urlsafe(48),
        "data_dir": str(data_dir),
        "embedded_worker": "false",
    }
    runtime = build_runtime(Settings(**values))  # type: ignore[arg-type]
    upgrade(runtime.engine)
    text = (Path(rightful.demo.__file__).parent / "consent.yml").read_text()
    with unit_of_work(runtime.sessions) as session:
        catalog.apply(session, catalog.parse(text))
        bench = system_actor("bench")
        staff = staff_service.create_staff(
            session, email=STAFF, name="Benchmark", password=secrets.token_urlsafe(16), actor=bench
        )
        token = staff_service.create_api_token(
            session, staff=staff, name="consent benchmark", actor=bench
        )
    env = {f"RIGHTFUL_{k.upper()}": v for k, v in values.items()}
    return Store(runtime, env, token)


def _choices(rng: random.Random) -> list[dict[str, str]]:
    pairs = rng.sample(EVENT_PAIRS, rng.choice((1, 2)))
    return [
        {"purpose": p, "channel": c, "state": rng.choice(("given", "withdrawn"))} for p, c in pairs
    ]


def event_bodies(prefix: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` requests, each for a new person, with one or two choices."""
    return [
        {"email": f"{prefix}{i:07d}@consent.bench", "choices": _choices(rng)} for i in range(count)
    ]


def seed_people(store: Store, count: int, rng: random.Random, log: Log) -> list[Seeded]:
    """People with choices, recorded through the ledger in process (no HTTP), 500 a commit."""
    settings, out = store.runtime.settings, []
    bodies = event_bodies("seeded", count, rng)
    collected = ledger.Collected(interface=Interface.API, actor=STAFF)
    for start in range(0, count, 500):
        with unit_of_work(store.runtime.sessions) as session:
            for body in bodies[start : start + 500]:
                person = subjects.person(session, settings, body["email"])
                choices = [
                    ledger.Choice(c["purpose"], c["channel"], State(c["state"]))
                    for c in body["choices"]
                ]
                ledger.record(session, settings, person, choices, collected)
                out.append(Seeded(body["email"], person.lookup_hash))
        if (start + 500) % 5000 == 0:
            log(f"  {start + 500:,} people seeded")
    return out


def check_bodies(people: list[Seeded], count: int, rng: random.Random) -> list[dict[str, str]]:
    """`count` checks of random seeded people, each for a random purpose and channel."""
    out = []
    for _ in range(count):
        purpose, channel = rng.choice(CHECK_PAIRS)
        out.append({"email": rng.choice(people).email, "purpose": purpose, "channel": channel})
    return out


def _judge_event(body: dict[str, Any], answer: httpx.Response) -> str:
    if answer.status_code != 201:
        return f"status {answer.status_code}"
    return "ok" if len(answer.json()["events"]) == len(body["choices"]) else "events missing"


def _judge_check(_: Any, answer: httpx.Response) -> str:
    if answer.status_code != 200:
        return f"status {answer.status_code}"
    return "allowed" if answer.json()["allowed"] else "not allowed"


# ------------------------------------------------------------------------------- statements


def _statements(store: Store, event_body: dict[str, Any], check: dict[str, str]) -> dict[str, Any]:
    """The SQL one event request and one check send, through the app in process."""
    engine = store.runtime.engine
    seen: list[str] = []
    commits = [0]

    def on_execute(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split())[:90])

    def on_commit(_c: Any) -> None:
        commits[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    out = {}
    try:
        with TestClient(create_app(store.runtime, start_worker=False)) as http:
            headers = {"Authorization": f"Bearer {store.token}"}
            for label, path, body in (
                ("event", "/api/v1/consent/events", event_body),
                ("check", "/api/v1/consent/check", check),
            ):
                seen.clear()
                commits[0] = 0
                answer = http.post(path, json=body, headers=headers)
                answer.raise_for_status()
                out[label] = {"statements": len(seen), "commits": commits[0], "sql": list(seen)}
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
    return out


# --------------------------------------------------------------------------- through the API


@dataclass(frozen=True)
class Workload:
    """The bodies one server run sends: events for new people, checks of seeded ones."""

    label: str
    events: list[dict[str, Any]]
    checks: list[dict[str, str]]
    one_events: list[dict[str, Any]]
    one_checks: list[dict[str, str]]
    warm_events: list[dict[str, Any]]
    warm_checks: list[dict[str, str]]


def workload(label: str, sizes: Sizes, people: list[Seeded]) -> Workload:
    """Bodies for one server run; every label has its own new people."""
    rng = random.Random(f"{SEED}-{label}")
    warm = 2 * sizes.concurrency + 40  # both event runs take their own new people
    return Workload(
        label=label,
        events=event_bodies(f"{label}-load-", sizes.events, rng),
        checks=check_bodies(people, sizes.checks, rng),
        one_events=event_bodies(f"{label}-one-", sizes.one_by_one, rng),
        one_checks=check_bodies(people, sizes.one_by_one, rng),
        warm_events=event_bodies(f"{label}-warm-", warm, rng),
        warm_checks=check_bodies(people, warm, rng),
    )


def _choices_per_request(bodies: list[dict[str, Any]]) -> float:
    return sum(len(b["choices"]) for b in bodies) / len(bodies)


def _api(
    served: Served, store: Store, database: str, work: Workload, concurrency: int, log: Log
) -> dict[str, Any]:
    """Events and checks, one at a time and then over `concurrency` connections."""
    out: dict[str, Any] = {}
    parts = (
        ("events", "/api/v1/consent/events", _judge_event),
        ("checks", "/api/v1/consent/check", _judge_check),
    )
    for part, path, judge in parts:
        one, timed, warm = (
            (work.one_events, work.events, work.warm_events)
            if part == "events"
            else (work.one_checks, work.checks, work.warm_checks)
        )
        runs = {}
        for name, bodies, c in (("one_at_a_time", one, 1), ("concurrent", timed, concurrency)):
            log(f"consent ({work.label}): {len(bodies):,} {part}, {c} in flight")
            load = loadgen.post_all(
                served,
                store.token,
                path,
                bodies,
                concurrency=c,
                judge=judge,
                warmup=warm[: 2 * c + 10],
                database=database,
            )
            runs[name] = load.summary(c)
            if part == "events":
                per_request = _choices_per_request(bodies)
                runs[name]["choices_per_request"] = round(per_request, 3)
                runs[name]["events_per_second"] = round(runs[name]["per_second"] * per_request, 1)
            warm = warm[2 * c + 10 :] if part == "events" else warm  # new people each time
        out[part] = runs
    return out


# ---------------------------------------------------------------------------------- the bounds


def _bounds(
    conninfo: str, work: Workload, people: list[Seeded], concurrency: int, log: Log
) -> dict[str, Any]:
    """The shipped run's writes and lookups, directly, one at a time and concurrently."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT round(avg(length(sealed_email))) FROM consent_subjects")
        sealed = int(next(iter(row.fetchone() or [200])))
    by_email = {p.email: p.lookup_hash for p in people}
    warm_events = event_bodies("bound-warm-", 2 * concurrency + 10, random.Random(SEED))
    out: dict[str, Any] = {}
    consent_bound.copy_tables(conninfo)
    try:
        for name, chained in (("events", False), ("events_chained", True)):
            job = consent_bound.write_request(sealed, chained)
            runs = {}
            for run, bodies, c in (
                ("one_at_a_time", work.one_events, 1),
                ("concurrent", work.events, concurrency),
            ):
                log(f"bound: {len(bodies):,} {name}, {c} in flight")
                consent_bound.reset_tables(conninfo)
                runs[run] = consent_bound.run(
                    conninfo, job, bodies, warmup=warm_events[: 2 * c + 10], connections=c
                )
                per_request = _choices_per_request(bodies)
                runs[run]["events_per_second"] = round(runs[run]["per_second"] * per_request, 1)
            out[name] = runs
    finally:
        consent_bound.drop_tables(conninfo)
    out["lookups"] = {}
    for run, checks, c in (
        ("one_at_a_time", work.one_checks, 1),
        ("concurrent", work.checks, concurrency),
    ):
        log(f"bound: {len(checks):,} lookups, {c} in flight")
        hashes = [by_email[b["email"]] for b in checks]
        out["lookups"][run] = consent_bound.run(
            conninfo, consent_bound.lookup, hashes, warmup=hashes[: 2 * c + 10], connections=c
        )
    return out


def _ratio(a: float, b: float) -> float:
    return round(a / b, 1) if b else 0.0


def _ratios(result: dict[str, Any]) -> dict[str, float]:
    """How many times the bound's throughput, and Rightful's latency over the bound's."""
    r, b = result["rightful"], result["bound"]
    pairs = (("events", "events"), ("checks", "lookups"))
    return {
        f"{part}_throughput_bound_over_rightful": _ratio(
            b[bound]["concurrent"]["per_second"], r[part]["concurrent"]["per_second"]
        )
        for part, bound in pairs
    } | {
        f"{part}_{run}_{stat}_rightful_over_bound": _ratio(
            r[part][run]["latency"][f"{stat}_ms"], b[bound][run]["latency"][f"{stat}_ms"]
        )
        for part, bound in pairs
        for run in ("one_at_a_time", "concurrent")
        for stat in ("median", "p99")
    }


# ------------------------------------------------------------------------------ the measurement


def _fixed_requests(people: list[Seeded]) -> tuple[dict[str, Any], dict[str, str]]:
    """The requests whose statements are listed: two withdrawals, and the fullest check."""
    body = {
        "email": "statements@consent.bench",
        "choices": [
            {"purpose": "marketing.newsletter", "channel": "email", "state": "withdrawn"},
            {"purpose": "sale_share", "channel": "all", "state": "withdrawn"},
        ],
    }
    return body, {"email": people[0].email, "purpose": "marketing.newsletter", "channel": "email"}


def measure(
    server: Server, sizes: Sizes, data_dir: Path, results: Path, log: Log
) -> dict[str, Any]:
    """Every consent figure on a fresh store; the machine is recorded with them."""
    result: dict[str, Any] = {"machine": report.machine(server), "sizes": sizes.__dict__}
    result["machine"]["uvicorn_workers"] = sizes.workers
    source = _source_state()
    log(f"consent: a fresh store ({sizes.store}), {sizes.people:,} people with choices")
    store = prepare_store(server, data_dir, sizes.store)
    started = time.perf_counter()
    people = seed_people(store, sizes.people, random.Random(SEED), log)
    result["seed_people_s"] = round(time.perf_counter() - started, 1)
    consent_bound.settle(server.conninfo(sizes.store))
    result["statements"] = _statements(store, *_fixed_requests(people))
    shipped = workload("shipped", sizes, people)
    server_log = results / "consent-server.log"
    results.mkdir(parents=True, exist_ok=True)
    server_log.unlink(missing_ok=True)
    conninfo = server.conninfo(sizes.store)
    with loadgen.serving(store.env, sizes.workers, store.token, server_log) as served:
        result["rightful"] = _api(served, store, conninfo, shipped, sizes.concurrency, log)
    if sizes.suppressions:  # on a server of its own, so its peak memory is the bulk check's
        probes = check_bodies(people, 1000, random.Random(SEED))
        with loadgen.serving(store.env, sizes.workers, store.token, server_log) as served:
            result["bulk"] = consent_bulk.measure(
                served, store.runtime, conninfo, store.token, sizes.suppressions, probes, log
            )
    result["server_worker_restarts"] = loadgen.worker_restarts(server_log)
    started = time.perf_counter()  # the whole backlog (seeding and the runs) into the log
    sequenced = sequencer.run_once(
        store.runtime.sessions, store.runtime.settings, max_batches=10**9
    )
    elapsed = time.perf_counter() - started
    result["sequencer"] = {
        "events": sequenced,
        "seconds": round(elapsed, 2),
        "events_per_second": round(sequenced / elapsed) if elapsed else None,
    }
    with unit_of_work(store.runtime.sessions) as session:
        verdict = ledger.verify(session, store.runtime.settings)
        result["ledger_broken_at"] = None if verdict.intact else verdict.as_dict()
        result["subjects"] = session.scalar(select(func.count(ConsentSubject.id)))
    store.runtime.engine.dispose()
    result["bound"] = _bounds(conninfo, shipped, people, sizes.concurrency, log)
    result["ratio"] = _ratios(result)
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    if _source_state() != source:  # the tree is shared: the server may have run other code
        result["machine"]["src_changed_during_run"] = report.machine(server)["rightful_revision"]
        log("consent: src/ changed during the run; the figures mix two versions of Rightful")
    return result


def _source_state() -> str:
    """What src/ holds: its committed tree and any uncommitted change, as one string."""

    def git(*args: str) -> str:
        # A fixed git command on our own checkout; no input comes from outside.
        done = subprocess.run(  # noqa: S603
            ["git", "-C", str(loadgen.ROOT), *args],  # noqa: S607
            capture_output=True,
            text=True,
        )
        return done.stdout

    return git("rev-parse", "HEAD:src") + git("diff", "HEAD", "--", "src")
