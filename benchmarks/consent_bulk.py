"""The bulk suppression check: a million SHA-256 digests through the API, and directly.

A fifth of the digests are put on `marketing_suppressions` with COPY first (setup). Then all of
them go to `POST /api/v1/suppressions/bulk` as text/plain, one a line, while a single check is
sent every 0.2 s beside it: twice, the first call being the freshly started server's first, each
with the CPU it took in the server and in the store's PostgreSQL backends (/proc); then the same
check in process without HTTP; then the lower bounds: COPY into a temporary table and one join,
and `= ANY(%s)` a chunk at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from benchmarks import consent_bound, loadgen
from benchmarks.loadgen import Served
from benchmarks.procstat import peak_rss_mib, tree_cpu_s
from rightful.consent import suppression
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime

SUPPRESSED_SHARE = 0.2
SEED = 2718


def _digests(count: int, rng: random.Random) -> tuple[list[str], set[str]]:
    digests = [hashlib.sha256(f"b{i:07d}@bulk.bench".encode()).hexdigest() for i in range(count)]
    return digests, set(rng.sample(digests, round(SUPPRESSED_SHARE * count)))


def _seed_suppressions(conninfo: str, suppressed: set[str]) -> float:
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        copy_sql = "COPY marketing_suppressions (email_sha256, topic, reason, since) FROM STDIN"
        with conn.cursor().copy(copy_sql) as copy:
            for digest in sorted(suppressed):
                copy.write(f"{digest}\t*\tbench\t2026-12-01 00:00:00+00\n")
    consent_bound.settle(conninfo)
    return time.perf_counter() - started


async def _bulk_call(
    served: Served, token: str, body: bytes, probes: list[dict[str, str]]
) -> tuple[float, httpx.Response, list[float]]:
    """The bulk check, while a single check is sent every 0.2 s beside it."""
    async with loadgen.client(served, token, 4) as http:
        done = asyncio.Event()
        probe_seconds: list[float] = []

        async def probe() -> None:
            for check in probes:
                if done.is_set():
                    return
                start = time.perf_counter()
                (await http.post("/api/v1/consent/check", json=check)).raise_for_status()
                probe_seconds.append(time.perf_counter() - start)
                await asyncio.sleep(0.2)

        task = asyncio.create_task(probe())
        start = time.perf_counter()
        answer = await http.post(
            "/api/v1/suppressions/bulk", content=body, headers={"Content-Type": "text/plain"}
        )
        seconds = time.perf_counter() - start
        done.set()
        await task
    return seconds, answer, probe_seconds


def _backends_cpu_s(conninfo: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend of the benchmark's database (its
    server's connections), by process id."""
    hz = os.sysconf("SC_CLK_TCK")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        pids = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / hz  # utime, stime
    return found


def _timed_call(
    served: Served, conninfo: str, token: str, body: bytes, probes: list[dict[str, str]]
) -> tuple[dict[str, Any], httpx.Response, list[float]]:
    """One bulk call: its seconds, and the CPU seconds the server and PostgreSQL spent."""
    server_before, pg_before = tree_cpu_s([served.pid]), _backends_cpu_s(conninfo)
    seconds, answer, probe_seconds = asyncio.run(_bulk_call(served, token, body, probes))
    server_after, pg_after = tree_cpu_s([served.pid]), _backends_cpu_s(conninfo)
    pg = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
    spent = {
        "seconds": round(seconds, 2),
        "server_cpu_s": round(server_after - server_before, 2),
        "postgres_cpu_s": round(pg, 2),
    }
    return spent, answer, probe_seconds


