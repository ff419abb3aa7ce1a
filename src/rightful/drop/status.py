"""The 45-day clock: when DROP was last downloaded and when the next download is due.

A registered data broker must access DROP at least once every 45 days (Cal. Civ. Code
§ 1798.99.86; Cal. Code Regs. tit. 11, § 7600 et seq.). `summary` is the one function any page or
digest calls for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.drop import outcomes
from rightful.drop.models import DropCycle
from rightful.drop.refresh import IndexStatus, index_status

EVERY_DAYS = 45


@dataclass(frozen=True)
class Summary:
    """The clock and the latest cycle, in counts (no personal data)."""

    last_download_at: datetime | None
    next_due: date | None  # None: never downloaded, so due now
    days_left: int | None
    overdue: bool
    api_enabled: bool
    # The clock applies: the organisation says it is a registered broker, uses DROP's API or
    # has imported a list. Otherwise DROP is not in use and nothing is due.
    in_use: bool = True
    cycle_id: int | None = None
    cycle_name: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    bad_lines: int = 0
    status_file_at: datetime | None = None
    uploaded_at: datetime | None = None
    index: IndexStatus | None = None  # the keyed index of the stores (drop/refresh.py)


def summary(session: Session, settings: Settings, *, now: datetime | None = None) -> Summary:
    """When the last list was downloaded, when the next is due, and where the latest cycle is."""
    now = now or utcnow()
    latest = session.scalar(
        select(DropCycle).order_by(DropCycle.downloaded_at.desc(), DropCycle.id.desc()).limit(1)
    )
    if latest is None:
        in_use = settings.drop_registered or settings.drop_api_enabled
        return Summary(
            None,
            None,
            None,
            in_use,
            settings.drop_api_enabled,
            in_use=in_use,
            index=index_status(session, now=now) if in_use else None,
        )
    due = (latest.downloaded_at + timedelta(days=EVERY_DAYS)).date()
    left = (due - now.date()).days
    return Summary(
        last_download_at=latest.downloaded_at,
        next_due=due,
        days_left=left,
        overdue=left < 0,
        api_enabled=settings.drop_api_enabled,
        cycle_id=latest.id,
        cycle_name=latest.name,
        counts=outcomes.counts(session, latest.id),
        bad_lines=latest.bad_lines,
        status_file_at=latest.status_file_at,
        uploaded_at=latest.uploaded_at,
        index=index_status(session, now=now),
    )
