"""The consent sequencer alone: how many pending events a second it gives their place in the
signed log, and the CPU that costs, on PostgreSQL.

A fresh database (`--store`, default `rightful_bench_consent_sequencer`) is migrated and gets
`--events` pending events (50,000 by default) copied straight in, as writers would have left
them (no position), spread over `--subjects` browsers. Then `sequencer.run_once` is called until
nothing is pending, as the worker's lane does during a backlog, and the run reports:

- `events_per_s`: events sequenced per wall-clock second (the machine's load shows in it);
- `python_cpu_ms_per_1000`: this process's CPU (the sequencer's Python) per 1,000 events;
- `postgres_cpu_ms_per_1000`: the CPU of the sequencer's PostgreSQL backend (one connection:
  the engine's pool holds one) per 1,000 events, read from /proc;
- `events_per_cpu_s`: events per CPU second of both together, what one core would sustain;
- the heads signed, and whether `rightful consent verify` finds the log intact.

`--profile` prints the 25 functions with most cumulative time under cProfile (the profiler
slows Python; use it to see where time goes, not for the numbers).

    .venv/bin/python -m benchmarks.consent_sequencer --events 50000

To measure an older commit, extract it (`git archive <commit> | tar -x -C /tmp/snap`), copy
this file into its benchmarks/ and run it there with PYTHONPATH=/tmp/snap/src:/tmp/snap.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from benchmarks.databases import Server
from rightful.consent import catalog, ledger, sequencer
from rightful.consent.models import ConsentEvent, ConsentTreeHead
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.migrations import upgrade

STORE = "rightful_bench_consent_sequencer"

_SEED = """
INSERT INTO consent_subjects (id, kind, lookup_hash, created_at)
SELECT 'bench' || g, 'device', md5('subject' || g) || md5('lookup' || g), now()
FROM generate_series(1, %(subjects)s) g;
INSERT INTO consent_events
    (uid, subject_id, purpose, channel, state, interface, notice_version, jurisdiction,
     proof, actor, at)
SELECT md5('event' || g), 'bench' || (g %% %(subjects)s + 1), %(purpose)s, 'all',
       CASE WHEN g %% 3 = 0 THEN 'given' ELSE 'withdrawn' END, 'banner', 'v1', 'US-CA',
       json_build_object('gpc', g %% 2 = 0, 'ip_sha256', md5('ip' || g)), NULL,
       now() + g * interval '1 microsecond'
FROM generate_series(1, %(events)s) g;
"""


def _backend_ticks(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def seed(server: Server, store: str, events: int, subjects: int) -> str:
    """A fresh, migrated store with `events` pending events; its SQLAlchemy URL."""
    server.recreate(store)
    url = server.url(store)
    engine = make_engine(url, pool_size=1)
    upgrade(engine)
    with sessionmaker(engine)() as session:
        catalog.ensure_built_in(session)
        session.commit()
    engine.dispose()
    with psycopg.connect(server.conninfo(store), autocommit=True) as conn:
        params = {"events": events, "subjects": subjects, "purpose": catalog.SALE_SHARE}
        for statement in _SEED.split(";")[:-1]:
            conn.execute(statement, params)
        conn.execute("VACUUM ANALYZE")
    return url


def measure(url: str, *, profile: bool = False) -> dict[str, Any]:
    """Call `run_once` until nothing is pending; events/s and CPU per 1,000 events."""
    settings = Settings(
        database_url=url, secret_key=secrets.token_urlsafe(40), data_dir=Path(tempfile.mkdtemp())
    )
    engine = make_engine(url, pool_size=1)
    sessions = sessionmaker(engine)
    with engine.connect() as conn:  # the pool's one connection: the sequencer's backend
        backend = int(conn.scalar(text("SELECT pg_backend_pid()")) or 0)
        pending = int(conn.scalar(select(func.count()).where(ConsentEvent.position.is_(None))) or 0)
    profiler = cProfile.Profile() if profile else None
    passes, done = 0, 0
    pg0, cpu0, wall0 = _backend_ticks(backend), time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    while True:
        taken = sequencer.run_once(sessions, settings)
        if not taken:
            break
        passes, done = passes + 1, done + taken
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT pg_backend_pid()")) == backend, "another connection ran"
    pg = _backend_ticks(backend) - pg0
    with sessions() as session:
        heads = session.scalar(select(func.count()).select_from(ConsentTreeHead))
        intact = ledger.verify(session, settings).intact
    engine.dispose()
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    per = 1000 / max(done, 1)
    return {
        "pending": pending,
        "sequenced": done,
        "passes": passes,
        "heads": heads,
        "wall_s": round(wall, 2),
        "events_per_s": round(done / wall),
        "python_cpu_ms_per_1000": round(cpu * 1000 * per, 1),
        "postgres_cpu_ms_per_1000": round(pg * 1000 * per, 1),
        "events_per_cpu_s": round(done / max(cpu + pg, 1e-9)),
        "verify_intact": intact,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--subjects", type=int, default=5_000)
    parser.add_argument("--store", default=STORE + "_" + secrets.token_hex(3))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 25")
    args = parser.parse_args(argv)
    server = Server()
    url = seed(server, args.store, args.events, args.subjects)
    try:
        result = measure(url, profile=args.profile)
    finally:
        if not args.keep:
            with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.store}" WITH (FORCE)')
    print(json.dumps({"events": args.events, **result}))


if __name__ == "__main__":
    main()
