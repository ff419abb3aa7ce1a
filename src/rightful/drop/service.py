"""A DROP cycle from a downloaded list to the status file: import, match, settle, report.

Importing a list approves the deletions it calls for, so it needs erasure.approve besides
requests.decide; reading the cycle needs requests.view (counts and dates, no personal data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, NotFoundError
from rightful.drop import lists, outcomes, refresh
from rightful.drop.bulk import analyze, insert_rows
from rightful.drop.matching import match_cycle, sweep_recollected
from rightful.drop.models import DropCycle, DropKept, DropWorkItem
from rightful.drop.phases import Phases
from rightful.drop.status import Summary, summary
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require


@dataclass(frozen=True)
class Imported:
    """What one import did, in counts."""

    cycle: DropCycle
    lines: int
    bad_lines: int
    removed: int
    matched: int
    indexed: int
    deleted_again: int = 0
    index_rewritten: int = 0  # entries the refresh before matching wrote


def _store_chunk(session: Session, cycle: DropCycle, chunk: list[lists.Line]) -> int:
    """Insert the chunk's work items; mark its withdrawn ones removed. Returns how many were
    withdrawn."""
    items = [
        {
            "cycle_id": cycle.id,
            "item_id": line.item_id,
            "list_type": line.list_type.value,
            "hash": line.hash,
            "file_name": line.file_name,
        }
        for line in chunk
        if not line.removed
    ]
    insert_rows(session, DropWorkItem.__table__, items)  # type: ignore[arg-type]
    gone = [line.item_id for line in chunk if line.removed]
    if gone:  # withdrawn: no status is owed for it any more (DROP's documentation)
        session.execute(
            update(DropWorkItem)
            .where(DropWorkItem.item_id.in_(gone), DropWorkItem.reported_in.is_(None))
            .values(outcome="removed", code=None, decided_at=None)
            .execution_options(synchronize_session=False)
        )
    return len(gone)


def _duplicates(session: Session, cycle: DropCycle, problems: lists.Problems) -> None:
    """A work item id twice in one download: the first line counts, the others are reported."""
    dupes = session.execute(
        select(DropWorkItem.item_id, func.min(DropWorkItem.id))
        .where(DropWorkItem.cycle_id == cycle.id)
        .group_by(DropWorkItem.item_id)
        .having(func.count() > 1)
    ).all()
    for item_id, first in dupes:
        later = session.execute(
            update(DropWorkItem)
            .where(
                DropWorkItem.cycle_id == cycle.id,
                DropWorkItem.item_id == item_id,
                DropWorkItem.id != first,
            )
            .values(outcome="duplicate", code=None, decided_at=None)
            .execution_options(synchronize_session=False)
        )
        for _ in range(later.rowcount):  # type: ignore[attr-defined]
            problems.add("", 0, "a work item id already seen in this download; ignored")


def _downloaded(path: Path, source: str) -> datetime:
    """When the list was downloaded: now through the API; for a file downloaded by hand from
    the portal, the day its name carries when that is earlier (the 45 days run from there)."""
    now = utcnow()
    named = lists.date_of(path) if source == "file" else None
    if named is None or named >= now.date():
        return now
    return datetime.combine(named, time(), tzinfo=UTC)


def import_list(
    session: Session,
    settings: Settings,
    *,
    path: Path,
    actor: Actor,
    source: str = "file",
    refresh_index: bool = True,
    timings: dict[str, float] | None = None,
) -> Imported:
    """Import a downloaded ZIP or CSV, refresh the index, match, open the requests and decide
    the items already decidable (flushes and commits per chunk: a million lines never wait in
    one transaction). An archive imported before is refused. `timings` (benchmarks) receives
    each phase's seconds."""
    clock = Phases(timings)
    require(actor, Permission.REQUESTS_DECIDE)
    require(actor, Permission.ERASURE_APPROVE)
    cycle = session.scalar(select(DropCycle).where(DropCycle.name == path.name))
    if cycle is not None and cycle.matched_at is not None:
        raise ConflictError(f"{path.name} was imported already; see `rightful drop status`.")
    if cycle is None:
        cycle = DropCycle(
            name=path.name,
            source=source,
            broker_id=lists.broker_of(path),
            imported_by=actor.name,
            downloaded_at=_downloaded(path, source),
        )
        session.add(cycle)
        session.flush()
    fresh = refresh.refresh(session, settings) if refresh_index else None
    clock.lap("refresh index")
    again = sweep_recollected(session, settings, actor=actor) if refresh_index else 0
    clock.lap("records collected again")
    problems = lists.Problems(cycle.bad_lines, list(cycle.problems))
    lines, removed = cycle.lines, 0
    if cycle.imported_at is None:  # else an import cut short after its list was kept: resume
        for chunk in lists.read_lines(path, problems):
            removed += _store_chunk(session, cycle, chunk)
            lines += len(chunk)
        analyze(session, DropWorkItem.__table__)  # type: ignore[arg-type]
        _duplicates(session, cycle, problems)
        cycle.lines, cycle.bad_lines, cycle.problems = lines, problems.count, problems.first
        cycle.imported_at = utcnow()
    session.commit()  # the list is kept before anything is matched
    clock.lap("read list")
    matched = match_cycle(session, settings, cycle.id, actor=actor, timings=timings)
    cycle.matched_at = utcnow()
    clock.restart()
    outcomes.settle(session, cycle.id)
    clock.lap("settle")
    audit.record(
        session,
        actor=actor.name,
        action="drop.imported",
        subject_type="drop_cycle",
        subject_id=str(cycle.id),
        detail={
            "lines": lines,
            "bad_lines": problems.count,
            "matched": matched,
            "deleted_again": again,
            **({"index_rewritten": fresh.rewritten, "index_full": fresh.full} if fresh else {}),
        },
    )
    session.commit()
    clock.lap("commit")
    indexed, rewritten = (fresh.entries, fresh.rewritten) if fresh else (0, 0)
    return Imported(cycle, lines, problems.count, removed, matched, indexed, again, rewritten)


