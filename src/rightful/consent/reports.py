"""What the privacy office sees of consent: counts, recent choices, the list's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rightful.consent import catalog
from rightful.consent.models import ConsentEvent, ConsentState, MarketingSuppression
from rightful.core.clock import utcnow


@dataclass(frozen=True)
class PurposeCount:
    """How many subjects chose what for one purpose (explicit choices only)."""

    key: str
    title: str
    kind: str
    channels: list[str]
    default: str
    given: int
    withdrawn: int


@dataclass(frozen=True)
class Overview:
    """The console's consent page in numbers."""

    events_total: int
    events_30_days: int
    suppressed: int
    by_interface: dict[str, int]
    purposes: list[PurposeCount]


def overview(session: Session) -> Overview:
    """Totals for the console (no personal data)."""
    counts: dict[tuple[str, str], int] = {
        (p, s): n
        for p, s, n in session.execute(
            select(ConsentState.purpose, ConsentState.state, func.count()).group_by(
                ConsentState.purpose, ConsentState.state
            )
        )
    }
    since = utcnow() - timedelta(days=30)
    interfaces = dict(
        session.execute(
            select(ConsentEvent.interface, func.count())
            .where(ConsentEvent.at >= since)
            .group_by(ConsentEvent.interface)
        ).all()
    )
    return Overview(
        events_total=int(session.scalar(select(func.count()).select_from(ConsentEvent)) or 0),
        events_30_days=sum(interfaces.values()),
        suppressed=int(
            session.scalar(select(func.count(func.distinct(MarketingSuppression.email_sha256))))
            or 0
        ),
        by_interface=interfaces,
        purposes=[
            PurposeCount(
                p.key,
                p.title,
                p.kind,
                p.channels,
                p.default,
                counts.get((p.key, "given"), 0),
                counts.get((p.key, "withdrawn"), 0),
            )
            for p in catalog.purposes(session)
        ],
    )


def recent_events(session: Session, *, limit: int = 50) -> list[ConsentEvent]:
    """The newest choices, for the console (subjects appear by pseudonymous id only)."""
    return list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc()).limit(limit)))
