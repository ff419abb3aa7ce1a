"""Waking a worker that lives in another process: `rightful serve --workers N`.

With several server processes the embedded worker runs once, in the process that supervises
them (else each would poll and claim work, and mail would be sent N times as often). A server
process that has just queued work sends the lane's name, a few bytes, to a datagram socket the
worker listens on, the way the one-process server calls `EmbeddedWorker.wake`. A lost datagram
costs only latency: the worker polls the database, the source of truth, anyway.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from rightful.worker import jobs
from rightful.worker.dispatch import Waker

log = logging.getLogger(__name__)

# Where the supervising process listens, for the server processes it starts (they inherit it).
WAKE_ENV = "RIGHTFUL_SERVE_WAKE_SOCKET"


class WakeListener:
    """A datagram socket in a private directory, read by one thread that wakes `worker`."""

    def __init__(self, worker: Waker) -> None:
        self.worker = worker
        self._dir = Path(tempfile.mkdtemp(prefix="rightful-wake-"))  # mode 0700: ours only
        self.address = str(self._dir / "wake")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.address)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rightful-wake", daemon=True)

    def __enter__(self) -> WakeListener:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        # Closing a socket does not end another thread's recv on Linux: an empty datagram does.
        self._stopping.set()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as poke:
            poke.sendto(b"", self.address)
        self._thread.join(timeout=5)
        self._sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            lane = self._sock.recv(64).decode("ascii", "replace")
            if lane in jobs.LANES:  # anything else is not ours to act on
                self.worker.wake(lane)


class WakeSender:
    """What a server process hands to its dispatcher in place of the worker it does not run."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)  # never hold a request up: the worker polls anyway

    def __enter__(self) -> WakeSender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket (a server process keeps it for its whole life)."""
        self._sock.close()

    def wake(self, lane: str | None = None) -> None:
        """Ask the worker to run `lane` (every lane if None) soon; a failure is only logged."""
        for name in [lane] if lane else list(jobs.LANES):
            try:
                self._sock.sendto(name.encode("ascii"), self.address)
            except OSError as exc:  # full, or the supervisor is gone: polling picks it up
                log.debug("could not wake the %s lane: %s", name, exc)


def sender_from_env() -> WakeSender | None:
    """The sender a server process started by `rightful serve --workers N` should use."""
    address = os.environ.get(WAKE_ENV)
    return WakeSender(address) if address else None
