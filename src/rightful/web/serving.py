"""How `rightful serve` runs uvicorn, in one place the tests' live server uses too.

One process by default, the embedded worker's threads beside the server's. With `workers` > 1
uvicorn starts that many server processes on one socket (each its own interpreter, so a
machine's cores all serve) and the embedded worker runs once, in the process supervising them,
woken by theirs through web/wake.py. Every server process runs on uvloop and httptools
(dependencies; uvicorn's `auto` picks them): on the consent check path the event loop and the
HTTP parser are a large share of what a check costs the server (docs/decisions/0019).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

from rightful.core.runtime import Runtime, build_runtime
from rightful.core.startup import loading
from rightful.web.app import create_app
from rightful.web.wake import WAKE_ENV, WakeListener, sender_from_env
from rightful.worker.loop import EmbeddedWorker

# uvicorn itself believes X-Forwarded-For from any local peer (FORWARDED_ALLOW_IPS defaults to
# 127.0.0.1) and rewrites the client's address before Rightful sees it, so anything on the
# machine could pose as any client. Rightful reads the header itself, and only from the proxies
# in RIGHTFUL_TRUSTED_PROXIES (web/client.py).
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": False}
RUN_OPTIONS: dict[str, Any] = {"log_level": "info", "access_log": False, **UVICORN_OPTIONS}


def serve(runtime: Runtime, *, host: str, port: int, workers: int = 1) -> None:
    """Serve until stopped: in this process, or in `workers` processes beside one worker."""
    if workers <= 1:
        uvicorn.run(built(lambda: create_app(runtime)), host=host, port=port, **RUN_OPTIONS)
        return
    # The server processes read their settings from the environment, as this one did; the
    # demo's address may have been decided here (cli/main.py), so it is handed on too.
    os.environ["RIGHTFUL_BASE_URL"] = runtime.settings.base_url
    if not runtime.settings.embedded_worker:  # a worker runs elsewhere (Celery, `rightful worker`)
        _run_processes(host, port, workers)
        return
    worker = EmbeddedWorker(runtime)
    with WakeListener(worker) as listener:
        os.environ[WAKE_ENV] = listener.address
        worker.start()
        try:
            _run_processes(host, port, workers)
        finally:
            worker.stop()
            os.environ.pop(WAKE_ENV, None)


def _run_processes(host: str, port: int, workers: int) -> None:
    target = f"{__name__}:server_process_app"
    uvicorn.run(
        target,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        # A server process imports all of Rightful before it answers uvicorn's health pings;
        # on a busy machine that outlasts the default 5 s, and uvicorn would kill it as hung.
        timeout_worker_healthcheck=60,
        **RUN_OPTIONS,
    )


def built(make: Callable[[], FastAPI]) -> FastAPI:
    """The app `make` builds, with everything the process holds by then frozen (core/startup.py):
    what was imported and built before serving is never scanned by the garbage collector again.
    Otherwise the first request making many objects (a bulk check's million lines) pays for the
    process's first full collection over all of it, about 0.1 s of CPU that later calls do not
    pay."""
    with loading():
        return make()


def server_process_app() -> FastAPI:
    """The app of one of `rightful serve --workers N`'s server processes (uvicorn's factory):
    no worker of its own; the supervising process's is woken instead, when there is one."""
    return built(
        lambda: create_app(build_runtime(), start_worker=False, worker_elsewhere=sender_from_env())
    )