def measure(
    served: Served,
    runtime: Runtime,
    conninfo: str,
    token: str,
    count: int,
    probes: list[dict[str, str]],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Put a fifth of `count` digests on the list directly, then check all `count` through the
    API (with `probes`, single checks, sent alongside), in process and directly."""
    rng = random.Random(SEED)
    digests, suppressed = _digests(count, rng)
    log(f"bulk: seeding {len(suppressed):,} suppressed digests with COPY")
    seed_s = _seed_suppressions(conninfo, suppressed)
    body = "".join(f"{d}\n" for d in digests).encode()
    log(f"bulk: checking {len(digests):,} digests through the API ({len(body) / 1e6:.0f} MB)")
    first, answer, probe_seconds = _timed_call(served, conninfo, token, body, probes)
    answer.raise_for_status()
    hits = answer.text.split()
    peak_mib = peak_rss_mib(served.pid)
    log("bulk: the same check through the API again (the server's second call)")
    second, again, _ = _timed_call(served, conninfo, token, body, probes)
    again.raise_for_status()
    seconds = first["seconds"]
    log("bulk: the same check in process, without HTTP (parse_hashes, then check_hashes)")
    started = time.perf_counter()
    parsed = suppression.parse_hashes(body.decode().splitlines())
    parse_s = time.perf_counter() - started
    with unit_of_work(runtime.sessions) as session:
        found = suppression.check_hashes(session, parsed)
    in_process_s = time.perf_counter() - started
    log("bulk: the same check directly (COPY and JOIN, then = ANY in chunks)")
    join_s, join_hits = bulk_join(conninfo, digests)
    any_s, any_hits = bulk_any(conninfo, digests, suppression.CHUNK)
    return {
        "digests": len(digests),
        "suppressed_seeded": len(suppressed),
        "seed_s": round(seed_s, 1),
        "body_mb": round(len(body) / 1e6, 1),
        "rightful": {
            "seconds": round(seconds, 2),
            "checked_header": int(answer.headers.get("X-Checked", -1)),
            "suppressed_returned": len(hits),
            "correct": set(hits) == suppressed,
            "first_call": first,  # the freshly started server's first
            "second_call": {**second, "correct": set(again.text.split()) == suppressed},
            "server_peak_rss_mib": peak_mib,
            "in_process_s": round(in_process_s, 2),
            "in_process_parse_s": round(parse_s, 2),
            "in_process_correct": found == suppressed,
            "probe_checks_alongside": {
                "count": len(probe_seconds),
                **(loadgen.latency(probe_seconds) if probe_seconds else {}),
            },
        },
        "bound": {
            "copy_join_s": round(join_s, 2),
            "copy_join_correct": join_hits == suppressed,
            "any_chunks_s": round(any_s, 2),
            "any_chunks_correct": any_hits == suppressed,
            "chunk": suppression.CHUNK,
        },
        "ratio": {
            "to_copy_join": round(seconds / join_s, 1),
            "to_any_chunks": round(seconds / any_s, 1),
        },
    }


# ---------------------------------------------------------------------------------- the bounds


def bulk_join(conninfo: str, digests: list[str]) -> tuple[float, set[str]]:
    """COPY the digests into a temporary table and join it to the list; seconds and hits."""
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        conn.execute("CREATE TEMP TABLE wanted (email_sha256 varchar(64)) ON COMMIT DROP")
        with conn.cursor().copy("COPY wanted (email_sha256) FROM STDIN") as copy:
            for digest in digests:
                copy.write_row((digest,))
        rows = conn.execute(
            "SELECT w.email_sha256 FROM wanted w JOIN marketing_suppressions s"
            " ON s.email_sha256 = w.email_sha256 AND s.topic = '*'"
        ).fetchall()
    return time.perf_counter() - started, {r[0] for r in rows}


def bulk_any(conninfo: str, digests: list[str], chunk: int) -> tuple[float, set[str]]:
    """`= ANY(%s)` a chunk at a time, the chunks Rightful uses; seconds and hits."""
    query = (
        "SELECT email_sha256 FROM marketing_suppressions"
        " WHERE email_sha256 = ANY(%s) AND topic = ANY(%s)"
    )
    hits: set[str] = set()
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for start in range(0, len(digests), chunk):
            found = conn.execute(query, (digests[start : start + chunk], ["*"]), prepare=True)
            hits.update(r[0] for r in found)
    return time.perf_counter() - started, hits
