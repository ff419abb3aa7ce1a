"""Verifying a hash chain against itself and against its head.

Walking the rows finds an edited row (its hash does not hold) and a row that does not follow the
one before it (one deleted before it, rows swapped, or a row inserted). The head row counts the
rows and keeps the last hash, so the walk is also held to it: rows missing at the end, rows
added after the head, and a newest row replaced are found too.

Writers append in the order of the head's lock and write the head in the same transaction as
their rows (security/chain.py), so a commit never shows rows without the head that counts them.
The head is read before the walk and again after it: rows the first head counts must all be in
the walk, and rows the second head does not count were added outside Rightful. Rows committed
during the walk are thus never taken for tampering, on PostgreSQL or SQLite alike.

What the head cannot show: someone who deletes the newest rows *and* rewrites the head to match
leaves a shorter chain that holds. The head anchored outside the store catches that
(security/anchors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.security.chain import GENESIS
from rightful.security.models import AuditChainHead

EDITED = "edited"
UNLINKED = "unlinked"
MISSING_AT_END = "missing_at_end"
UNRECORDED = "unrecorded"
HEAD_MISMATCH = "head_mismatch"


class ChainRow(Protocol):
    """What the walk reads of a row."""

    @property
    def id(self) -> int: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


R = TypeVar("R", bound=ChainRow)


@dataclass(frozen=True)
class Verdict:
    """What verifying a chain found: intact, or the first problem and where it is."""

    intact: bool
    events: int  # rows walked
    head_events: int  # rows the head counts
    problem: str | None = None  # edited | unlinked | missing_at_end | unrecorded | head_mismatch
    broken_at: int | None = None  # the id of the row the problem is found at
    message: str = ""
    position: int | None = None  # a log's position (the consent log), where it has them
    event: str | None = None  # the event's public id (uid), where it has one
    anchored: str | None = None  # when the newest anchor it was held to was taken (ISO 8601)

    def as_dict(self) -> dict[str, Any]:
        """The verdict as JSON for the API and the CLI."""
        return asdict(self)


@dataclass(frozen=True)
class Head:
    """A chain's head as read at one moment."""

    events: int
    last_hash: str


def read_head(session: Session, chain: int) -> Head:
    """The head's count and last hash (a chain never written has none: empty)."""
    row = session.execute(
        select(AuditChainHead.events, AuditChainHead.last_hash).where(AuditChainHead.id == chain)
    ).first()
    return Head(row[0], row[1]) if row else Head(0, GENESIS)


def verify(
    session: Session,
    chain: int,
    rows: Callable[[], Iterable[R]],
    digest: Callable[[str, R], str],
) -> Verdict:
    """Walk `rows` (oldest first) and hold them to the chain's head; the first problem found."""
    before = read_head(session, chain)
    walk = _Walk(before)
    for row in rows():
        walk.step(row, digest)
    return walk.verdict(read_head(session, chain))


class _Walk:
    """The state of one walk along a chain."""

    def __init__(self, before: Head) -> None:
        self.before = before
        self.prev = GENESIS
        self.count = 0
        self.last_id: int | None = None
        self.problem: tuple[str, int] | None = None
        self.at_head: tuple[int, str] | None = None  # the row the first head ends at
        self.after_head: int | None = None  # the row just after it

    def step(self, row: R, digest: Callable[[str, R], str]) -> None:
        self.count += 1
        if self.problem is None:
            if row.prev_hash != self.prev:
                holds = digest(row.prev_hash, row) == row.hash
                self.problem = (UNLINKED if holds else EDITED, row.id)
            elif digest(self.prev, row) != row.hash:
                self.problem = (EDITED, row.id)
        if self.count == self.before.events:
            self.at_head = (row.id, row.hash)
        elif self.count == self.before.events + 1:
            self.after_head = row.id
        self.prev, self.last_id = row.hash, row.id

    def verdict(self, after: Head) -> Verdict:
        n = self.count

        def broken(problem: str, at: int | None, message: str) -> Verdict:
            return Verdict(False, n, after.events, problem, at, message)

        if self.problem is not None:
            problem, row_id = self.problem
            if problem == EDITED:
                message = f"Event {row_id} was changed: its hash does not hold."
            else:
                message = (
                    f"Event {row_id} does not follow the event before it: events before it are "
                    "missing, or events were reordered or inserted."
                )
            return broken(problem, row_id, message + _count_note(n, after.events))
        if self.before.events > n:
            missing = self.before.events - n
            end = f"event {self.last_id}" if self.last_id is not None else "its start"
            return broken(
                MISSING_AT_END,
                self.last_id,
                f"{missing} event{'s' if missing != 1 else ''} missing at the end: the chain "
                f"ends at {end}, its head counts {self.before.events}.",
            )
        ends_as_counted = self.at_head is not None and self.at_head[1] == self.before.last_hash
        if self.before.events and not ends_as_counted:
            newest = self.at_head[0] if self.at_head else None
            return broken(
                HEAD_MISMATCH,
                newest,
                f"Event {newest} is not the event the head recorded as newest: the newest events "
                "were changed or replaced.",
            )
        if after.events < n:
            first = self.after_head if after.events == self.before.events else None
            extra = n - after.events
            return broken(
                UNRECORDED,
                first,
                f"{extra} event{'s' if extra != 1 else ''} after the head"
                + (f", from event {first}" if first is not None else "")
                + ": added outside Rightful.",
            )
        return Verdict(True, n, after.events, message=f"Intact: {n} events.")


def _count_note(walked: int, counted: int) -> str:
    if walked < counted:
        return f" The chain holds {counted - walked} event(s) fewer than its head counts."
    if walked > counted:
        return f" The chain holds {walked - counted} event(s) more than its head counts."
    return ""
