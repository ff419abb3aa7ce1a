"""Throughput with several worker processes, each with its own runtime and connections."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from typing import Any

from benchmarks import bound
from benchmarks.counting import StatementCounter
from benchmarks.drive import Driver
from benchmarks.store import Person
from rightful.core.config import Settings
from rightful.core.runtime import build_runtime

Runner = Callable[[], list[Any]]
_CTX = multiprocessing.get_context("spawn")  # no engine or connection crosses a fork


def _rightful(values: dict[str, Any], store_db: str, people: list[Person]) -> Runner:
    runtime = build_runtime(Settings(**values))
    counter = StatementCounter(store_db)
    counter.install()
    driver = Driver(runtime, counter)
    driver.request(people[0])  # warm, before the clock: connections, reflection, templates
    return lambda: driver.run(people)


def _bound(conninfo: str, people: list[Person]) -> Runner:
    return lambda: bound.run(conninfo, [p.email for p in people])


_JOBS: dict[str, Callable[..., Runner]] = {
    "rightful": _rightful,
    "bound": _bound,
}


def _worker(job: str, args: tuple[Any, ...], barrier: Any, results: Any) -> None:
    run = _JOBS[job](*args)
    barrier.wait()  # every process is set up before the clock starts
    start = time.time()
    records = run()
    results.put({"records": records, "start": start, "end": time.time()})


def _next_result(results: Any, workers: list[Any], job: str) -> Any:
    """The next worker's result; fails as soon as a worker has died without one."""
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            failed = [w.exitcode for w in workers if w.exitcode]
            if failed:
                for worker in workers:
                    worker.terminate()
                raise RuntimeError(f"a {job} worker failed (exit code {failed[0]})") from None


def in_processes(job: str, people: list[Person], processes: int, *args: Any) -> dict[str, Any]:
    """Split `people` over `processes` workers; per-request records and the wall time."""
    barrier, results = _CTX.Barrier(processes), _CTX.Queue()
    shares = [people[i::processes] for i in range(processes)]
    workers = [
        _CTX.Process(target=_worker, args=(job, (*args, share), barrier, results))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    outs = [_next_result(results, workers, job) for _ in workers]
    for worker in workers:
        worker.join()
    wall = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    return {
        "records": [r for o in outs for r in o["records"]],
        "wall_s": wall,
        "per_minute": 60 * len(people) / wall,
    }
