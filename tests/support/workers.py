"""Real `rightful worker` processes for tests of claims: start them on a test's store, wait for
an outcome, kill one (SIGKILL) while a receiver holds its POST, and stop the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from rightful.core.runtime import Runtime


class HoldsAPost(Protocol):
    """A receiver that holds its n-th POST: `arrived` once it does, `release` to answer it."""

    arrived: threading.Event
    release: threading.Event


def start_worker(runtime: Runtime, **extra_env: str) -> subprocess.Popen[bytes]:
    """A `rightful worker` on the runtime's store. A killed worker's claims are free once it is
    silent for 3 s (its leases last minutes), so a test finishes only if heartbeats free them."""
    settings = runtime.settings
    env = {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(settings.data_dir),
        "RIGHTFUL_SECRET_KEY": settings.secret_key,
        "RIGHTFUL_DATABASE_URL": settings.resolved_database_url,
        "RIGHTFUL_BASE_URL": settings.base_url,
        "RIGHTFUL_WORKER_HEARTBEAT_SECONDS": "0.5",
        "RIGHTFUL_WORKER_SILENT_SECONDS": "3",
        **extra_env,
    }
    rightful = Path(sys.executable).parent / "rightful"
    return subprocess.Popen(
        [str(rightful), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def start_celery_worker(runtime: Runtime, **extra_env: str) -> subprocess.Popen[bytes]:
    """A Celery worker (solo pool, every queue) on the runtime's store and broker; its log in
    the data folder."""
    settings = runtime.settings
    env = {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(settings.data_dir),
        "RIGHTFUL_SECRET_KEY": settings.secret_key,
        "RIGHTFUL_DATABASE_URL": settings.resolved_database_url,
        "RIGHTFUL_BROKER_URL": settings.broker_url,
        "RIGHTFUL_BASE_URL": settings.base_url,
        "RIGHTFUL_SMTP_URL": settings.smtp_url or "",
        **extra_env,
    }
    celery = Path(sys.executable).parent / "celery"
    with (settings.data_dir / "celery.log").open("ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [
                str(celery), "-A", "rightful.worker.celery_app:app", "worker", "--pool=solo",
                "--loglevel=info", "--without-heartbeat", "--without-gossip", "--without-mingle",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def kill_while_held(worker: subprocess.Popen[bytes], server: HoldsAPost, what: str) -> None:
    """SIGKILL the worker while the server holds its POST; the held POST is then answered 503,
    so what it carried was not taken and must be sent again by another worker."""
    try:
        assert server.arrived.wait(180), f"the worker never sent {what}"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
        server.release.set()


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_for(check: Callable[[], bool], what: str, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.3)
