"""The real deployment for the API run: a fresh store, `rightful serve`, the workers, a mail
server standing in for the consumers' inboxes, and a watcher of the store.

Every Rightful process is the real command (`rightful serve`, `rightful worker`, `celery ...
worker`), started as a subprocess through `benchmarks.api_counted` so its statements to the
store are counted; the staff member and the API token are made with the CLI, as an operator
would. Settings reach every process as RIGHTFUL_* variables.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiosmtpd.controller import Controller

from benchmarks.api_counted import COUNTS_ENV, STORE_ENV
from benchmarks.databases import Server
from rightful.core.config import Settings
from rightful.core.runtime import build_runtime
from rightful.demo.estate import SYSTEMS
from rightful.demo.setup import load_data_map
from rightful.inventory import revision
from rightful.migrations import upgrade
from rightful.worker.celery_app import QUEUES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STAFF = "bench.api@lumen.example"
CODE = re.compile(r"\b(\d{6})\b")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------------ the store


@dataclass
class Store:
    """A migrated store with the demo data map, a staff member and an API token."""

    name: str
    env: dict[str, str]
    token: str
    conninfo: str


def settings_env(server: Server, store: str, data_dir: Path, smtp_url: str) -> dict[str, str]:
    """RIGHTFUL_* for every process; limits meant for a public form raised (one client)."""
    values: dict[str, Any] = {
        "database_url": server.url(store),
        "secret_key": secrets.token_urlsafe(48),
        "data_dir": data_dir,
        "smtp_url": smtp_url,
        "codes_per_client_per_hour": 1_000_000,
        "codes_per_identity_per_hour": 1_000_000,
        "requests_per_client_per_hour": 1_000_000,
        "requests_per_address_per_hour": 1_000_000,
    }
    return {f"RIGHTFUL_{k.upper()}": str(v) for k, v in values.items()} | {STORE_ENV: store}


def _cli(env: dict[str, str], *args: str) -> str:
    # Our own `rightful` with fixed arguments; nothing comes from outside.
    done = subprocess.run(  # noqa: S603
        [str(BIN / "rightful"), *args],
        env={**os.environ, **env},
        cwd=env["RIGHTFUL_DATA_DIR"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"rightful {args[0]} {args[1]} failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


def prepare_store(server: Server, store: str, estate_url: str, env: dict[str, str]) -> Store:
    """Drop and create the store, migrate it, point the demo data map at the estate, then make a
    staff member and an API token with the CLI."""
    server.recreate(store)
    revision._cache.clear()  # a store recreated at one address starts at the same revision
    data_dir = Path(env["RIGHTFUL_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(**{k.removeprefix("RIGHTFUL_").lower(): v for k, v in env.items()})
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    load_data_map(runtime, dict.fromkeys(SYSTEMS, estate_url))
    runtime.engine.dispose()
    _no_consent_import(server.conninfo(store))
    password = data_dir / "staff-password"
    password.write_text(secrets.token_urlsafe(24))
    _cli(env, "staff", "create", STAFF, "--name", "API benchmark", "--role", "admin",
         "--password-file", str(password))  # fmt: skip
    token = _cli(env, "staff", "token", "create", STAFF, "--name", "api-benchmark")
    return Store(store, env, token.splitlines()[-1].strip(), server.conninfo(store))


def _no_consent_import(conninfo: str) -> None:
    """Switch off the demo's consent store destination. Its first pass imports every marketing
    subscription of the estate into the consent ledger (150,000 rows at 100,000 customers, many
    minutes): consent's work, measured by benchmarks/consent.py, not requests'. Left on, it
    runs in the propagation lane during the runs (and holds one Celery process throughout)."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("UPDATE consent_destinations SET active = false WHERE kind = 'store'")


# -------------------------------------------------------------------------------- the processes


