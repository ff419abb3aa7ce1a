"""The real server on loopback and a load generator for it.

`serving` starts `uvicorn --factory benchmarks.loadgen:create_app` in a subprocess (Rightful's
own app over a store named by RIGHTFUL_* variables, no embedded worker) and stops it by its
process id. `post_all` sends a list of JSON bodies over N keep-alive connections with
`httpx.AsyncClient` and times each request, with `procstat` saying who used the machine and
what PostgreSQL's backends were doing meanwhile. `post_all_wrk` sends them with wrk instead
(`benchmarks/wrk.py`: far less CPU a request, for a fixed time), and `drive` picks either.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from benchmarks import wrk
from benchmarks.procstat import CpuMeter, WaitSampler

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("sniffio") is None:
    # httpcore tries `import sniffio` on every request; without it each failed attempt
    # searches sys.path (about a fifth of the load generator's CPU). None fails at once.
    sys.modules["sniffio"] = None  # type: ignore[assignment]
COUNTS_ENV = "RIGHTFUL_BENCH_COUNTS_DIR"  # where each worker writes what it sent PostgreSQL
Judge = Callable[[Any, httpx.Response], str]
Headers = Callable[[int], dict[str, str]]
DRIVERS = ("wrk", "httpx")
WARM_S = 2  # wrk's untimed run before each timed one


# ---------------------------------------------------------------------------------- the server


def create_app() -> FastAPI:
    """What uvicorn serves: Rightful's app, settings from RIGHTFUL_*, the embedded worker off."""
    from rightful.core.runtime import build_runtime
    from rightful.web.app import create_app as rightful_app
    from rightful.web.serving import built

    _set_nodelay_on_accepted_sockets()
    if os.environ.get(COUNTS_ENV):
        _count_database_work(Path(os.environ[COUNTS_ENV]))
    # Frozen once built, as `rightful serve` does, so the first call is not the one paying
    # for the process's first full garbage collection.
    return built(lambda: rightful_app(build_runtime(), start_worker=False))


def _count_database_work(directory: Path) -> None:
    """Count statements, commits, pool checkouts and new connections in this worker, and
    write the counts to DIRECTORY/PID.json twice a second for the load generator to read."""
    from sqlalchemy import Engine, event
    from sqlalchemy.pool import Pool

    counts: Counter[str] = Counter()

    def counter(name: str) -> Callable[..., None]:
        def count(*_: Any) -> None:
            counts[name] += 1

        return count

    event.listen(Engine, "before_cursor_execute", counter("statements"))
    event.listen(Engine, "commit", counter("commits"))
    event.listen(Pool, "checkout", counter("checkouts"))  # each one pings (pool_pre_ping)
    event.listen(Pool, "connect", counter("connections_opened"))
    path = directory / f"{os.getpid()}.json"

    def write_forever() -> None:
        while directory.exists():
            path.with_suffix(".tmp").write_text(json.dumps(dict(counts)))
            path.with_suffix(".tmp").replace(path)
            time.sleep(0.5)

    threading.Thread(target=write_forever, daemon=True).start()


def database_work(served: Served) -> Counter[str]:
    """What every worker has sent PostgreSQL so far (as of their last write, within 0.5 s)."""
    time.sleep(0.6)
    total: Counter[str] = Counter()
    for path in served.counts_dir.glob("*.json"):
        total.update(json.loads(path.read_text()))
    return total


def _set_nodelay_on_accepted_sockets() -> None:
    """Turn Nagle's algorithm off on every connection, as asyncio means to.

    `uvicorn --workers N` hands its workers a listening socket whose `proto` is 0, and asyncio
    sets TCP_NODELAY only when `proto` is IPPROTO_TCP (Kludex/uvicorn#3149, open in 0.54): a
    response's body then waits for the client's delayed ACK of its headers, 40 ms on Linux, on
    every keep-alive request after the first (44 ms against 3.7 ms for a 404 here). That is
    the deployment's cost, not Rightful's, so the benchmark's workers set it.
    """
    import asyncio.base_events

    def set_nodelay(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    asyncio.base_events._set_nodelay = set_nodelay  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A running server: where to reach it and the process that supervises its workers."""

    base_url: str
    pid: int
    workers: int
    counts_dir: Path


@contextmanager
def serving(env: dict[str, str], workers: int, token: str, log: Path) -> Iterator[Served]:
    """uvicorn with `workers` processes on a free loopback port, until the block ends."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "benchmarks.loadgen:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "info",  # worker starts, deaths and restarts; no access log
        "--no-access-log",
    ]
    counts_dir = Path(tempfile.mkdtemp(prefix="rightful-bench-counts-"))
    env = {**os.environ, **env, COUNTS_ENV: str(counts_dir)}
    with log.open("ab") as out:
        # Our own interpreter and a fixed command line; nothing comes from outside.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
    served = Served(f"http://127.0.0.1:{port}", process.pid, workers, counts_dir)
    try:
        _wait_ready(served, process, token)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)  # uvicorn stops its own workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(counts_dir, ignore_errors=True)


def worker_restarts(log: Path) -> int:
    """How many times uvicorn found a worker dead or hung and started another (in the log)."""
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if "died" in line)


