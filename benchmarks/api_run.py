"""The API run: requests through HTTP, the way an integrator sends them, with the real worker.

For each deployment — `rightful serve` with its embedded worker, or `rightful serve` beside a
Celery worker of 1, 2 or 4 processes on Redis — a fresh store (`rightful_bench_api_store`)
points the demo data map at a copy of the estate, and the real commands run as subprocesses on
loopback. Each request is what an integrator's code does: `POST /api/v1/rights-requests`, the
code the person received by e-mail (a loopback SMTP server reads it) passed on with `.../verify`,
`.../approve`, then, once the store shows the request done, `GET .../package`. Timed per call
(loopback answers: server time plus well under a millisecond), one request alone and N with 50
in flight, access and erasure; statements to the store per request, as the processes counted
them (benchmarks/api_counted.py); memory of the server and workers; the cold start of
`rightful serve`. Then a backlog: N requests filed in one `POST .../rights-requests/batch`
(identity checked by the sender), approved while no worker runs, and drained by the workers.

`python -m benchmarks.run --api` (options `--api-*`) or `python -m benchmarks.api_run`; results
in benchmarks/results/api.json, merged run after run by deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import redis

from benchmarks import erasure, estate, report
from benchmarks.api_report import merge, table
from benchmarks.api_stack import (
    Inbox,
    Processes,
    Store,
    Watcher,
    celery,
    cold_starts,
    free_port,
    prepare_store,
    serve,
    settings_env,
    statuses,
)
from benchmarks.databases import Server
from benchmarks.loadgen import latency
from benchmarks.procstat import tree_cpu_s, tree_memory_mib
from benchmarks.store import Person, sample_people

RESULTS = Path(__file__).parent / "results"
STORE = "rightful_bench_api_store"
ESTATE = "rightful_bench_api_estate"  # with --api-customers other than 100,000: _N appended
COPY = "rightful_bench_api_estate_copy"  # what the stores point at: erasures change it
DEPLOYMENTS = {"embedded": 0, "celery1": 1, "celery2": 2, "celery4": 4}
KINDS = {"access": "access", "erasure": "delete"}
WARMUPS = 5
Record = dict[str, Any]
Mark = Callable[[str], Awaitable[None]]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The API run's options (shared by benchmarks.run --api and this module)."""
    group = parser.add_argument_group("the API run (--api)")
    group.add_argument("--api-customers", type=int, default=100_000)
    group.add_argument(
        "--api-sizes",
        default="1,50",
        help="requests a run, e.g. 1,50,1000 (0: make bench skips the API run)",
    )
    group.add_argument("--api-deployments", default=",".join(DEPLOYMENTS))
    group.add_argument("--api-kinds", default="access,erasure")
    group.add_argument("--api-concurrency", type=int, default=50)
    group.add_argument("--api-backlog", type=int, default=0, help="backlog size (0 skips)")
    group.add_argument("--api-redis", default="redis://127.0.0.1:6379/9", help="flushed first")
    group.add_argument("--api-cold-starts", type=int, default=3)


# ------------------------------------------------------------------------ one integrator's flow


def _body(person: Person, request_type: str) -> dict[str, Any]:
    return {
        "request_type": request_type,
        "email": person.email,
        "name": person.name,
        "postal_code": person.postal_code,
        "jurisdiction": "CA",
        "date_range": "all",
        "declaration_signature": person.name,
    }


async def _call(
    http: httpx.AsyncClient, calls: dict[str, float], name: str, method: str, path: str, **kw: Any
) -> httpx.Response:
    started = time.perf_counter()
    answer = await http.request(method, path, **kw)
    calls[name] = 1000 * (time.perf_counter() - started)
    if answer.status_code >= 300:
        raise RuntimeError(f"{name}: {answer.status_code} {answer.text[:300]}")
    return answer


async def _mark(mark: Mark | None, step: str) -> None:
    if mark is not None:
        await mark(step)


async def one_request(
    http: httpx.AsyncClient,
    inbox: Inbox,
    watcher: Watcher,
    person: Person,
    kind: str,
    mark: Mark | None = None,
) -> Record:
    """Submit, verify with the e-mailed code, approve, wait until done, fetch the package."""
    calls: dict[str, float] = {}
    path = "/api/v1/rights-requests"
    code = inbox.code_for(person.email)
    started = time.perf_counter()
    submitted = await _call(http, calls, "submit", "POST", path, json=_body(person, KINDS[kind]))
    rid = submitted.json()["id"]
    await _mark(mark, "submit")
    got_code = await asyncio.wait_for(code, 300)
    mailed = time.perf_counter()
    await _call(http, calls, "verify", "POST", f"{path}/{rid}/verify", json={"code": got_code})
    await _mark(mark, "verify")
    await _call(http, calls, "approve", "POST", f"{path}/{rid}/approve")
    approved = time.perf_counter()
    await _mark(mark, "approve")
    status = await asyncio.wait_for(watcher.done(rid), 600)
    done = time.perf_counter()
    await _mark(mark, "execution")
    size = 0
    if kind == "access":
        size = len((await _call(http, calls, "package", "GET", f"{path}/{rid}/package")).content)
        await _mark(mark, "package")
    return {
        "id": rid,
        "status": status,
        "package_bytes": size,
        "calls_ms": calls,
        "server_ms": sum(calls.values()),
        "code_wait_s": mailed - started,
        "execution_s": done - approved,
        "end_to_end_s": time.perf_counter() - started,
    }


