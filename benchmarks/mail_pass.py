"""The mail lane's cost per e-mail (issue 12): a backlog of drafts sent to a loopback SMTP server.

`python -m benchmarks.mail_pass --messages 1000 --store-db t8_bench_mail`: a fresh PostgreSQL
store of its own gets `--messages` code e-mails queued as drafts (as the request path queues
them), then the worker's mail job (`worker.jobs.mail`) runs until nothing is due. The SMTP
server (aiosmtpd's Sink) runs in another process, so this process's CPU time is the lane's
alone. Reported: CPU milliseconds and store statements per e-mail sent, SMTP sessions opened
(counted as connections the lane made), and the wall time beside the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import build_runtime
from rightful.messaging.service import queue_emails
from rightful.migrations import upgrade
from rightful.worker import jobs


def _cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return 1000 * (usage.ru_utime + usage.ru_stime)


def _wait_listening(port: int) -> None:
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"no SMTP server on port {port}")


def _recreate(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Queue the backlog, drain it, and count."""
    _recreate("postgresql://postgres@127.0.0.1:5432/postgres", args.store_db)
    sink = ["-c", "aiosmtpd.handlers.Sink"]  # takes every message, keeps none
    # Our own interpreter and module, a port from the command line: nothing untrusted.
    smtp = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{args.port}", *sink],
    )
    try:
        _wait_listening(args.port)
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp(prefix="t8-mail-")),
            secret_key=secrets.token_urlsafe(48),
            database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.store_db}",
            smtp_url=f"smtp://127.0.0.1:{args.port}",
            worker_batch_size=args.batch,
        )
        runtime = build_runtime(settings)
        upgrade(runtime.engine)
        letters = [
            {
                "to": f"person.{n}@example.com",
                "template": "code",
                "context": {"reference": f"R-{n:06d}", "code": f"{n % 1_000_000:06d}", "ttl": 30},
                "language": "es" if n % 4 == 0 else "en",
            }
            for n in range(args.messages)
        ]
        with unit_of_work(runtime.sessions) as session:
            queue_emails(session, settings, letters)
        counts: Counter[str] = Counter()

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            counts["statements"] += 1

        connections = Counter[str]()
        connect = smtplib.SMTP.connect

        def counted_connect(self: smtplib.SMTP, *a: Any, **kw: Any) -> Any:
            connections["smtp"] += 1
            return connect(self, *a, **kw)

        smtplib.SMTP.connect = counted_connect  # type: ignore[method-assign]
        event.listen(runtime.engine, "before_cursor_execute", count)
        load = os.getloadavg()
        cpu, wall = _cpu_ms(), time.perf_counter()
        sent = passes = 0
        while batch := jobs.mail(runtime):
            sent, passes = sent + batch, passes + 1
        passes += 1  # the last pass, which found nothing
        wall, cpu = time.perf_counter() - wall, _cpu_ms() - cpu
        runtime.engine.dispose()
        dispose_all()
    finally:
        smtp.terminate()
        smtp.wait()
    return {
        "messages": args.messages,
        "sent": sent,
        "batch": args.batch,
        "passes": passes,
        "statements": counts["statements"],
        "statements_per_email": round(counts["statements"] / max(sent, 1), 3),
        "smtp_sessions": connections["smtp"],
        "cpu_ms": round(cpu),
        "cpu_ms_per_email": round(cpu / max(sent, 1), 3),
        "wall_s": round(wall, 2),
        "load_1_5_15": [round(x, 2) for x in load],
    }


def main() -> None:
    """Parse arguments, run once, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--store-db", default="t8_bench_mail")
    parser.add_argument("--port", type=int, default=18800)
    print(json.dumps(run(parser.parse_args())))


if __name__ == "__main__":
    main()
