"""Waking the consent sequencer when events are written, rather than at its next poll.

A writer adds `pg_notify('rightful_sequence', '')` as a column of the statement it sends anyway
(consent/appending.py), at most once every `WAKE_EVERY` seconds per process: each NOTIFY makes
its commit take PostgreSQL's notify-queue lock, which serialises the committers that notify
(docs/benchmarks.md, "What the change feed costs writers"), so a wake-up on every write would
cost writers what the sequencer took off their path; a few a second per process cost nothing
measurable. The worker listens (`Listener`) and runs the sequencer's lane when told, and once
more a moment later, for what was written between two wake-ups; the lane's poll
(`consent_sequencer_poll_seconds`, one indexed read when nothing is pending) catches the rest,
e.g. a wake-up lost with a rolled-back transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, func, select

if TYPE_CHECKING:
    import psycopg

__all__ = ["CHANNEL", "WAKE_EVERY", "Listener", "due", "notify_column"]

log = logging.getLogger(__name__)

CHANNEL = "rightful_sequence"
WAKE_EVERY = 0.1  # seconds between one process's wake-ups at most
RECONNECT_SECONDS = 1.0
_last = [float("-inf")]
_lock = threading.Lock()


def due() -> bool:
    """Whether this process's next write should wake the sequencer (and now counts as sent)."""
    now = time.monotonic()
    with _lock:
        if now - _last[0] < WAKE_EVERY:
            return False
        _last[0] = now
        return True


def notify_column() -> Any:
    """The wake-up as a column of a statement sent anyway: sent when it commits, never if not."""
    return select(func.pg_notify(CHANNEL, "")).scalar_subquery()


class Listener:
    """A thread holding `LISTEN rightful_sequence`, calling `on_wake` for each wake-up (and
    again `2 * WAKE_EVERY` later, for events committed just after the sequencer's pass)."""

    def __init__(self, url: URL, on_wake: Callable[[], None]) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_wake = on_wake
        self._stop = threading.Event()
        self.live = threading.Event()  # set while listening (tests wait for it)
        self._thread = threading.Thread(
            target=self._run, name="rightful-sequence-wake", daemon=True
        )

    def start(self) -> None:
        """Start listening."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (within a second)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        # Imported here: writers import this module for `due` and `notify_column`, and a server
        # on SQLite (or one that never listens) has no use for psycopg.
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.live.set()
                    self._listen(conn)
            except psycopg.Error as exc:
                log.warning("the sequencer's wake-up lost its connection (%s)", type(exc).__name__)
            finally:
                self.live.clear()
            self._stop.wait(RECONNECT_SECONDS)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        trailing: float | None = None  # when to wake the lane once more
        while not self._stop.is_set():
            wait = 1.0 if trailing is None else max(0.0, trailing - time.monotonic())
            woken = any(True for _ in conn.notifies(timeout=wait, stop_after=1))
            if woken:
                while any(True for _ in conn.notifies(timeout=0, stop_after=1)):
                    pass  # a burst of wake-ups is one
                self._on_wake()
                trailing = time.monotonic() + 2 * WAKE_EVERY
            elif trailing is not None and time.monotonic() >= trailing:
                trailing = None
                self._on_wake()
            else:
                conn.execute("SELECT 1")  # a half-open connection shows here
