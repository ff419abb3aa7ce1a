"""`make bench`: time access requests through Rightful on a large PostgreSQL estate.

Builds (once) an estate of a million customers, sets up a fresh Rightful store, then times one
request, a thousand one after another and a thousand over two processes, against the same
index lookups issued directly with psycopg. Then consent through the real server on loopback
(benchmarks/consent.py), and an unrelated page while 8 clients fail sign-ins
(benchmarks/signin.py). Prints a table; writes benchmarks/results/latest.json.
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

from sqlalchemy import func, select

from benchmarks import (
    api_run,
    bound,
    bulk_intake,
    consent,
    consent_events,
    drop,
    erasure,
    estate,
    http_systems,
    loadgen,
    parallel,
    profiling,
    report,
    signin,
    wrk,
)
from benchmarks.counting import StatementCounter, transactions
from benchmarks.databases import DEFAULT_CUSTOMERS, STORE, Server, estate_name
from benchmarks.drive import Driver, Record
from benchmarks.store import Person, prepare, sample_people, settings_values
from rightful.core.runtime import Runtime
from rightful.rights.models import ExecutionStep
from rightful.security import audit

RESULTS = Path(__file__).parent / "results"
SINGLES = 7  # a cold request, five warm-ups and a warm one, from people outside the runs
# The consent section's sizes: (argument, default, default with --quick).
CONSENT_DEFAULTS = (
    ("consent_events", 5000, 300),
    ("consent_checks", 5000, 300),
    ("consent_people", 10_000, 1000),
    ("suppressions", 1_000_000, 100_000),
)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--customers", type=int, help=f"default {DEFAULT_CUSTOMERS:,}")
    parser.add_argument("--requests", type=int, help="default 1,000")
    parser.add_argument("--processes", type=int, default=2, help="for the throughput run")
    parser.add_argument("--profile-requests", type=int, default=50)
    parser.add_argument(
        "--erasures", type=int, help="erasure requests, on a copy of the estate (0 skips)"
    )
    parser.add_argument("--only-erasures", action="store_true", help="skip the access requests")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the estate")
    parser.add_argument("--consent-only", action="store_true", help="only the consent section")
    parser.add_argument(
        "--consent-events", type=int, help="event requests through the API (0 skips consent)"
    )
    parser.add_argument("--consent-checks", type=int, help="check requests through the API")
    parser.add_argument("--consent-people", type=int, help="people seeded with choices")
    parser.add_argument(
        "--suppressions", type=int, help="digests in the bulk suppression check (0 skips it)"
    )
    parser.add_argument("--consent-connections", type=int, default=32)
    parser.add_argument(
        "--consent-store", default=consent.STORE, help="the consent sections' database prefix"
    )
    parser.add_argument(
        "--consent-events-only", action="store_true", help="only the consent events matrix"
    )
    parser.add_argument(
        "--events-requests", type=int, help="requests a kind in the events matrix (0 skips it)"
    )
    parser.add_argument("--events-batch", type=int, default=10, help="events in a batch request")
    parser.add_argument(
        "--events-bulk-people", type=int, default=0, help="people copied in (e.g. 1000000)"
    )
    parser.add_argument("--events-connections", default="8,16,32,256")
    parser.add_argument(
        "--consent-driver",
        choices=loadgen.DRIVERS,
        default="wrk",
        help="the events matrix's load generator (wrk: apt-get install -y wrk)",
    )
    parser.add_argument(
        "--events-duration", type=float, help="seconds of each wrk run (default 10, quick 3)"
    )
    parser.add_argument("--events-workers", default="2,4", help="server processes")
    parser.add_argument(
        "--consent-workers", type=int, default=os.cpu_count() or 1, help="uvicorn workers"
    )
    parser.add_argument(
        "--signin-pages", type=int, help="page requests a sign-in flood run (0 skips sign-in)"
    )
    parser.add_argument("--signin-only", action="store_true", help="only the sign-in section")
    parser.add_argument(
        "--http-requests", type=int, help="access requests reaching 3 HTTP systems (0 skips)"
    )
    parser.add_argument("--http-only", action="store_true", help="only the HTTP systems section")
    parser.add_argument(
        "--bulk-lines",
        help="bulk intake batch sizes, comma-separated (default 1000,10000; 0 skips)",
    )
    parser.add_argument("--bulk-only", action="store_true", help="only the bulk intake section")
    parser.add_argument(
        "--drop-lines", type=int, help="DROP list lines, one in ten matching (0 skips)"
    )
    parser.add_argument("--drop-only", action="store_true", help="only the DROP cycle")
    parser.add_argument(
        "--cold-start",
        action="store_true",
        help="only rightful serve's first answer and memory (benchmarks/cold_start.py)",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 customers, 100 requests")
    parser.add_argument(
        "--api", action="store_true", help="only the API run: HTTP and real workers (--api-*)"
    )
    api_run.add_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    args = parser.parse_args(argv)
    args.customers = args.customers or (20_000 if args.quick else DEFAULT_CUSTOMERS)
    args.requests = args.requests or (100 if args.quick else 1000)
    if args.erasures is None:
        args.erasures = 100 if args.quick else 1000
    quick = args.quick
    if args.signin_pages is None:
        args.signin_pages = 100 if quick else 400
    if args.http_requests is None:
        args.http_requests = 10 if quick else 30
    if args.bulk_lines is None:
        args.bulk_lines = "1000" if quick else "1000,10000"
    args.bulk_sizes = [int(n) for n in args.bulk_lines.split(",") if n.strip() and int(n)]
    if args.drop_lines is None:
        args.drop_lines = 100_000 if quick else 1_000_000
    if args.events_duration is None:
        args.events_duration = 3 if quick else 10
    if args.events_requests is None:
        args.events_requests = 200 if quick else 2000
    for name, full, small in CONSENT_DEFAULTS:
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    if args.consent_driver == "wrk" and _events_matrix_runs(args):
        try:
            wrk.require()  # now, not after the estate and the other sections
        except wrk.WrkMissingError as exc:
            parser.error(str(exc))
    return args


def _events_matrix_runs(args: argparse.Namespace) -> bool:
    """Whether this run reaches the consent events matrix (see `main`)."""
    if args.consent_events_only:
        return True
    alone = ("cold_start", "api", "consent_only", "signin_only", "http_only", "bulk_only")
    if any(getattr(args, name) for name in (*alone, "drop_only", "only_erasures")):
        return False
    return bool(args.consent_events and args.events_requests)


def _consent(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    sizes = consent.Sizes(
        events=args.consent_events,
        checks=args.consent_checks,
        people=args.consent_people,
        suppressions=args.suppressions,
        concurrency=args.consent_connections,
        workers=args.consent_workers,
        one_by_one=20 if args.quick else 200,
        store=args.consent_store,
    )
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        return consent.measure(server, sizes, Path(data_dir), RESULTS, _log)


def _consent_only(server: Server, args: argparse.Namespace) -> None:
    """`--consent-only`: the consent section alone, put into results/latest.json."""
    path = RESULTS / "latest.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result["consent"] = _consent(server, args)
    report.write(result, path)
    print(consent.table(result["consent"]))
    print(f"\nraw results: {path} (the consent key)")


def _consent_events(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    matrix = consent_events.Matrix(
        requests=args.events_requests,
        batch=args.events_batch,
        people=args.consent_people,
        bulk_people=args.events_bulk_people,
        connections=tuple(int(n) for n in args.events_connections.split(",")),
        workers=tuple(int(n) for n in args.events_workers.split(",")),
        store=f"{args.consent_store}_events",
        driver=args.consent_driver,
        duration_s=args.events_duration,
    )
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        return consent_events.measure(server, matrix, Path(data_dir), RESULTS, _log)


def _consent_events_only(server: Server, args: argparse.Namespace) -> None:
    """`--consent-events-only`: the events matrix alone, put into results/latest.json."""
    path = RESULTS / "latest.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result["consent_events"] = _consent_events(server, args)
    report.write(result, path)
    print(consent_events.table(result["consent_events"]))
    print(f"\nraw results: {path} (the consent_events key)")


def _signin(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        return signin.measure(server, args.signin_pages, Path(data_dir), RESULTS, _log)


def _signin_only(server: Server, args: argparse.Namespace) -> None:
    """`--signin-only`: the sign-in section alone, put into results/latest.json."""
    path = RESULTS / "latest.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result["signin"] = _signin(server, args)
    report.write(result, path)
    print(signin.table(result["signin"]))
    print(f"\nraw results: {path} (the signin key)")


def _http(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        return http_systems.measure(args.http_requests, Path(data_dir), _log)


def _http_only(server: Server, args: argparse.Namespace) -> None:
    """`--http-only`: the HTTP systems section alone, put into results/latest.json."""
    path = RESULTS / "latest.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result["http"] = _http(args)
    result.setdefault("machine", report.machine(server))
    report.write(result, path)
    print(http_systems.table(result["http"]))
    print(f"\nraw results: {path} (the http key)")


def _estate(server: Server, customers: int, rebuild: bool) -> dict[str, Any]:
    name = estate_name(customers)
    conninfo = server.conninfo(name)
    found = None if rebuild or not server.exists(name) else estate.is_built(conninfo, customers)
    if found is not None:
        _log(f"estate {name}: already built, {sum(found.values()):,} rows")
        out: dict[str, Any] = {"database": name, "built_now": False, "rows": found}
    else:
        _log(f"estate {name}: building {customers:,} customers")
        server.recreate(name)
        started = time.perf_counter()
        out = {"database": name, "built_now": True, **estate.build(conninfo, customers, _log)}
        out["build_s"] = round(time.perf_counter() - started, 1)
    return {
        **out,
        "customers": customers,
        "total_rows": sum(out["rows"].values()),
        "size_gb": estate.size_gb(conninfo),
    }


def _single(driver: Driver, people: list[Person]) -> dict[str, Any]:
    """The first request of the process, then one after a few warm-ups (all tables reflected)."""
    out = {}
    for label, person in (("cold", people[0]), ("warm", people[-1])):
        if label == "warm":
            for other in people[1:-1]:
                driver.request(other)
        record = driver.request(person)
        out[label] = {
            "execute_ms": 1000 * record["execute_s"],
            "end_to_end_ms": 1000 * record["end_to_end_s"],
            "counts": {p: record[f"{p}_counts"] for p in report.PHASES},
        }
    return out


def _sequential(
    server: Server, counter: StatementCounter, driver: Driver, people: list[Person], estate_db: str
) -> tuple[dict[str, Any], list[Record]]:
    counter.close_pools()  # the server counts a backend's transactions when it exits
    before = transactions(server, [STORE, estate_db])
    started = time.perf_counter()
    records = driver.run(people, lambda n: _log(f"  {n} done"))
    wall = time.perf_counter() - started
    counter.close_pools()
    after = transactions(server, [STORE, estate_db])
    xacts = {
        side: round((after[db] - before[db]) / len(people), 2)
        for side, db in (("store", STORE), ("estate", estate_db))
    }
    return {
        "wall_s": round(wall, 2),
        "per_minute": round(60 * len(people) / wall, 1),
        "timings": report.timings(records),
        "counts_per_request": report.counts_per_request(records),
        "transactions_per_request": xacts,
    }, records


def _rows_read(runtime: Runtime, records: list[Record]) -> dict[str, int]:
    """Rows each request read from the estate, by e-mail, as execution recorded them."""
    by_request = {r["request_id"]: r["email"] for r in records}
    with runtime.sessions() as session:
        stmt = (
            select(ExecutionStep.request_id, func.sum(ExecutionStep.row_count))
            .where(ExecutionStep.request_id.in_(list(by_request)))
            .group_by(ExecutionStep.request_id)
        )
        return {by_request[rid]: int(rows) for rid, rows in session.execute(stmt)}


def _bound(
    server: Server,
    estate_db: str,
    people: list[Person],
    processes: int,
    rightful_rows: dict[str, int],
) -> dict[str, Any]:
    conninfo = server.conninfo(estate_db)
    records = bound.run(conninfo, [p.email for p in people])
    par = parallel.in_processes("bound", people, processes, conninfo)
    mismatches = sum(1 for email, _, rows in records if rightful_rows.get(email) != rows)
    return {
        "sequential": report.spread([s for _, s, _ in records]),
        "per_minute_1": round(60 * len(records) / sum(s for _, s, _ in records), 1),
        "per_minute_parallel": round(par["per_minute"], 1),
        "statements_per_request": len(bound.LOOKUPS),
        "rows_per_request": round(sum(r for _, _, r in records) / len(records), 1),
        "rows_differing_from_rightful": mismatches,
    }


def _ratios(result: dict[str, Any]) -> dict[str, float]:
    bound_ms = result["bound"]["sequential"]["mean_ms"]
    timings = result["sequential"]["timings"]
    return {
        "execute_mean": round(timings["execute"]["mean_ms"] / bound_ms, 2),
        "execute_median": round(
            timings["execute"]["median_ms"] / result["bound"]["sequential"]["median_ms"], 2
        ),
        "warm_single": round(result["single"]["warm"]["execute_ms"] / bound_ms, 2),
        "end_to_end_mean": round(timings["end_to_end"]["mean_ms"] / bound_ms, 2),
    }


def _parallel(people: list[Person], processes: int, values: dict[str, Any]) -> dict[str, Any]:
    par = parallel.in_processes("rightful", people, processes, values, STORE)
    return {
        "processes": processes,
        "wall_s": round(par["wall_s"], 2),
        "per_minute": round(par["per_minute"], 1),
        "timings": report.timings(par["records"]),
    }


def _measure(
    server: Server, args: argparse.Namespace, estate_db: str, data_dir: Path
) -> dict[str, Any]:
    """Every measurement on a fresh store; the caller adds the machine and the estate."""
    values = settings_values(server, data_dir)
    runtime = prepare(server, server.url(estate_db), values)
    counter = StatementCounter(STORE)
    counter.install()
    driver = Driver(runtime, counter)
    people = sample_people(server.conninfo(estate_db), args.customers, args.requests + SINGLES)
    singles, people = people[:SINGLES], people[SINGLES:]
    result: dict[str, Any] = {}
    _log("one request, cold then warm")
    result["single"] = _single(driver, singles)
    counter.captured = []
    driver.request(singles[1])
    result["statements_of_one_request"], counter.captured = counter.captured, None
    _log(f"{args.requests:,} requests, one after another")
    result["sequential"], records = _sequential(server, counter, driver, people, estate_db)
    rows = _rows_read(runtime, records)
    with runtime.sessions() as session:
        result["audit_chain_broken_at_after_sequential"] = audit.verify_chain(session)
    _log(f"{args.requests:,} requests over {args.processes} processes")
    result["parallel"] = _parallel(people, args.processes, values)
    with runtime.sessions() as session:
        result["audit_chain_broken_at_after_parallel"] = audit.verify_chain(session)
    _log("the same lookups with psycopg")
    result["bound"] = _bound(server, estate_db, people, args.processes, rows)
    _log(f"profiling {args.profile_requests} requests")
    result["profile"] = profiling.profile(driver, people[: args.profile_requests], RESULTS)
    counter.close_pools()
    if args.erasures:
        result["erasure"] = erasure.measure(
            server, estate_db, args.customers, args.erasures, data_dir, _log, counter
        )
    return result


def _erasures_only(server: Server, args: argparse.Namespace, result: dict[str, Any]) -> None:
    """`--only-erasures`: the erasure section alone, written to results/erasure.json."""
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        result["erasure"] = erasure.measure(
            server,
            result["estate"]["database"],
            args.customers,
            args.erasures,
            Path(data_dir),
            _log,
        )
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    report.write(result, RESULTS / "erasure.json")
    print(erasure.table(result["erasure"]))
    print(f"\nraw results: {RESULTS / 'erasure.json'}")


def _bulk(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        return bulk_intake.measure(server, args.bulk_sizes, Path(data_dir), _log)


def _bulk_only(server: Server, args: argparse.Namespace) -> None:
    """`--bulk-only`: the bulk intake section alone, put into results/latest.json."""
    path = RESULTS / "latest.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result["bulk_intake"] = _bulk(server, args)
    result.setdefault("machine", report.machine(server))
    report.write(result, path)
    print(bulk_intake.table(result["bulk_intake"]))
    print(f"\nraw results: {path} (the bulk_intake key)")


def main(argv: list[str] | None = None) -> None:
    """Build or reuse the estate, run every measurement, print and save the results."""
    args = _args(argv)
    if args.cold_start:  # no PostgreSQL needed: a SQLite store of its own
        from benchmarks import cold_start

        print(json.dumps(cold_start.run(runs=7, importtime=True), indent=2))
        return
    server = Server(args.host, args.port)
    if args.api:
        api_run.run(server, args)
        return
    if args.consent_only:
        _consent_only(server, args)
        return
    if args.consent_events_only:
        _consent_events_only(server, args)
        return
    if args.signin_only:
        _signin_only(server, args)
        return
    if args.http_only:
        _http_only(server, args)
        return
    if args.bulk_only:
        _bulk_only(server, args)
        return
    if args.drop_only:
        print(drop.table(drop.run(args.customers, args.drop_lines, 10, args.rebuild, server)))
        return
    result: dict[str, Any] = {
        "machine": report.machine(server),
        "requests": args.requests,
        "estate": _estate(server, args.customers, args.rebuild),
    }
    if args.only_erasures:
        _erasures_only(server, args, result)
        return
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        result.update(_measure(server, args, result["estate"]["database"], Path(data_dir)))
    result["ratio"] = _ratios(result)
    if args.consent_events:
        result["consent"] = _consent(server, args)
    if args.consent_events and args.events_requests:
        result["consent_events"] = _consent_events(server, args)
    if args.signin_pages:
        result["signin"] = _signin(server, args)
    if args.http_requests:
        result["http"] = _http(args)
    if args.bulk_sizes:
        result["bulk_intake"] = _bulk(server, args)
    if args.drop_lines:
        result["drop"] = drop.run(args.customers, args.drop_lines, 10, False, server)
    if args.api_sizes.strip("0, "):
        api_run.run(server, args)  # its own table and results/api.json
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    report.write(result, RESULTS / "latest.json")
    print(report.table(result))
    if "erasure" in result:
        print("\n" + erasure.table(result["erasure"]))
    if "consent" in result:
        print("\n" + consent.table(result["consent"]))
    if "consent_events" in result:
        print("\n" + consent_events.table(result["consent_events"]))
    if "signin" in result:
        print("\n" + signin.table(result["signin"]))
    if "http" in result:
        print("\n" + http_systems.table(result["http"]))
    if "bulk_intake" in result:
        print("\n" + bulk_intake.table(result["bulk_intake"]))
    if "drop" in result:
        print("\n" + drop.table(result["drop"]))
    print(f"\nraw results: {RESULTS / 'latest.json'}; profile: {RESULTS / 'profile.txt'}")


if __name__ == "__main__":
    main()
