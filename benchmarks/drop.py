"""A DROP cycle on a large PostgreSQL estate: a million-line e-mail list, one line in ten
matching, from import to status file; beside the same match done as one SQL join in the estate.

    .venv/bin/python -m benchmarks.drop                      # 1,000,000 customers and lines
    .venv/bin/python -m benchmarks.drop --customers 200000 --lines 1000000

Builds the estate once (benchmarks/estate.py; reused while its row counts hold), then a fresh
store of its own, `rightful_bench_drop`. Rightful's side: read the list into the store, rebuild
the keyed index over the estate, the join, reading the matched rows back for their e-mail
address, opening one deletion per matched person (verified by the platform, approved by the
import), settling the 900,000 not found, writing the status file. The bound: COPY the list into
the estate and join it with SHA-256 computed by PostgreSQL over every customer's e-mail.
Deletions themselves run on the worker at the erasure throughput measured in docs/benchmarks.md.
Writes benchmarks/results/drop.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import secrets
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from benchmarks import estate
from benchmarks.databases import Server, estate_name
from benchmarks.store import settings_values
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import build_runtime
from rightful.demo.estate import SYSTEMS
from rightful.demo.setup import load_data_map
from rightful.drop import service
from rightful.drop.hashing import ListType, list_hash
from rightful.migrations import upgrade
from rightful.security.permissions import system_actor

STORE = "rightful_bench_drop"
RESULTS = Path(__file__).parent / "results"
ALPHABET = string.ascii_letters + string.digits


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _matching_emails(conninfo: str, customers: int, count: int) -> list[str]:
    ids = random.Random(12).sample(range(1, customers + 1), min(count, customers))
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT email FROM customers WHERE id = ANY(%s)", (ids,)).fetchall()
    return [r[0] for r in rows]


def write_list(path: Path, emails: list[str], lines: int, every: int) -> list[tuple[str, str]]:
    """The list file: one line in `every` an estate e-mail's hash, the others strangers'."""
    rng = random.Random(7)
    out: list[tuple[str, str]] = []
    matches = iter(emails)
    for n in range(lines):
        item = "".join(rng.choice(ALPHABET) for _ in range(12))
        email = next(matches, None) if n % every == 0 else None
        email = email or f"stranger.{n}.{secrets.token_hex(4)}@elsewhere.example"
        out.append((item, list_hash(ListType.EMAIL, {"email": email}) or ""))
    with path.open("w") as handle:
        handle.write("ID,Hash\n")
        handle.writelines(f"{i},{h}\n" for i, h in out)
    return out


def bound(conninfo: str, rows: list[tuple[str, str]]) -> dict[str, Any]:
    """The same match as one statement in the estate: COPY the list, hash every customer's
    e-mail in PostgreSQL (lower-cased, trimmed: DROP's e-mail rule) and join."""
    with psycopg.connect(conninfo) as conn:
        started = time.perf_counter()
        conn.execute("CREATE TEMP TABLE drop_list (id text, hash text)")
        with conn.cursor().copy("COPY drop_list (id, hash) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        copied = time.perf_counter()
        found = conn.execute(
            "SELECT count(*) FROM customers c JOIN drop_list l ON l.hash = "
            "encode(sha256(convert_to(lower(trim(c.email)), 'UTF8')), 'base64')"
        ).fetchone()
        joined = time.perf_counter()
    return {
        "copy_seconds": copied - started,
        "join_seconds": joined - copied,
        "total_seconds": joined - started,
        "matched": found[0] if found else 0,
    }


def machine(server: Server) -> dict[str, Any]:
    """What the run ran on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(int(memory) / 1024 / 1024, 1),
        "load_before": os.getloadavg(),
        "postgresql": server.version(),
        "python": platform.python_version(),
    }


def run(
    customers: int, lines: int, every: int, rebuild: bool, server: Server | None = None
) -> dict[str, Any]:
    """Build what is missing, run the cycle and the bound, return every figure."""
    server = server or Server()
    name = estate_name(customers)
    conninfo = server.conninfo(name)
    result: dict[str, Any] = {"machine": machine(server), "customers": customers, "lines": lines}
    if rebuild or not server.exists(name) or not estate.is_built(conninfo, customers):
        _log(f"building the estate {name} ({customers:,} customers)")
        server.recreate(name)
        result["estate_build"] = estate.build(conninfo, customers, _log)
    folder = Path(tempfile.mkdtemp(prefix="rightful-bench-drop-"))
    emails = _matching_emails(conninfo, customers, lines // every)
    path = folder / "20261201_4821_Email.csv"
    rows = write_list(path, emails, lines, every)
    _log(f"list written: {lines:,} lines, {len(emails):,} matching")
    server.recreate(STORE)
    values = {**settings_values(server, folder), "database_url": server.url(STORE)}
    runtime = build_runtime(Settings(**values))
    upgrade(runtime.engine)
    load_data_map(runtime, dict.fromkeys(SYSTEMS, server.url(name)))
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with unit_of_work(runtime.sessions) as session:
        done = service.import_list(
            session, runtime.settings, path=path, actor=system_actor("bench"), timings=timings
        )
    imported = time.perf_counter()
    with unit_of_work(runtime.sessions) as session:
        files = service.write_status_files(
            session, runtime.settings, actor=system_actor("bench"), folder=folder / "status"
        )
    finished = time.perf_counter()
    timings["status file"] = finished - imported
    result["rightful"] = {
        "seconds": timings,
        "import_to_status_file_seconds": finished - started,
        "matched": done.matched,
        "indexed": done.indexed,
        "status_lines": sum(len(f.read_text().splitlines()) - 1 for f in files),
    }
    _log(f"Rightful: {finished - started:.1f} s from import to status file")
    result["bound"] = bound(conninfo, rows)
    _log(f"one SQL join: {result['bound']['total_seconds']:.1f} s")
    result["machine"]["load_after"] = os.getloadavg()
    runtime.engine.dispose()
    return result


def table(result: dict[str, Any]) -> str:
    """The phases, the total and the bound, as printed."""
    out = io.StringIO()
    out.write(f"DROP cycle, {result['lines']:,} lines on {result['customers']:,} customers\n")
    for phase, seconds in result["rightful"]["seconds"].items():
        out.write(f"  {phase:<26} {seconds:8.1f} s\n")
    total = result["rightful"]["import_to_status_file_seconds"]
    out.write(f"  {'import to status file':<26} {total:8.1f} s\n")
    out.write(f"  {'one SQL join (bound)':<26} {result['bound']['total_seconds']:8.1f} s")
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    """Run and print; write benchmarks/results/drop.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drop", description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=10, help="one line in N matches")
    parser.add_argument("--rebuild", action="store_true", help="build the estate again")
    args = parser.parse_args(argv)
    result = run(args.customers, args.lines, args.every, args.rebuild)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "drop.json").write_text(json.dumps(result, indent=2, default=str))
    print(table(result))


if __name__ == "__main__":
    main()