@dataclass
class Processes:
    """The subprocesses of one deployment, their logs, and where they write their counts."""

    log_dir: Path
    counts_dir: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, label: str, env: dict[str, str], *command: str) -> subprocess.Popen[bytes]:
        """`python -m benchmarks.api_counted COMMAND...`, its output in LOG_DIR/LABEL.log."""
        full_env = {
            **os.environ,
            **env,
            COUNTS_ENV: str(self.counts_dir),
            # Where this process found Rightful (e.g. a snapshot of a commit) comes first.
            "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])),
        }
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{label}.log").open("ab") as out:
            # Our own interpreter and fixed commands; nothing comes from outside.
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "benchmarks.api_counted", *command],
                cwd=env["RIGHTFUL_DATA_DIR"],
                env=full_env,
                stdout=out,
                stderr=out,
                start_new_session=True,  # its own process group, ended with it
            )
        self.running[label] = process
        return process

    def stop(self, label: str) -> None:
        """SIGTERM (each command stops its own children), then SIGKILL after 15 s."""
        process = self.running.pop(label, None)
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # with its children (Celery's pool)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        """Stop every process this deployment started."""
        for label in list(self.running):
            self.stop(label)

    def pids(self) -> list[int]:
        """The running processes' ids."""
        return [p.pid for p in self.running.values()]

    def counts(self) -> Counter[str]:
        """What every process has sent so far, split `server.*` and `workers.*`."""
        time.sleep(0.25)  # each writes ten times a second
        total: Counter[str] = Counter()
        for path in self.counts_dir.glob("*.json"):
            try:
                found = json.loads(path.read_text())
            except (json.JSONDecodeError, FileNotFoundError):
                continue
            role = "server" if "serve" in found.pop("argv") else "workers"
            total.update({f"{role}.{k}": v for k, v in found.items()})
        return total


def serve(processes: Processes, env: dict[str, str], port: int) -> str:
    """`rightful serve` on a loopback port, until /healthz answers; returns its base URL."""
    process = processes.start("serve", env, "rightful", "serve", "--port", str(port))
    base_url = f"http://127.0.0.1:{port}"
    if wait_healthy(base_url, process, timeout=90) is None:
        raise RuntimeError(f"rightful serve did not answer; see {processes.log_dir}/serve.log")
    return base_url


