"""Erasure requests through Rightful, one by one, beside the same writes made with psycopg.

Erasures change the estate, so neither side ever runs on the estate itself: each gets a fresh
copy (`CREATE DATABASE ... TEMPLATE`), dropped afterwards. Both copies start identical and the
same people are erased on each, so both sides find and change the same rows.

Rightful: submit a deletion request (e-mail, name and billing ZIP: verification reaches the
required level 2), verify with the e-mailed code, approve, then time `execution.run_request`
until it has planned, applied the erasure in every system, recorded the counts and suppression
and opened the partner notices (it then returns "executing", waiting for the partners).

Lower bound: the same indexed reads as the access bound (`bound.find`), then per system, in one
transaction each, the writes the demo erasure policy calls for: orders kept for tax with
`customer_id` and `shipping_address_id` set to NULL, every other row of the person deleted by
key, dependents first. Prepared statements; nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import func, select

from benchmarks import bound, report
from benchmarks.counting import StatementCounter, delta, transactions
from benchmarks.databases import STORE, Server
from benchmarks.drive import capture_codes, submit_and_verify
from benchmarks.store import Person, prepare, sample_people, settings_values
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import estate_metadata
from rightful.inventory import revision
from rightful.rights import service
from rightful.rights.execution import run_erasures, run_request
from rightful.rights.models import ErasureStep, RightsRequest
from rightful.security.permissions import system_actor

COPY = "rightful_bench_erase"
WARMUPS = 5  # erased first on both sides, not measured: reflection, prepared statements
SEED = 4242  # other people than the access benchmark's (which never change the estate anyway)
Record = dict[str, Any]

# Per system, in one transaction each, dependents first: (table, SET clause or None to delete).
WRITES: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = (
    (
        "storefront",
        (
            ("orders", "customer_id = NULL, shipping_address_id = NULL"),
            ("product_reviews", None),
            ("payment_methods", None),
            ("addresses", None),
            ("customers", None),
        ),
    ),
    ("support_desk", (("chat_messages", None), ("support_tickets", None))),
    (
        "engagement",
        (("web_sessions", None), ("devices", None), ("marketing_subscriptions", None)),
    ),
)
_KEY = {table: bound.COLUMNS[table].index("id") for _, writes in WRITES for table, _ in writes}


def copy_estate(server: Server, template: str, name: str = COPY) -> float:
    """A fresh copy of the estate; seconds it took. The template must have no other sessions."""
    started = time.perf_counter()
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (template,),
        )
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    _match_schema(server.conninfo(name))
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # the copy's WAL is flushed before anything is timed
    return time.perf_counter() - started


def _match_schema(conninfo: str) -> None:
    """Let the copy take NULL where the current demo schema does (a catalog-only change).

    Estates built before orders were kept for tax have `orders.customer_id` and
    `shipping_address_id` NOT NULL; the erasure policy sets them to NULL.
    """
    nullable = {
        (t.name, c.name)
        for md in estate_metadata().values()
        for t in md.tables.values()
        for c in t.columns
        if c.nullable and not c.primary_key
    }
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND is_nullable = 'NO'"
        ).fetchall()
        for table, column in sorted(set(rows) & nullable):
            conn.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                    sql.Identifier(table), sql.Identifier(column)
                )
            )


def drop(server: Server, name: str = COPY) -> None:
    """Drop a copy, ending its sessions."""
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# ----------------------------------------------------------------------------- the lower bound


def erase_directly(conn: psycopg.Connection[Any], email: str) -> tuple[int, int, int]:
    """Read a person's rows, then delete or mask them; (deleted, masked, write statements)."""
    found = bound.find(conn, email)
    deleted = masked = statements = 0
    for _, writes in WRITES:
        todo = [(t, s, [r[_KEY[t]] for r in found.get(t, [])]) for t, s in writes]
        todo = [(t, s, keys) for t, s, keys in todo if keys]
        if not todo:
            continue
        with conn.transaction():
            for table, sets, keys in todo:
                if sets is None:
                    query = f"DELETE FROM {table} WHERE id = ANY(%s)"
                else:
                    query = f"UPDATE {table} SET {sets} WHERE id = ANY(%s)"
                touched = conn.execute(query, (keys,), prepare=True).rowcount  # type: ignore[arg-type]
                statements += 1
                if sets is None:
                    deleted += touched
                else:
                    masked += touched
    return deleted, masked, statements


def run_bound(
    conninfo: str,
    people: list[Person],
    warm: list[Person],
    progress: Callable[[int], None] | None = None,
) -> list[Record]:
    """One erasure after another on one connection in autocommit (a transaction per system).

    The `warm` people are erased first, untimed, so the statements are prepared, as any pool
    would have them.
    """
    out = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for person in warm:
            erase_directly(conn, person.email)
        for n, person in enumerate(people, 1):
            start = time.perf_counter()
            deleted, masked, statements = erase_directly(conn, person.email)
            out.append(
                {
                    "email": person.email,
                    "seconds": time.perf_counter() - start,
                    "deleted": deleted,
                    "masked": masked,
                    "write_statements": statements,
                }
            )
            if progress and n % 250 == 0:
                progress(n)
    return out