def _wait_ready(served: Served, process: subprocess.Popen[bytes], token: str) -> None:
    """Until an authenticated API call answers (every worker has built its app by then)."""
    deadline = time.monotonic() + 90
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            answer = httpx.get(
                f"{served.base_url}/api/v1/consent/purposes", headers=headers, timeout=10
            )
            if answer.status_code == 200:
                time.sleep(2)  # the other worker is (at most) finishing its imports
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError("the server did not answer within 90 s")


# -------------------------------------------------------------------------------- the load


def latency(seconds: list[float]) -> dict[str, float]:
    """Mean, median, p95, p99 and max, in milliseconds."""
    ms = sorted(1000 * s for s in seconds)

    def at(q: float) -> float:
        return round(ms[min(len(ms) - 1, round(q * (len(ms) - 1)))], 2)

    return {
        "mean_ms": round(statistics.fmean(ms), 2),
        "median_ms": at(0.5),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ms[-1], 2),
    }


@dataclass
class Load:
    """What a run of requests gave: each request's seconds and how each was judged, the CPU
    used, and what the server sent PostgreSQL a request."""

    latencies: list[float]
    wall_s: float
    outcomes: Counter[str]
    cpu: dict[str, Any]
    database: dict[str, float]
    waits: dict[str, float]

    def summary(self, concurrency: int) -> dict[str, Any]:
        """The figures for the results file."""
        return {
            "requests": len(self.latencies),
            "concurrency": concurrency,
            "wall_s": round(self.wall_s, 2),
            "per_second": round(len(self.latencies) / self.wall_s, 1),
            "latency": latency(self.latencies),
            "outcomes": dict(sorted(self.outcomes.items())),
            "cpu": self.cpu,
            "cpu_ms_per_request": {
                side: round(1000 * self.cpu[f"{side}_cpu_s"] / len(self.latencies), 2)
                for side in ("server", "postgres", "client")
            },
            "database_per_request": self.database,
            "postgres_backends": self.waits,
        }


def client(served: Served, token: str, connections: int) -> httpx.AsyncClient:
    """Keep-alive connections to the server, with the API token."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=served.base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=600,
    )


async def _post_all(
    clients: list[httpx.AsyncClient],
    path: str,
    bodies: list[Any],
    judge: Judge,
    headers: Callable[[int], dict[str, str]] | None = None,
) -> tuple[list[float], Counter[str]]:
    seconds = [0.0] * len(bodies)
    outcomes: Counter[str] = Counter()
    todo = iter(enumerate(bodies))  # shared: each connection takes the next body when free

    async def one_connection(http: httpx.AsyncClient) -> None:
        for i, body in todo:
            start = time.perf_counter()
            try:
                answer = await http.post(path, json=body, headers=headers and headers(i))
            except httpx.TransportError as exc:  # counted, so one dropped connection is seen
                outcomes[f"error: {type(exc).__name__}"] += 1
                continue
            finally:
                seconds[i] = time.perf_counter() - start
            outcomes[judge(body, answer)] += 1

    await asyncio.gather(*(one_connection(http) for http in clients))
    return seconds, outcomes


def post_all(
    served: Served,
    token: str,
    path: str,
    bodies: list[Any],
    *,
    concurrency: int,
    judge: Judge,
    warmup: list[Any],
    database: str,
    headers: Callable[[int], dict[str, str]] | None = None,
) -> Load:
    """POST every body with `concurrency` requests in flight; the warm-up bodies go first,
    untimed, on the same connections. `database` (a conninfo) is the store, watched;
    `headers` gives the extra headers of the i-th request (e.g. the visitor's address)."""

    async def run() -> Load:
        # A client per connection: httpx's pool scans every connection for every request,
        # which costs the load generator more CPU than the server at 32 connections.
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(client(served, token, 1))
                for _ in range(concurrency)
            ]
            for http in clients:
                # One connection at a time, each answered before the next: opened together,
                # the first worker to wake accepts them all and the other stays idle.
                await http.get("/static/connection-opened")
                await asyncio.sleep(0.01)
            await _post_all(clients, path, warmup, judge, headers)
            before = database_work(served)
            with WaitSampler(database) as waits:
                meter = CpuMeter(served.pid)
                started = time.perf_counter()
                seconds, outcomes = await _post_all(clients, path, bodies, judge, headers)
                wall = time.perf_counter() - started
                cpu = meter.stop(wall)
            after = database_work(served)
            sent = {k: round((after[k] - before[k]) / len(bodies), 2) for k in sorted(after)}
            return Load(seconds, wall, outcomes, cpu, sent, waits.summary())

    return asyncio.run(run())


# ------------------------------------------------------------------------------ with wrk


@dataclass(frozen=True)
class Driven:
    """A run's figures (`Load.summary`'s keys, and `driver`) and the bodies that reached the
    server, warm-up first: what the caller checks the store against."""

    summary: dict[str, Any]
    sent: list[Any]
    warmed: int  # how many of `sent` were the warm-up's

    @property
    def timed(self) -> list[Any]:
        """The timed run's bodies that reached the server."""
        return self.sent[self.warmed :]


