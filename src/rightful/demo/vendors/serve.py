"""The stand-in vendors on a loopback port of their own, for tests and the benchmark (the demo
itself mounts them on Rightful's server)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

HOST = "127.0.0.1"


@contextmanager
def serving_vendors(data_dir: Path, *, startup_seconds: float = 20.0) -> Iterator[str]:
    """Serve both stand-ins under MOUNT on a free loopback port for the block; yields the
    server's base URL (what `connect_vendors` takes as `base_url`)."""
    from rightful.demo.vendors import MOUNT, vendor_app

    app = Starlette(routes=[Mount(MOUNT, vendor_app(data_dir))])
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on accepted connections (it checks the
    # proto; with 0, Nagle holds each response's body for the client's delayed ACK, ~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_seconds
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the stand-in vendors did not start")
            time.sleep(0.02)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