# ----------------------------------------------------------------------------------- Rightful


class EraseDriver:
    """One person's deletion request: submit, verify, approve, then the timed erasure."""

    def __init__(self, runtime: Runtime, counter: StatementCounter) -> None:
        self.runtime = runtime
        self.counter = counter
        self.issued = capture_codes()

    def stage(self, person: Person) -> str:
        """Submit, verify and approve one deletion request, ready for the worker."""
        request_id = submit_and_verify(self.runtime, self.issued, person, "delete")
        with unit_of_work(self.runtime.sessions) as session:
            service.approve_request(
                session, self.runtime.settings, request_id=request_id, actor=system_actor("bench")
            )
        return request_id

    def request(self, person: Person) -> Record:
        """Submit, verify, approve and carry out one erasure; the phases' times and counts."""
        settings, sessions = self.runtime.settings, self.runtime.sessions
        marks = [(time.perf_counter(), self.counter.snapshot())]
        request_id = self.stage(person)
        marks.append((time.perf_counter(), self.counter.snapshot()))
        status = run_request(sessions, settings, request_id)
        marks.append((time.perf_counter(), self.counter.snapshot()))
        with sessions() as session:
            req = session.get(RightsRequest, request_id)
            summary = (req.summary if req else {}).get("erasure")
        if status not in ("executing", "completed") or summary is None:
            raise RuntimeError(f"erasure for {person.email} ended {status}")
        (t0, c0), (t1, c1), (t2, c2) = marks
        return {
            "email": person.email,
            "request_id": request_id,
            "status": status,
            "before_s": t1 - t0,
            "execute_s": t2 - t1,
            "before_counts": delta(c0, c1),
            "execute_counts": delta(c1, c2),
            # What the stores reported changed, as the person's e-mail says it.
            "deleted": sum(i["changed"] for i in summary if i["action"] == "delete_rows"),
            "masked": sum(i["changed"] for i in summary if i["fields"]),
            "kept_unchanged": sum(
                i["rows"] for i in summary if i["action"] == "retain_rows" and not i["fields"]
            ),
        }


# ------------------------------------------------------------------------------ the measurement


def _mean(records: list[Record], key: str) -> float:
    return round(sum(r[key] for r in records) / len(records), 2)


def _counts(records: list[Record], phase: str) -> dict[str, float]:
    keys = sorted({k for r in records for k in r[f"{phase}_counts"]})
    return {
        k: round(sum(r[f"{phase}_counts"].get(k, 0) for r in records) / len(records), 2)
        for k in keys
    }


def measure(
    server: Server,
    template: str,
    customers: int,
    count: int,
    data_dir: Path,
    log: Callable[[str], None],
    counter: StatementCounter | None = None,
) -> dict[str, Any]:
    """`count` erasures through Rightful and directly, each side on its own fresh copy."""
    people = sample_people(server.conninfo(template), customers, count + WARMUPS, seed=SEED)
    warm, people = people[:WARMUPS], people[WARMUPS:]
    result: dict[str, Any] = {"requests": len(people), "warmups": WARMUPS, "copy": COPY}
    if counter is None:
        counter = StatementCounter(STORE)
        counter.install()
    counter.close_pools()  # no session may stay on the template while it is copied

    log(f"erasure: copying {template} for the lower bound")
    result["copy_s"] = round(copy_estate(server, template), 1)
    log(f"erasure: {len(people):,} direct erasures with psycopg")
    try:
        direct = run_bound(server.conninfo(COPY), people, warm, lambda n: log(f"  {n} done"))
    finally:
        drop(server)

    log(f"erasure: copying {template} again for Rightful")
    copy_estate(server, template)
    # A store recreated at the same address starts at the same data-map revision, so a map
    # cached by an earlier run in this process (other systems' URLs, another secret key) would
    # be taken as current: forget it.
    revision._cache.clear()
    try:
        runtime = prepare(server, server.url(COPY), settings_values(server, data_dir))
        driver = EraseDriver(runtime, counter)
        for person in warm:
            driver.request(person)
        counter.close_pools()  # the server counts a backend's transactions when it exits
        before = transactions(server, [STORE, COPY])
        log(f"erasure: {len(people):,} erasures through Rightful, one after another")
        started = time.perf_counter()
        records = []
        for n, person in enumerate(people, 1):
            records.append(driver.request(person))
            if n % 100 == 0:
                log(f"  {n} done")
        wall = time.perf_counter() - started
        counter.close_pools()
        after = transactions(server, [STORE, COPY])
        runtime.engine.dispose()
    finally:
        counter.close_pools()
        drop(server)

    result["batch"] = _batch(server, template, people, data_dir, log)
    by_email = {r["email"]: r for r in direct}
    differing = sum(
        1
        for r in records
        if (r["deleted"], r["masked"])
        != (by_email[r["email"]]["deleted"], by_email[r["email"]]["masked"])
    )
    execute = report.spread([r["execute_s"] for r in records])
    bound_spread = report.spread([r["seconds"] for r in direct])
    result["rightful"] = {
        "execute": execute,
        "per_minute_execute": round(60 * len(records) / sum(r["execute_s"] for r in records), 1),
        "wall_s": round(wall, 2),
        "per_minute_end_to_end": round(60 * len(records) / wall, 1),
        "before_execute_mean_ms": round(1000 * _mean(records, "before_s"), 2),
        "statuses": sorted({r["status"] for r in records}),
        "counts_execute": _counts(records, "execute"),
        "counts_submit_verify_approve": _counts(records, "before"),
        "transactions_per_request": {
            side: round((after[db] - before[db]) / len(records), 2)
            for side, db in (("store", STORE), ("estate", COPY))
        },
        "deleted_per_request": _mean(records, "deleted"),
        "masked_per_request": _mean(records, "masked"),
        "kept_unchanged_per_request": _mean(records, "kept_unchanged"),
    }
    result["bound"] = {
        "sequential": bound_spread,
        "per_minute": round(60 * len(direct) / sum(r["seconds"] for r in direct), 1),
        "read_statements_per_request": len(bound.LOOKUPS),
        "write_statements_per_request": _mean(direct, "write_statements"),
        "deleted_per_request": _mean(direct, "deleted"),
        "masked_per_request": _mean(direct, "masked"),
    }
    result["requests_with_rows_differing"] = differing
    result["ratio"] = {
        "mean": round(execute["mean_ms"] / bound_spread["mean_ms"], 2),
        "median": round(execute["median_ms"] / bound_spread["median_ms"], 2),
        "p95": round(execute["p95_ms"] / bound_spread["p95_ms"], 2),
    }
    return result


