"""Celery's periodic jobs without `celery beat`: every worker's main process keeps the schedule,
and a lease in the database lets one of them, on whichever machine, send each run.

Each job has a row in `worker_schedule` (core/claims.py's claim on it). Whoever claims the row
sends the job's task and holds the row until the job is due again, so however many workers
run, each run is sent once; a worker that cannot reach the broker gives the row back, and the
next try (any worker's) sends it. A worker that dies after claiming costs one interval at most.
The main process only sends: the jobs run in the pool like any task.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from rightful.core import claims
from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # after a failed try (store or broker unreachable)
LONGEST_WAIT = 30.0  # a lease another worker took is read again at least this often


class ScheduledRun(Base):
    """One periodic job's lease: its holder sent the current run; it ends when the next is due."""

    __tablename__ = "worker_schedule"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the job's task name
    claimed_by: Mapped[str | None] = mapped_column(String(claims.HOLDER_LENGTH), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Scheduler:
    """Sends each job (task name → seconds between runs) when this process wins its lease.

    `send(task)` publishes the task and says whether the broker took it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        jobs: Mapping[str, float],
        send: Callable[[str], bool],
        *,
        grace: timedelta,
    ) -> None:
        self._sessions, self._jobs, self._send, self._grace = sessions, dict(jobs), send, grace
        self._next = dict.fromkeys(self._jobs, 0.0)  # time.monotonic() of each job's next try
        self._rows: set[str] = set()  # jobs whose row this process has seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rightful-schedule", daemon=True)

    def run_due(self) -> list[str]:
        """Try every job whose next try has come; the names of those this process sent."""
        sent: list[str] = []
        with self._sessions() as session:
            for name, seconds in self._jobs.items():
                if time.monotonic() < self._next[name]:
                    continue
                if self._try(session, name, seconds):
                    sent.append(name)
        return sent

    def wait(self) -> float:
        """Seconds until the next try of any job."""
        return max(0.0, min(self._next.values()) - time.monotonic())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _try(self, session: Session, name: str, seconds: float) -> bool:
        if name not in self._rows:
            _ensure_row(session, name)
            self._rows.add(name)
        won = claims.claim(
            session,
            ScheduledRun,
            ScheduledRun.id == name,
            lease=timedelta(seconds=seconds),
            grace=self._grace,
            limit=1,
        )
        if not won.ids:  # another worker sent this run: try when its lease ends
            until = session.scalar(
                select(ScheduledRun.claimed_until).where(ScheduledRun.id == name)
            )
            session.commit()
            left = (until - utcnow()).total_seconds() if until else 0.0
            self._next[name] = time.monotonic() + min(max(left, 0.5), LONGEST_WAIT)
            return False
        if self._send(name):
            self._next[name] = time.monotonic() + seconds
            return True
        claims.release(session, ScheduledRun, won, name)  # another worker, or this one, retries
        session.commit()
        self._next[name] = time.monotonic() + RETRY_SECONDS
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.wait()):
            try:
                self.run_due()
            except SQLAlchemyError:
                log.exception("the schedule could not reach the store; trying again")
                self._stop.wait(RETRY_SECONDS)


def _ensure_row(session: Session, name: str) -> None:
    """The job's row, made by the first worker that needs it (two may race: one wins)."""
    if session.get(ScheduledRun, name) is not None:
        return
    try:
        with session.begin_nested():
            session.add(ScheduledRun(id=name))
    except IntegrityError:
        pass
    session.commit()