def _client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        timeout=600,
    )


async def _many(
    base_url: str,
    token: str,
    inbox: Inbox,
    watcher: Watcher,
    people: list[Person],
    kind: str,
    concurrency: int,
) -> tuple[list[Record], float, Counter[str]]:
    """Every person's request, `concurrency` in flight, one connection each."""
    records: list[Record] = []
    failures: Counter[str] = Counter()
    todo = iter(people)

    async def flow(http: httpx.AsyncClient) -> None:
        for person in todo:
            try:
                records.append(await one_request(http, inbox, watcher, person, kind))
            except (RuntimeError, TimeoutError, httpx.TransportError) as exc:
                failures[str(exc)[:120]] += 1

    clients = [_client(base_url, token) for _ in range(min(concurrency, len(people)))]
    started = time.perf_counter()
    await asyncio.gather(*(flow(http) for http in clients))
    wall = time.perf_counter() - started
    for http in clients:
        await http.aclose()
    return records, wall, failures


def _summary(records: list[Record], wall: float, failures: Counter[str]) -> dict[str, Any]:
    names = sorted({k for r in records for k in r["calls_ms"]})
    return {
        "requests": len(records) + sum(failures.values()),
        "wall_s": round(wall, 2),
        "per_minute": round(60 * len(records) / wall, 1),
        "statuses": dict(Counter(r["status"] for r in records)),
        "failures": dict(failures),
        "server_ms": latency([r["server_ms"] / 1000 for r in records]),
        "calls_ms": {n: latency([r["calls_ms"][n] / 1000 for r in records]) for n in names},
        "code_wait_s": round(statistics.fmean(r["code_wait_s"] for r in records), 3),
        "execution_s": latency([r["execution_s"] for r in records]),
        "end_to_end_s": latency([r["end_to_end_s"] for r in records]),
    }


# ---------------------------------------------------------------------------- one deployment


class Deployment:
    """A store, `rightful serve`, and the deployment's workers, for one block of runs."""

    def __init__(self, name: str, server: Server, args: argparse.Namespace, work: Path) -> None:
        self.name = name
        self.celery = DEPLOYMENTS[name]
        self.server = server
        self.args = args
        self.processes = Processes(RESULTS / "api-logs" / name, work / "counts" / name)
        self.processes.counts_dir.mkdir(parents=True, exist_ok=True)
        self.base_url = ""
        self.store: Store | None = None

    def env(self, worker_in_server: bool) -> dict[str, str]:
        """The store's settings, with the broker for Celery deployments."""
        assert self.store is not None
        env = dict(self.store.env)
        env["RIGHTFUL_EMBEDDED_WORKER"] = str(worker_in_server).lower()
        if self.celery:
            env["RIGHTFUL_BROKER_URL"] = self.args.api_redis
        return env

    def start(self, store: Store) -> None:
        """The server (its own worker when embedded) and the Celery worker."""
        self.store = store
        self.base_url = serve(self.processes, self.env(not self.celery), free_port())
        if self.celery:
            redis.Redis.from_url(self.args.api_redis).flushdb()
            celery(self.processes, self.env(False), self.celery)

    def memory(self) -> dict[str, float]:
        """Server and workers together (procstat)."""
        return tree_memory_mib(self.processes.pids())

    def stop(self) -> None:
        """Every process this deployment started."""
        self.processes.stop_all()


async def _counted_single(
    dep: Deployment, inbox: Inbox, watcher: Watcher, person: Person, kind: str
) -> dict[str, Any]:
    """One request with a pause after each step, to split the statements between the steps
    (the workers' idle polling and heartbeats in the pauses are included, a few at most)."""
    assert dep.store is not None
    steps: dict[str, dict[str, float]] = {}
    last = dep.processes.counts()

    async def mark(step: str) -> None:
        nonlocal last
        now = await asyncio.to_thread(dep.processes.counts)
        steps[step] = {k: now[k] - last[k] for k in now if now[k] != last[k]}
        last = now

    async with _client(dep.base_url, dep.store.token) as http:
        await one_request(http, inbox, watcher, person, kind, mark)
    return steps