def _batch(
    server: Server, template: str, people: list[Person], data_dir: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """The same erasures as one batch: one read and one write pass per collection for all."""
    log(f"erasure: copying {template} for the batch")
    copy_estate(server, template)
    revision._cache.clear()
    try:
        runtime = prepare(server, server.url(COPY), settings_values(server, data_dir / "batch"))
        driver = EraseDriver(runtime, StatementCounter(STORE))
        ids = [driver.stage(person) for person in people]
        log(f"erasure: {len(ids):,} erasures through Rightful as one batch")
        started = time.perf_counter()
        erased = run_erasures(runtime.sessions, runtime.settings, ids)
        seconds = time.perf_counter() - started
        with runtime.sessions() as session:
            done = session.scalar(
                select(func.count(ErasureStep.id)).where(
                    ErasureStep.request_id.in_(ids), ErasureStep.done_at.is_not(None)
                )
            )
        runtime.engine.dispose()
    finally:
        drop(server)
    return {
        "requests": len(ids),
        "erased": erased,
        "systems_done": int(done or 0),
        "total_s": round(seconds, 2),
        "per_request_ms": round(1000 * seconds / len(ids), 2),
    }


def table(result: dict[str, Any]) -> str:
    """The erasure figures, printed after the access table."""
    r, b = result["rightful"], result["bound"]
    e, s = r["execute"], b["sequential"]
    c = r["counts_execute"]
    lines = [
        f"Erasure requests: {result['requests']:,} one after another, each side on a fresh copy",
        f"  Rightful run_request   mean {e['mean_ms']:.2f} ms  median {e['median_ms']:.2f}"
        f"  p95 {e['p95_ms']:.2f}  ({r['per_minute_execute']:,.0f} a minute)",
        f"  lower bound (psycopg)  mean {s['mean_ms']:.2f} ms  median {s['median_ms']:.2f}"
        f"  p95 {s['p95_ms']:.2f}  ({b['per_minute']:,.0f} a minute)",
        f"  ratio                  mean {result['ratio']['mean']}x  median"
        f" {result['ratio']['median']}x  p95 {result['ratio']['p95']}x",
        f"  rows deleted / masked a request: Rightful {r['deleted_per_request']}"
        f" / {r['masked_per_request']}, bound {b['deleted_per_request']}"
        f" / {b['masked_per_request']}; requests differing: "
        f"{result['requests_with_rows_differing']}",
        f"  statements in execution: store {c.get('store.statements', 0)},"
        f" estate {c.get('estate.statements', 0)}; bound {b['read_statements_per_request']}"
        f" reads + {b['write_statements_per_request']} writes",
        f"  end to end (submit, verify, approve, erase): "
        f"{r['per_minute_end_to_end']:,.0f} a minute",
    ]
    if "batch" in result:
        bt = result["batch"]
        lines.append(
            f"  as one batch: {bt['requests']:,} erasures in {bt['total_s']} s,"
            f" {bt['per_request_ms']} ms a request ({bt['systems_done']} system steps done)"
        )
    return "\n".join(lines)
