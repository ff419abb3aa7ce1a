"""Consent checks with the per-process cache off and on, and the million-digest bulk check.

`python -m benchmarks.consent_checks [--store rightful_bench_checks] [--people 1000000] ...`

A fresh store (its own database, `--store`) is migrated and given the demo catalogue and
`--people` people, each with one or two choices, written straight into the ledger's tables with
COPY (events, states and suppression rows as the ledger writes them; fast enough for a million).
Then uvicorn serves it (`loadgen.serving`) with RIGHTFUL_CONSENT_CACHE_SECONDS 0 and then 5, and
checks go over each of `--connections` (8, 16, 32, 256) twice: people drawn from everyone
(almost every check a new subject, so a cache rarely helps) and from a hot set of 1,000 (an ad
server asked again and again about the visitors of the moment). The load generator is wrk
(`--driver wrk`, `--duration` seconds after a 2-second warm-up; every 2xx answer's `allowed`
counted by its script) or httpx (`--driver httpx`, `--checks` checks, each answer judged);
either way 100 of the checks sent are asked again and their answers compared with
`service.check` run here on the same store. Beside them, the PostgreSQL
bound: the same look-ups done directly with psycopg (`consent_bound.lookup`). Last, on a freshly
started server: a million digests (a fifth suppressed) sent as text/plain to the bulk check,
with the server's peak memory before and after, beside COPY and one join done directly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg

from benchmarks import consent, consent_bound, consent_bulk, loadgen, report, wrk
from benchmarks.consent import Store
from benchmarks.databases import Server
from benchmarks.procstat import peak_rss_mib
from rightful.consent import subjects
from rightful.core.config import Settings

SEED = 1414
HOT = 1_000
# Check bodies wrk may need a second: more than the server answers (issue 14 aims at 2,000).
WRK_PER_SECOND = 6000
IN_PROCESS_THREADS = 32
SAMPLED = 100  # answers compared with service.check after each run
# What wrk's script counts in a 2xx answer, as _judge_check names it.
PATTERNS = [("allowed", '"allowed":%s*true'), ("not allowed", '"allowed":%s*false')]
RESULTS = Path(__file__).parent / "results"
Log = Callable[[str], None]
CHECK_PAIRS = (  # as benchmarks/consent.py asks
    ("marketing.newsletter", "email"),
    ("marketing.offers", "sms"),
    ("sale_share", "all"),
    ("targeted_advertising", "all"),
)


def _judge_check(_: Any, answer: httpx.Response) -> str:
    if answer.status_code != 200:
        return f"status {answer.status_code}"
    return "allowed" if answer.json()["allowed"] else "not allowed"


def _email(i: int) -> str:
    return f"p{i:07d}@checks.bench"


def _rows(settings: Settings, people: int) -> Iterator[tuple[str, str, str]]:
    """COPY text for subjects, events and states (and suppression rows), a person at a time."""
    rng = random.Random(SEED)
    at = "2026-12-01 00:00:00+00"
    event_id = 0
    for i in range(people):
        email = _email(i)
        sid = uuid.uuid4().hex
        lookup = subjects.lookup_hash(settings, email=email)
        digest = subjects.email_sha256(email)
        subject = f"{sid}\tperson\t{lookup}\t{digest}\t{at}\n"
        events, states, listed = [], [], []
        for purpose, channel in rng.sample(CHECK_PAIRS, rng.choice((1, 2))):
            event_id += 1
            state = rng.choice(("given", "withdrawn"))
            events.append(
                f"{event_id}\t{uuid.uuid4().hex}\t{sid}\t{purpose}\t{channel}\t{state}\tapi\t"
                f"2026-01-01\tUS-CA\t{{}}\t{at}\n"
            )
            states.append(f"{sid}\t{purpose}\t{channel}\t{state}\t{event_id}\t{at}\n")
            if channel == "email" and state == "withdrawn":
                listed.append(f"{digest}\t{purpose}\tapi\t{at}\n")
        yield subject, "".join(events), "".join(states) + "|" + "".join(listed)


def seed(conninfo: str, settings: Settings, people: int, log: Log) -> float:
    """`people` people with choices, straight into the tables with COPY; seconds taken."""
    started = time.perf_counter()
    copies = {
        "s": "COPY consent_subjects (id, kind, lookup_hash, email_sha256, created_at) FROM STDIN",
        "e": "COPY consent_events (id, uid, subject_id, purpose, channel, state, interface,"
        " notice_version, jurisdiction, proof, at) FROM STDIN",
        "t": "COPY consent_states (subject_id, purpose, channel, state, event_id, updated_at)"
        " FROM STDIN",
        "m": "COPY marketing_suppressions (email_sha256, topic, reason, since) FROM STDIN",
    }
    parts: dict[str, list[str]] = {k: [] for k in copies}
    with psycopg.connect(conninfo) as conn:
        for n, (subject, events, rest) in enumerate(_rows(settings, people), start=1):
            states, listed = rest.split("|")
            parts["s"].append(subject)
            parts["e"].append(events)
            parts["t"].append(states)
            parts["m"].append(listed)
            if n % 50_000 == 0 or n == people:
                for key in "setm":  # subjects before the rows that refer to them
                    with conn.cursor().copy(copies[key]) as copy:
                        copy.write("".join(parts[key]))
                    parts[key].clear()
                conn.commit()
                log(f"  {n:,} people seeded")
        conn.execute("SELECT setval('consent_events_id_seq', (SELECT max(id) FROM consent_events))")
        conn.commit()
    consent_bound.settle(conninfo)
    return time.perf_counter() - started


def _checks(people: int, count: int, hot: bool, rng: random.Random) -> list[dict[str, str]]:
    pool = rng.sample(range(people), min(HOT, people)) if hot else None
    out = []
    for _ in range(count):
        i = rng.choice(pool) if pool else rng.randrange(people)
        purpose, channel = rng.choice(CHECK_PAIRS)
        out.append({"email": _email(i), "purpose": purpose, "channel": channel})
    return out


def _run_checks(
    store: Store, conninfo: str, cache_seconds: float, args: argparse.Namespace, log: Log
) -> dict[str, Any]:
    """Both spreads at every number of connections, on one server: {spread: {cN: figures}}."""
    env = store.env | {"RIGHTFUL_CONSENT_CACHE_SECONDS": str(cache_seconds)}
    out: dict[str, Any] = {"everyone": {}, "hot": {}}
    server_log = RESULTS / "consent-checks-server.log"
    with loadgen.serving(env, args.workers, store.token, server_log) as served:
        for connections in args.connections:
            for spread in ("everyone", "hot"):
                rng = random.Random(f"{SEED}-{spread}-{cache_seconds}-{connections}")
                count = loadgen.bodies_needed(
                    args.driver, args.checks, args.duration, WRK_PER_SECOND
                )
                bodies = _checks(args.people, count, spread == "hot", rng)
                warm_count = (
                    4 * connections if args.driver == "httpx" else WRK_PER_SECOND * loadgen.WARM_S
                )
                warm = _checks(args.people, warm_count, spread == "hot", rng)
                label = f"cache {cache_seconds:g} s, {spread}"
                what = f"{args.duration:g} s" if args.driver == "wrk" else f"{count:,}"
                log(f"checks ({label}): {what} with {args.driver}, {connections} in flight")
                driven = loadgen.drive(
                    args.driver,
                    served,
                    store.token,
                    "/api/v1/consent/check",
                    bodies,
                    concurrency=connections,
                    judge=_judge_check,
                    patterns=PATTERNS,
                    warmup=warm,
                    database=conninfo,
                    duration_s=args.duration,
                )
                sent = driven.timed
                keys = {tuple(b.values()) for b in sent}
                out[spread][f"c{connections}"] = driven.summary | {
                    "distinct_checks": len(keys),
                    "sampled": _sampled(served, store, sent, rng),
                }
                log(f"    {_brief(out[spread][f'c{connections}'])}")
    return out


def _sampled(
    served: loadgen.Served, store: Store, sent: list[dict[str, str]], rng: random.Random
) -> dict[str, int]:
    """SAMPLED of the checks sent, asked again; each answer against service.check here."""
    from rightful.consent import service
    from rightful.core.db import single_reads

    settings = store.runtime.settings.model_copy(update={"consent_cache_seconds": 0})
    headers = {"Authorization": f"Bearer {store.token}"}
    out = {"asked": 0, "agreed": 0}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=60) as http:
        for body in rng.sample(sent, min(SAMPLED, len(sent))):
            answer = http.post("/api/v1/consent/check", json=body)
            with single_reads(store.runtime.sessions) as session:
                expected = service.check(session, settings, **body).allowed
            out["asked"] += 1
            ok = answer.status_code == 200 and answer.json()["allowed"] is expected
            out["agreed"] += int(ok)
    return out


def _in_process(store: Store, cache_seconds: float, args: argparse.Namespace) -> dict[str, Any]:
    """The hot set's checks through `service.check` in this process, 32 threads each with its
    own connection: the check's own cost, without HTTP and the API token's statement."""
    from concurrent.futures import ThreadPoolExecutor

    from rightful.consent import check_cache, service
    from rightful.core.db import single_reads

    settings = store.runtime.settings.model_copy(update={"consent_cache_seconds": cache_seconds})
    bodies = _checks(args.people, args.checks, True, random.Random(f"{SEED}-in-{cache_seconds}"))
    with single_reads(store.runtime.sessions) as session:
        cache = check_cache.for_store(session, settings)
    while cache is not None and not cache.live:
        time.sleep(0.01)

    def one(body: dict[str, str]) -> float:
        started = time.perf_counter()
        with single_reads(store.runtime.sessions) as session:
            service.check(session, settings, **body)
        return time.perf_counter() - started

    with ThreadPoolExecutor(IN_PROCESS_THREADS) as pool:
        list(pool.map(one, bodies[: 2 * IN_PROCESS_THREADS]))  # connections opened, warm
        started = time.perf_counter()
        seconds = list(pool.map(one, bodies))
        wall = time.perf_counter() - started
    served = cache.served if cache else 0
    if cache is not None:
        cache.stop()
    return {
        "per_second": round(len(bodies) / wall, 1),
        "latency": loadgen.latency(seconds),
        "served_from_memory": served,
    }


def _bound(conninfo: str, settings: Settings, args: argparse.Namespace, log: Log) -> Any:
    rng = random.Random(f"{SEED}-bound")
    checks = _checks(args.people, args.checks, False, rng)
    hashes = [subjects.lookup_hash(settings, email=b["email"]) for b in checks]
    connections = IN_PROCESS_THREADS
    log(f"bound: {len(hashes):,} look-ups, {connections} in flight")
    return consent_bound.run(
        conninfo,
        consent_bound.lookup,
        hashes,
        warmup=hashes[: 2 * connections],
        connections=connections,
    )


def _bulk(store: Store, conninfo: str, args: argparse.Namespace, log: Log) -> dict[str, Any]:
    rng = random.Random(consent_bulk.SEED)
    digests, suppressed = consent_bulk._digests(args.bulk, rng)
    log(f"bulk: seeding {len(suppressed):,} suppressed digests with COPY")
    consent_bulk._seed_suppressions(conninfo, suppressed)
    body = "".join(f"{d}\n" for d in digests).encode()
    probes = _checks(args.people, 1000, False, random.Random(SEED))
    server_log = RESULTS / "consent-checks-server.log"
    with loadgen.serving(store.env, 1, store.token, server_log) as served:
        before = peak_rss_mib(served.pid)
        log(f"bulk: {len(digests):,} digests through the API ({len(body) / 1e6:.0f} MB)")
        call = consent_bulk._bulk_call(served, store.token, body, probes)
        seconds, answer, probe_seconds = asyncio.run(call)
        answer.raise_for_status()
        after = peak_rss_mib(served.pid)
    hits = answer.text.split()
    log("bulk: the bound (COPY and one join, directly)")
    join_s, join_hits = consent_bulk.bulk_join(conninfo, digests)
    return {
        "digests": len(digests),
        "suppressed_seeded": len(suppressed),
        "body_mb": round(len(body) / 1e6, 1),
        "seconds": round(seconds, 2),
        "correct": set(hits) == suppressed and len(hits) == len(suppressed),
        "checked_header": answer.headers.get("x-checked"),
        "server_peak_rss_mib_before": before,
        "server_peak_rss_mib_after": after,
        "probe_checks_alongside": {
            "count": len(probe_seconds),
            **(loadgen.latency(probe_seconds) if probe_seconds else {}),
        },
        "bound_copy_join_s": round(join_s, 2),
        "bound_correct": join_hits == suppressed,
    }


def main(argv: list[str] | None = None) -> None:
    """Run and print the figures; they are also written to results/consent-checks.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="rightful_bench_checks", help="database name")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=20_000, help="each run's, with httpx")
    parser.add_argument("--connections", default="8,16,32,256", help="comma-separated")
    parser.add_argument("--driver", choices=loadgen.DRIVERS, default="wrk")
    parser.add_argument("--duration", type=float, default=10, help="each wrk run's seconds")
    parser.add_argument(
        "--rounds", type=int, default=2, help="servers with the cache off, then on, each"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache-seconds", type=float, default=5)
    parser.add_argument("--bulk", type=int, default=1_000_000, help="digests (0: no bulk)")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the store as it is")
    args = parser.parse_args(argv)
    args.connections = [int(n) for n in args.connections.split(",")]
    if args.driver == "wrk":
        try:
            wrk.require()
        except wrk.WrkMissingError as exc:
            parser.error(str(exc))

    def log(line: str) -> None:
        print(line, flush=True)

    server = Server()
    result: dict[str, Any] = {"machine": report.machine(server), "args": vars(args)}
    result["machine"]["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="rightful-checks-") as data_dir:
        _measure(server, args, Path(data_dir), result, log)


def _measure(
    server: Server, args: argparse.Namespace, data_dir: Path, result: dict[str, Any], log: Log
) -> None:
    store = consent.prepare_store(server, data_dir, args.store)
    conninfo = server.conninfo(args.store)
    result["seed_s"] = round(seed(conninfo, store.runtime.settings, args.people, log), 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result["checks"] = {}
    for seconds in (0, args.cache_seconds) * args.rounds:  # interleaved
        runs = result["checks"].setdefault(f"cache_{seconds:g}s", [])
        runs.append(_run_checks(store, conninfo, seconds, args, log))
        runs[-1]["in_process_hot"] = _in_process(store, seconds, args)
        runs[-1]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    result["bound"] = _bound(conninfo, store.runtime.settings, args, log)
    if args.bulk:
        result["bulk"] = _bulk(store, conninfo, args, log)
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    store.runtime.engine.dispose()
    path = RESULTS / "consent-checks.json"
    path.write_text(json.dumps(result, indent=2))
    log(json.dumps(_summary(result), indent=2))
    log(f"raw results: {path}")


def _brief(run: dict[str, Any]) -> str:
    lat = run["latency"]
    line = f"{run['per_second']}/s p50 {lat['median_ms']} p99 {lat['p99_ms']} ms"
    if "cpu_ms_per_request" in run:
        cpu = run["cpu_ms_per_request"]
        line += (
            f"; CPU ms a check: server {cpu['server']}, client {cpu['client']}, PostgreSQL "
            f"{cpu['postgres']}; {run['outcomes']}"
        )
    if "sampled" in run:
        line += f"; sampled {run['sampled']['agreed']}/{run['sampled']['asked']} right"
    return line


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        key: [
            {
                spread: {c: _brief(run) for c, run in r[spread].items()}
                for spread in ("everyone", "hot")
            }
            | {"in_process_hot": _brief(r["in_process_hot"])}
            for r in runs
        ]
        for key, runs in result["checks"].items()
    }
    out["bound"] = _brief(result["bound"])
    if "bulk" in result:
        out["bulk"] = {k: v for k, v in result["bulk"].items() if k != "probe_checks_alongside"}
    return out


if __name__ == "__main__":
    main()