def _per_request(before: Counter[str], after: Counter[str], n: int) -> dict[str, float]:
    out = {k: round((after[k] - before[k]) / n, 2) for k in sorted(after)}
    out["store.statements"] = round(
        out.get("server.store.statements", 0) + out.get("workers.store.statements", 0), 2
    )
    return out


async def _sizes(
    dep: Deployment, inbox: Inbox, watcher: Watcher, people: list[Person], kind: str
) -> dict[str, Any]:
    """Warm-ups, then each size of run; people are taken from the end of the list."""
    assert dep.store is not None
    out: dict[str, Any] = {}
    async with _client(dep.base_url, dep.store.token) as http:
        first = await one_request(http, inbox, watcher, people.pop(), kind)
        for _ in range(WARMUPS - 1):
            await one_request(http, inbox, watcher, people.pop(), kind)
    out["first_after_start"] = {
        "server_ms": round(first["server_ms"], 1),
        "end_to_end_s": round(first["end_to_end_s"], 3),
    }
    out["statements_by_step"] = await _counted_single(dep, inbox, watcher, people.pop(), kind)
    for size in dep.args.sizes:
        batch = [people.pop() for _ in range(size)]
        _log(
            f"  {dep.name}: {size:,} {kind} requests, {min(size, dep.args.api_concurrency)} at once"
        )
        before, cpu = dep.processes.counts(), tree_cpu_s(dep.processes.pids())
        records, wall, failures = await _many(
            dep.base_url, dep.store.token, inbox, watcher, batch, kind, dep.args.api_concurrency
        )
        cpu = tree_cpu_s(dep.processes.pids()) - cpu
        after = dep.processes.counts()
        out[str(size)] = _summary(records, wall, failures) | {
            "counts_per_request": _per_request(before, after, size),
            "cpu_ms_per_request": round(1000 * cpu / size, 1),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "memory": dep.memory(),
        }
        _log(f"    {out[str(size)]['per_minute']:,.0f} a minute; {out[str(size)]['statuses']}")
    return out


# ----------------------------------------------------------------------------------- backlog


