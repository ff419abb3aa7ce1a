"""Memory of `rightful serve` beside a Celery worker with two prefork processes (issue 12).

    python -m benchmarks.worker_memory [--rounds 6] [--concurrency 2]

A fresh, migrated PostgreSQL store (no requests), Redis as the broker (database 13, emptied),
`rightful serve` with the embedded worker off and `celery ... worker --pool prefork -c N`
without beat, both the real commands. Each pool process is warmed as it would be in use: ROUNDS
rounds of the sweep, `run_requests`, a pass of every lane, `due` and `mailbox`, sent through the
broker; the server answers 40 pages. Then each process's proportional (PSS: pages shared after a
fork counted once) and private (USS) memory is read from /proc/PID/smaps_rollup. Prints one
JSON object; the sums are what `procstat.tree_memory_mib` reads.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import redis

from benchmarks.api_stack import free_port
from benchmarks.databases import Server

BIN = Path(sys.executable).parent
STORE = "rightful_worker_memory"
BROKER = "redis://127.0.0.1:6379/13"
PAGES = ("/healthz", "/", "/readyz", "/request", "/admin/login", "/api/v1/openapi.json")


def _memory(pid: int) -> dict[str, float]:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":")
        fields[key] = int(value.split()[0])
    private = fields["Private_Clean"] + fields["Private_Dirty"]
    return {"pss_mib": round(fields["Pss"] / 1024, 1), "uss_mib": round(private / 1024, 1)}


def _tree(pid: int) -> list[int]:
    """A process and its descendants."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        if parent == pid:
            found += _tree(int(entry.name))
    return found


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # Our own interpreter's commands with fixed arguments.
        return subprocess.Popen(  # noqa: S603
            command, env=env, cwd=env["RIGHTFUL_DATA_DIR"], stdout=out, stderr=out,
            start_new_session=True,
        )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run(rounds: int, concurrency: int) -> dict[str, Any]:
    """Start both, warm them, read their memory, stop them."""
    server = Server()
    server.recreate(STORE)
    redis.Redis.from_url(BROKER).flushdb()
    data_dir = Path(tempfile.mkdtemp(prefix="worker-memory-"))
    env = {
        **os.environ,
        "RIGHTFUL_DATABASE_URL": server.url(STORE),
        "RIGHTFUL_BROKER_URL": BROKER,
        "RIGHTFUL_SECRET_KEY": secrets.token_urlsafe(48),
        "RIGHTFUL_DATA_DIR": str(data_dir),
        "RIGHTFUL_BASE_URL": "http://127.0.0.1",
        "RIGHTFUL_EMBEDDED_WORKER": "false",
        "RIGHTFUL_SMTP_URL": "smtp://127.0.0.1:2",  # nothing to send: the store is empty
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("RIGHTFUL_")})
    from rightful.core.config import Settings
    from rightful.core.runtime import build_runtime
    from rightful.migrations import upgrade
    from rightful.worker import celery_app, jobs

    runtime = build_runtime(Settings())
    upgrade(runtime.engine)
    runtime.engine.dispose()
    log = data_dir / "processes.log"
    worker = _start(
        [str(BIN / "celery"), "-A", "rightful.worker.celery_app:app", "worker", "--pool",
         "prefork", "--concurrency", str(concurrency), "-Q", ",".join(celery_app.QUEUES.values()),
         "--loglevel", "warning", "--without-gossip", "--without-mingle"],
        env, log,
    )  # fmt: skip
    port = free_port()
    serve = _start([str(BIN / "rightful"), "serve", "--port", str(port)], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(900):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        celery_app.configure(Settings())
        time.sleep(5)
        for _ in range(rounds):
            celery_app.sweep_task.delay()
            celery_app.run_requests_task.delay([])
            for lane, queue in celery_app.QUEUES.items():
                if lane in jobs.LANES:
                    celery_app.lane_task.apply_async((lane,), queue=queue, routing_key=queue)
            celery_app.app.send_task("rightful.due")
            celery_app.app.send_task("rightful.mailbox")
            time.sleep(3)
        for i in range(40):
            httpx.get(base + PAGES[i % len(PAGES)])
        time.sleep(20)  # every task sent has run
        found = {
            "load_average_1m": round(os.getloadavg()[0], 2),
            "server": {pid: _memory(pid) for pid in _tree(serve.pid)},
            "celery": {pid: _memory(pid) for pid in _tree(worker.pid)},
        }
    finally:
        _stop(serve)
        _stop(worker)
    for role in ("server", "celery"):
        found[f"{role}_pss_mib"] = round(sum(m["pss_mib"] for m in found[role].values()), 1)
    found["total_pss_mib"] = round(found["server_pss_mib"] + found["celery_pss_mib"], 1)
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.rounds, args.concurrency), indent=1))


if __name__ == "__main__":
    main()