def celery(processes: Processes, env: dict[str, str], concurrency: int) -> None:
    """A Celery worker with `concurrency` prefork processes on every Rightful queue; its main
    process sends the periodic jobs as in production (no beat, docs/operations.md): the sweep
    every RIGHTFUL_SWEEP_SECONDS (60) queues anything stranded again, and housekeeping."""
    processes.start(
        "celery",
        env,
        "celery",
        "-A",
        "rightful.worker.celery_app:app",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "-Q",
        ",".join(QUEUES.values()),
        "--loglevel",
        "warning",
        "--without-gossip",
        "--without-mingle",
    )


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float) -> float | None:
    """Seconds until /healthz answered 200, polling every 10 ms; None if it never did."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            return None
        try:
            if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.01)
    return None


def cold_starts(env: dict[str, str], tries: int, log_dir: Path) -> list[float]:
    """`rightful serve` (the plain command, embedded worker on) from its start to the first 200
    on /healthz, `tries` times; each server is stopped before the next starts."""
    seconds = []
    log_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(tries):
        port = free_port()
        with (log_dir / "cold-start.log").open("ab") as out:
            started = time.perf_counter()
            # Our own `rightful` with fixed arguments.
            process = subprocess.Popen(  # noqa: S603
                [str(BIN / "rightful"), "serve", "--port", str(port)],
                cwd=env["RIGHTFUL_DATA_DIR"],
                env={**os.environ, **env},
                stdout=out,
                stderr=out,
            )
            waited = wait_healthy(f"http://127.0.0.1:{port}", process, timeout=60)
            if waited is not None:
                seconds.append(round(time.perf_counter() - started, 3))
            process.kill()  # only its start is measured
            process.wait()
    return seconds


# ------------------------------------------------------------------------ the consumers' inboxes


class Inbox:
    """An SMTP server on loopback (aiosmtpd) that reads the verification code out of each
    person's first e-mail holding one, as the person would, and hands it to whoever awaits it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received = 0
        self.unreadable = 0
        self._codes: dict[str, str] = {}
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[str]]] = {}
        self._lock = threading.Lock()
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="localhost"
        )

    @property
    def url(self) -> str:
        """Where Rightful sends its mail (RIGHTFUL_SMTP_URL)."""
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> Inbox:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    async def handle_DATA(self, _server: object, _session: object, envelope: Any) -> str:
        """aiosmtpd's hook: note the code, if the message has one."""
        try:
            found, headers = _code_and_recipients(envelope.original_content or envelope.content)
        except Exception:  # counted and accepted: a 5xx would only delay it
            self.unreadable += 1
            return "250 Message accepted for delivery"
        with self._lock:
            self.received += 1
            for _, address in getaddresses(headers):
                if found and address.lower() not in self._codes:
                    self._deliver(address.lower(), found.group(1))
        return "250 Message accepted for delivery"

    def _deliver(self, address: str, code: str) -> None:
        self._codes[address] = code
        if address in self._waiting:
            loop, future = self._waiting.pop(address)
            loop.call_soon_threadsafe(_resolve, future, code)

    def code_for(self, address: str) -> asyncio.Future[str]:
        """The code e-mailed to `address`, now or when it arrives."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        with self._lock:
            if address.lower() in self._codes:
                future.set_result(self._codes[address.lower()])
            else:
                self._waiting[address.lower()] = (loop, future)
        return future


def _code_and_recipients(raw: bytes) -> tuple[re.Match[str] | None, list[str]]:
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    body = message.get_body(("plain",))
    found = CODE.search(body.get_content()) if body is not None else None  # type: ignore[attr-defined]
    return found, [str(h) for h in message.get_all("to", [])]


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


# ---------------------------------------------------------------------------- the store watcher

TERMINAL = ("completed", "partially_completed", "denied", "withdrawn")


class Watcher:
    """Reads the store every 20 ms for the requests awaited, standing in for the completion
    e-mail or a webhook: an access request is done when its package is written, a deletion when
    every system has been erased (it then waits for partners' confirmations, which come later)."""

    QUERY = (
        "SELECT id, status, package_file IS NOT NULL, summary::jsonb ? 'erasure'"
        " FROM rights_requests WHERE id = ANY(%s)"
    )

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[str]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def done(self, request_id: str) -> asyncio.Future[str]:
        """The request's status once it is done."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        with self._lock:
            self._waiting[request_id] = (loop, future)
        return future

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._watch()
            except psycopg.OperationalError:  # e.g. a shared server out of connections
                self._stop.wait(1.0)

    def _watch(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.wait(0.02):
                with self._lock:
                    ids = list(self._waiting)
                if not ids:
                    continue
                for rid, status, packaged, erased in conn.execute(self.QUERY, (ids,)):
                    if packaged or erased or status in TERMINAL:
                        with self._lock:
                            loop, future = self._waiting.pop(rid)
                        loop.call_soon_threadsafe(_resolve, future, status)


def statuses(conninfo: str, ids: list[str]) -> Counter[str]:
    """How many of the requests are in each status (done: as the watcher decides); tries for a
    minute when the server has no connection free."""
    for _ in range(60):
        try:
            with psycopg.connect(conninfo) as conn:
                rows = conn.execute(
                    "SELECT CASE WHEN package_file IS NOT NULL OR summary::jsonb ? 'erasure'"
                    " OR status = ANY(%s) THEN 'done:' || status ELSE status END, count(*)"
                    " FROM rights_requests WHERE id = ANY(%s) GROUP BY 1",
                    (list(TERMINAL), ids),
                ).fetchall()
            return Counter({name: int(n) for name, n in rows})
        except psycopg.OperationalError:
            time.sleep(1.0)
    raise RuntimeError("the store took no connection for a minute")
