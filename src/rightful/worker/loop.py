"""The embedded worker: polls the database (the source of truth) for work. No broker needed.

One thread per lane (worker/jobs.py) — execution (`worker_concurrency` threads), mail and
propagation — plus one for housekeeping and the mailbox and one for the heartbeat. A lane that
found work goes straight on; one that found none waits `interval` seconds or until woken. The
consent sequencer's lane waits at most `consent_sequencer_poll_seconds`, and on PostgreSQL a
listener wakes it when writers say events are waiting (consent/sequence_wake.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from rightful.consent import sequence_wake
from rightful.core.runtime import Runtime
from rightful.worker import jobs
from rightful.worker.jobs import maintain

__all__ = ["MAINTENANCE_SECONDS", "EmbeddedWorker", "maintain", "run_once"]

log = logging.getLogger(__name__)

MAINTENANCE_SECONDS = 60.0
SEQUENCE = "sequence"  # the consent sequencer's lane (worker/jobs.py)


def run_once(runtime: Runtime, *, maintenance: bool = True) -> int:
    """One pass of every lane in turn (and, unless told not to, housekeeping), until no
    runnable request is left; returns how many requests ran. For `rightful worker --once`."""
    if maintenance:
        maintain(runtime)
    jobs.read_mailbox(runtime)
    jobs.mail(runtime)
    jobs.propagate(runtime)
    ran = 0
    while taken := jobs.execute(runtime):
        ran += taken
    if ran:  # what the requests just queued goes out in the same pass
        jobs.propagate(runtime)
        jobs.mail(runtime)
    return ran


class EmbeddedWorker:
    """The lanes' threads, each polling every `interval` seconds, or at once when woken."""

    def __init__(self, runtime: Runtime, interval: float = 2.0) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stop = threading.Event()
        self._wakes = {lane: threading.Event() for lane in jobs.LANES}
        poll = min(interval, runtime.settings.consent_sequencer_poll_seconds)
        self._waits = {SEQUENCE: poll} if SEQUENCE in jobs.LANES else {}
        self.sequence_wake: sequence_wake.Listener | None = None
        if SEQUENCE in jobs.LANES and runtime.engine.dialect.name == "postgresql":
            self.sequence_wake = sequence_wake.Listener(
                runtime.engine.url, lambda: self.wake(SEQUENCE)
            )
        threads = max(1, runtime.settings.worker_concurrency)
        self._threads = [
            self._thread(f"rightful-{jobs.EXECUTION}-{n}", self._lane, jobs.EXECUTION)
            for n in range(threads)
        ]
        self._threads += [
            self._thread(f"rightful-{lane}", self._lane, lane)
            for lane in jobs.LANES
            if lane != jobs.EXECUTION
        ]
        self._threads += [
            self._thread("rightful-housekeeping", self._housekeeping),
            self._thread("rightful-heartbeat", self._heartbeat),
        ]

    def _thread(self, name: str, target: Callable[..., None], *args: str) -> threading.Thread:
        return threading.Thread(target=target, args=args, name=name, daemon=True)

    def start(self) -> None:
        """Start every lane."""
        for thread in self._threads:
            thread.start()
        if self.sequence_wake is not None:
            self.sequence_wake.start()

    def wake(self, lane: str | None = None) -> None:
        """Run a lane (or all) soon, e.g. right after a request was approved."""
        for name, event in self._wakes.items():
            if lane is None or lane == name:
                event.set()

    def stop(self) -> None:
        """Let each lane finish its current pass and stop."""
        self._stop.set()
        if self.sequence_wake is not None:
            self.sequence_wake.stop()
        self.wake()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=30)

    def run_forever(self) -> None:
        """Run every lane until stopped (`rightful worker` in the foreground)."""
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            self.stop()

    def _lane(self, lane: str) -> None:
        # Each pass must outlive any one failure: the database keeps the work.
        job, wake = jobs.LANES[lane], self._wakes[lane]
        wait = self._waits.get(lane, self.interval)
        while not self._stop.is_set():
            try:
                if job(self.runtime):
                    continue  # more may be waiting: no sleep during a backlog
            except Exception:
                log.exception("the %s lane's pass failed; retrying", lane)
            wake.wait(wait)
            wake.clear()

    def _housekeeping(self) -> None:
        last = float("-inf")
        while not self._stop.is_set():
            if time.monotonic() - last >= MAINTENANCE_SECONDS:
                last = time.monotonic()
                try:
                    maintain(self.runtime)
                except Exception:
                    log.exception("housekeeping failed; retrying in a minute")
            jobs.read_mailbox(self.runtime)
            self._stop.wait(self.interval)

    def _heartbeat(self) -> None:
        lanes = ",".join(jobs.LANES)
        while not self._stop.is_set():
            try:
                jobs.heartbeat(self.runtime, lanes)
            except Exception:
                log.exception("the heartbeat could not be written; trying again")
            self._stop.wait(self.runtime.settings.worker_heartbeat_seconds)
