"""Group commit: the event requests one server process receives at the same time written in one
transaction, each answered only after that transaction's commit.

A request hands its item to `Grouper.submit` and waits. When fewer than `WRITERS` groups are
being written, the items waiting (oldest first, at most `size` of them counted by `weight`: a
banner batch weighs its events, as the statements' length grows with them) are written
together in a worker thread, through a `write` that sends a fixed number of statements
whatever the group's size (consent/event_groups.py); whatever arrives meanwhile waits for the
next group. One commit and one hand-off to a thread then serve many requests, which is what
limited events a second: the store was never the bound, one transaction and the Python around
it per request was. Two writers, not one, so that one group's Python runs while the other waits
for the store (its statements, its commit's flush to disk).

`write` returns one outcome per item: its answer, or the error its request gets (a bad item
fails alone; the others are written). `run_group` is the `write` the event endpoints use: when
a group's transaction fails before its commit, nothing of it was written, and each item is
written again alone, so it gets exactly the answer it would have had alone (a database error of
one item then fails only that one). When the commit itself fails, whether it was made is not
known (a connection lost during COMMIT), so no item is retried, none is acknowledged, and each
request gets `UnconfirmedWriteError` (503): sending a choice again is harmless, as a choice that
repeats the current one is not written twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from rightful.core.errors import RateLimitedError, RightfulError

__all__ = ["Grouper", "UnconfirmedWriteError", "run_group"]

WRITERS = 2  # groups a process writes at once
T = TypeVar("T")
R = TypeVar("R")
Outcomes = list["R | Exception"]


class UnconfirmedWriteError(RightfulError):
    """The store did not confirm the commit of a group of writes: send the request again."""

    code = "write_unconfirmed"
    status = 503
    title = "The choice could not be confirmed"


@dataclass
class _Lane(Generic[T, R]):
    """One event loop's waiting items, and whether a group is being written."""

    loop: asyncio.AbstractEventLoop
    waiting: deque[tuple[T, asyncio.Future[R]]] = field(default_factory=deque)
    writers: set[asyncio.Task[None]] = field(default_factory=set)


class Grouper(Generic[T, R]):
    """Items written in groups of at most `size` by `write`; `size` 1 writes each alone, as
    requests did before (concurrently, each its own transaction)."""

    def __init__(
        self,
        write: Callable[[list[T]], Sequence[R | Exception]],
        size: int,
        weight: Callable[[T], int] = lambda _: 1,
    ) -> None:
        self.write, self.size, self.weight = write, size, weight
        self._lane: _Lane[T, R] | None = None

    async def submit(self, item: T) -> R:
        """The item's answer once its group is committed, or its error raised."""
        if self.size <= 1:
            return _settled((await to_thread.run_sync(self.write, [item]))[0])
        loop = asyncio.get_running_loop()
        lane = self._lane
        if lane is None or lane.loop is not loop:  # a server has one loop; tests start others
            lane = self._lane = _Lane(loop)
        future: asyncio.Future[R] = loop.create_future()
        lane.waiting.append((item, future))
        if len(lane.writers) < WRITERS:
            lane.writers.add(loop.create_task(self._drain(lane)))
        return await future

    async def _drain(self, lane: _Lane[T, R]) -> None:
        """Write groups until nothing waits."""
        try:
            while lane.waiting:
                taken = self._take(lane)
                group = [(item, f) for item, f in taken if not f.cancelled()]  # caller gone
                if not group:
                    continue
                try:
                    outcomes = await to_thread.run_sync(self.write, [item for item, _ in group])
                except Exception as exc:  # a fault of write: each request hears it
                    outcomes = [exc] * len(group)
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            task = asyncio.current_task()
            if task is not None:
                lane.writers.discard(task)

    def _take(self, lane: _Lane[T, R]) -> list[tuple[T, asyncio.Future[R]]]:
        """The next group: the oldest item, and those after it while they fit in `size`."""
        taken = [lane.waiting.popleft()]
        load = self.weight(taken[0][0])
        while lane.waiting and load + self.weight(lane.waiting[0][0]) <= self.size:
            load += self.weight(lane.waiting[0][0])
            taken.append(lane.waiting.popleft())
        return taken


def _settled(outcome: R | Exception) -> R:
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def run_group(
    sessions: sessionmaker[Session],
    items: list[T],
    write: Callable[[Session, list[T]], Sequence[R | Exception]],
) -> list[R | Exception]:
    """`write` the items in one transaction and commit; each item alone when that fails before
    the commit; `UnconfirmedWriteError` for each when the commit fails."""
    session = sessions()
    try:
        try:
            outcomes = list(write(session, items))
        except Exception as exc:  # told apart below
            _quietly(session.rollback)
            if len(items) == 1:
                return [exc]
            return [run_group(sessions, [item], write)[0] for item in items]
        if all(isinstance(o, RateLimitedError) for o in outcomes):
            session.rollback()  # a refusal counts and writes nothing, and commits nothing
            return outcomes
        try:
            session.commit()
        except Exception:  # its outcome is unknown: none is retried
            _quietly(session.rollback)
            return [UnconfirmedWriteError("Send the choice again.")] * len(items)
        return outcomes
    finally:
        session.close()


def _quietly(undo: Callable[[], None]) -> None:
    """Roll back on a connection that may be gone (closing the session discards it anyway)."""
    with contextlib.suppress(Exception):
        undo()