def bodies_needed(driver: str, requests: int, duration_s: float, per_second: int) -> int:
    """How many bodies a run takes: the httpx driver sends `requests`; wrk runs for a time,
    so enough for `per_second` (more than the server is expected to answer) throughout."""
    return requests if driver == "httpx" else round(per_second * duration_s)


def drive(
    driver: str,
    served: Served,
    token: str,
    path: str,
    bodies: list[Any],
    *,
    concurrency: int,
    judge: Judge,
    patterns: list[tuple[str, str]],
    warmup: list[Any],
    database: str,
    duration_s: float,
    headers: Headers | None = None,
) -> Driven:
    """The bodies through `driver`: httpx judges each answer with `judge`; wrk counts the 2xx
    answers matching each (label, Lua pattern) of `patterns` and runs for `duration_s`."""
    if driver == "httpx":
        load = post_all(
            served,
            token,
            path,
            bodies,
            concurrency=concurrency,
            judge=judge,
            warmup=warmup,
            database=database,
            headers=headers,
        )
        return Driven(load.summary(concurrency) | {"driver": "httpx"}, warmup + bodies, len(warmup))
    return post_all_wrk(
        served,
        token,
        path,
        bodies,
        concurrency=concurrency,
        patterns=patterns,
        warmup=warmup,
        database=database,
        duration_s=duration_s,
        headers=headers,
    )


def _requests_file(
    directory: Path,
    name: str,
    served: Served,
    token: str,
    path: str,
    bodies: list[Any],
    headers: Headers | None,
    first: int,
) -> Path:
    """The bodies as whole requests for wrk; request i's extra headers are `headers(first + i)`
    so the warm-up's visitors and the timed run's differ."""
    host = served.base_url.removeprefix("http://")
    common = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    file = directory / f"{name}.requests"
    wrk.write_requests(
        file,
        (
            wrk.render(
                host,
                path,
                json.dumps(body).encode(),
                common | (headers(first + i) if headers else {}),
            )
            for i, body in enumerate(bodies)
        ),
    )
    return file


def post_all_wrk(
    served: Served,
    token: str,
    path: str,
    bodies: list[Any],
    *,
    concurrency: int,
    patterns: list[tuple[str, str]],
    warmup: list[Any],
    database: str,
    duration_s: float,
    headers: Headers | None = None,
) -> Driven:
    """`post_all` with wrk: the warm-up bodies for WARM_S seconds, then the bodies for
    `duration_s`, over `concurrency` connections. wrk's CPU is the client's; this process
    only samples PostgreSQL meanwhile (`sampler_cpu_s`)."""
    wrk.require()
    with tempfile.TemporaryDirectory(prefix="rightful-wrk-") as tmp:
        directory = Path(tmp)
        warm_file = _requests_file(directory, "warm", served, token, path, warmup, headers, 0)
        timed_file = _requests_file(
            directory, "timed", served, token, path, bodies, headers, len(warmup)
        )
        warm = wrk.run(served.base_url, warm_file, connections=concurrency, duration_s=WARM_S)
        before = database_work(served)
        with WaitSampler(database) as waits:
            meter = CpuMeter(served.pid)
            started = time.perf_counter()
            result = wrk.run(
                served.base_url,
                timed_file,
                connections=concurrency,
                duration_s=duration_s,
                patterns=patterns,
            )
            cpu = meter.stop(time.perf_counter() - started)
        after = database_work(served)  # includes the requests left in flight at the end
    sent = [bodies[i] for i in result.sent_records()]
    cpu["sampler_cpu_s"] = cpu["client_cpu_s"]
    cpu["client_cpu_s"] = round(result.cpu_s, 2)
    cpu["other_cpu_s"] = round(max(cpu["other_cpu_s"] - result.cpu_s, 0.0), 2)
    answers = max(result.answers, 1)
    summary = {
        "driver": "wrk",
        "requests": result.answers,
        "sent": len(sent),
        "concurrency": concurrency,
        "wall_s": round(result.duration_s, 2),
        "per_second": round(result.answers / result.duration_s, 1),
        "latency": {
            "mean_ms": result.latency_ms["mean"],
            "median_ms": result.latency_ms["p50"],
            "p95_ms": result.latency_ms["p95"],
            "p99_ms": result.latency_ms["p99"],
            "max_ms": result.latency_ms["max"],
        },
        "outcomes": dict(sorted(result.outcomes().items())),
        "errors": result.non_2xx + sum(v for k, v in result.errors.items() if k != "status"),
        "warmup": {"requests": warm.answers, "outcomes": dict(sorted(warm.outcomes().items()))},
        "cpu": cpu,
        "cpu_ms_per_request": {
            side: round(1000 * cpu[f"{side}_cpu_s"] / answers, 3)
            for side in ("server", "postgres", "client")
        },
        "database_per_request": {
            k: round((after[k] - before[k]) / max(len(sent), 1), 2) for k in sorted(after)
        },
        "postgres_backends": waits.summary(),
    }
    warm_sent = [warmup[i] for i in warm.sent_records()]
    return Driven(summary, warm_sent + sent, len(warm_sent))