def access_cycle(session: Session, *, actor: Actor, cycle_id: int | None = None) -> DropCycle:
    """A cycle (the latest when none is named); NotFoundError when there is none."""
    require(actor, Permission.REQUESTS_VIEW)
    stmt = select(DropCycle).order_by(DropCycle.downloaded_at.desc(), DropCycle.id.desc())
    if cycle_id is not None:
        stmt = select(DropCycle).where(DropCycle.id == cycle_id)
    cycle = session.scalar(stmt.limit(1))
    if cycle is None:
        raise NotFoundError("No DROP list has been imported yet.")
    return cycle


def write_status_files(
    session: Session, settings: Settings, *, actor: Actor, folder: Path, cycle_id: int | None = None
) -> list[Path]:
    """Decide what can be decided, then write the cycle's status files into `folder`."""
    require(actor, Permission.REQUESTS_DECIDE)
    cycle = access_cycle(session, actor=actor, cycle_id=cycle_id)
    outcomes.settle(session, cycle.id)
    written = outcomes.write_status_files(session, cycle.id, folder)
    cycle.status_file_at = utcnow()
    audit.record(
        session,
        actor=actor.name,
        action="drop.status_file",
        subject_type="drop_cycle",
        subject_id=str(cycle.id),
        detail={"files": [p.name for p in written]},
    )
    session.flush()
    return written


def view_summary(session: Session, settings: Settings, *, actor: Actor) -> Summary:
    """The 45-day clock and the latest cycle's counts, for staff who may see the queues."""
    require(actor, Permission.REQUESTS_VIEW)
    return summary(session, settings)


def latest_problems(session: Session, *, actor: Actor) -> list[dict[str, object]]:
    """The latest cycle's first bad lines (file, line, why), or none."""
    require(actor, Permission.REQUESTS_VIEW)
    cycle = session.scalar(
        select(DropCycle).order_by(DropCycle.downloaded_at.desc(), DropCycle.id.desc()).limit(1)
    )
    return list(cycle.problems) if cycle else []


def kept_count(session: Session) -> int:
    """How many hashes are kept to keep deleting matched people."""
    return session.scalar(select(func.count()).select_from(DropKept)) or 0