async def _approve_all(base_url: str, token: str, ids: list[str], concurrency: int) -> float:
    todo = iter(ids)

    async def approver(http: httpx.AsyncClient) -> None:
        for rid in todo:
            answer = await http.post(f"/api/v1/rights-requests/{rid}/approve")
            if answer.status_code != 200:
                raise RuntimeError(f"approve: {answer.status_code} {answer.text[:200]}")

    clients = [_client(base_url, token) for _ in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(*(approver(http) for http in clients))
    for http in clients:
        await http.aclose()
    return time.perf_counter() - started


def backlog(dep: Deployment, people: list[Person], size: int) -> dict[str, Any]:
    """`size` access requests filed in one batch (identity checked by the sender), approved
    with no worker running, then drained by the deployment's workers, timed from their start."""
    assert dep.store is not None
    store = dep.store
    dep.stop()
    dep.base_url = serve(dep.processes, dep.env(False), free_port())  # no worker anywhere
    if dep.celery:
        redis.Redis.from_url(dep.args.api_redis).flushdb()
    lines = [
        _body(p, "access")
        | {"external_id": f"B-{n}", "identity_method": "signed_letter", "channel": "api"}
        for n, p in enumerate(people[:size])
    ]
    del people[:size]
    headers = {"Authorization": f"Bearer {store.token}"}
    started = time.perf_counter()
    filed = httpx.post(
        f"{dep.base_url}/api/v1/rights-requests/batch",
        json={"source": "API benchmark", "requests": lines},
        headers=headers,
        timeout=1200,
    )
    batch_s = time.perf_counter() - started
    if filed.status_code != 201:
        raise RuntimeError(f"batch: {filed.status_code} {filed.text[:500]}")
    ids = [line["id"] for line in filed.json()["imported"]]
    _log(f"  {dep.name}: {len(ids):,} filed in {batch_s:.1f} s; approving")
    approve_s = asyncio.run(_approve_all(dep.base_url, store.token, ids, dep.args.api_concurrency))
    _log(f"  {dep.name}: approved in {approve_s:.1f} s; starting the workers")
    before, cpu = dep.processes.counts(), tree_cpu_s(dep.processes.pids())
    started = time.perf_counter()
    if dep.celery:
        celery(dep.processes, dep.env(False), dep.celery)
    else:
        dep.processes.start("worker", dep.env(False), "rightful", "worker")
    first = None
    peak: dict[str, float] = {}
    while True:
        found = statuses(store.conninfo, ids)
        done = sum(n for name, n in found.items() if name.startswith("done:"))
        now = time.perf_counter() - started
        if done and first is None:
            first = now
        memory = dep.memory()
        peak = max(peak, memory, key=lambda m: m.get("peak_rss_sum_mib", 0))
        if done == len(ids) or now > 1800:
            break
        time.sleep(0.5)
    drain = time.perf_counter() - started
    cpu = tree_cpu_s(dep.processes.pids()) - cpu
    after = dep.processes.counts()
    return {
        "requests": len(ids),
        "batch_s": round(batch_s, 2),
        "approve_s": round(approve_s, 2),
        "approvals_per_minute": round(60 * len(ids) / approve_s, 1),
        "drain_s": round(drain, 2),
        "first_done_s": round(first or 0, 2),
        "drain_per_minute": round(60 * len(ids) / drain, 1),
        "statuses": dict(found),
        "counts_per_request": _per_request(before, after, len(ids)),
        "cpu_ms_per_request": round(1000 * cpu / len(ids), 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "memory": peak,
    }


# ---------------------------------------------------------------------------------- the run


def _estate(server: Server, customers: int) -> str:
    name = ESTATE if customers == 100_000 else f"{ESTATE}_{customers}"
    if not server.exists(name) or estate.is_built(server.conninfo(name), customers) is None:
        _log(f"estate {name}: building {customers:,} customers")
        server.recreate(name)
        estate.build(server.conninfo(name), customers, _log)
    return name


def _deployment(
    name: str,
    server: Server,
    args: argparse.Namespace,
    work: Path,
    inbox: Inbox,
    people: list[Person],
) -> dict[str, Any]:
    dep = Deployment(name, server, args, work)
    env = settings_env(server, STORE, work / "data" / name, inbox.url)
    _log(
        f"{name}: a fresh store, then rightful serve"
        + (f" and Celery -c {dep.celery}" * bool(dep.celery))
    )
    store = prepare_store(server, STORE, server.url(COPY), env)
    out: dict[str, Any] = {"celery_processes": dep.celery}
    try:
        dep.start(store)
        with Watcher(store.conninfo) as watcher:
            for kind in args.kinds:
                out[kind] = asyncio.run(_sizes(dep, inbox, watcher, people, kind))
        out["memory_after_runs"] = dep.memory()
        if args.api_backlog:
            out["backlog"] = backlog(dep, people, args.api_backlog)
            _log(f"  drained in {out['backlog']['drain_s']} s")
    finally:
        dep.stop()
    return out


def measure(
    server: Server, args: argparse.Namespace, save: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Every deployment asked for, on one copy of the estate; the cold start first."""
    template = _estate(server, args.api_customers)
    per_deployment = sum(args.sizes) + 1 + WARMUPS
    wanted = len(args.deployments) * (len(args.kinds) * per_deployment + args.api_backlog)
    people = sample_people(server.conninfo(template), args.api_customers, wanted, seed=1212)
    result: dict[str, Any] = {
        "machine": report.machine(server),
        "uptime": os.popen("uptime").read().strip(),  # noqa: S605, S607 - a fixed command
        "estate": {"database": template, "customers": args.api_customers},
    }
    _log(f"copying {template} to {COPY}")
    result["estate"]["copy_s"] = round(erasure.copy_estate(server, template, COPY), 1)
    with tempfile.TemporaryDirectory(prefix="rightful-bench-api-") as tmp, Inbox() as inbox:
        work = Path(tmp)
        try:
            env = settings_env(server, STORE, work / "data" / "cold", inbox.url)
            prepare_store(server, STORE, server.url(COPY), env)
            result["cold_start_s"] = cold_starts(env, args.api_cold_starts, RESULTS / "api-logs")
            _log(f"cold starts: {result['cold_start_s']}")
            result["deployments"] = {}
            for name in args.deployments:  # each kept as soon as measured: a later crash loses none
                figures = _deployment(name, server, args, work, inbox, people)
                result["deployments"][name] = figures
                save(result | {"deployments": {name: figures}})
        finally:
            erasure.drop(server, COPY)
        result["mail_received"] = inbox.received
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    return result


def run(server: Server, args: argparse.Namespace) -> None:
    """Measure, merge into results/api.json, print the table."""
    args.sizes = [int(n) for n in args.api_sizes.split(",") if n.strip() and int(n)]
    args.deployments = [d for d in args.api_deployments.split(",") if d]
    args.kinds = [k for k in args.api_kinds.split(",") if k]
    path = RESULTS / "api.json"

    def save(partial: dict[str, Any]) -> None:
        report.write(merge(path, partial), path)

    measure(server, args, save)
    print(table(json.loads(path.read_text())))
    print(f"\nraw results: {path}")


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.api_run`: the API run alone."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api_run", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    add_arguments(parser)
    args = parser.parse_args(argv)
    run(Server(args.host, args.port), args)


if __name__ == "__main__":
    main()
