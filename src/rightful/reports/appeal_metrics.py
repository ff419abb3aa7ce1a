"""Appeals and their outcomes in a calendar year, per state whose law grants an appeal.

We found no state law among the rule packs' states that asks a business to publish appeal
figures (see docs/reports.md; check with counsel). Virginia, Colorado, Connecticut and the
states that followed them require the appeal itself and a written answer by a deadline, so a
regulator asking how appeals were handled gets these counts: per state whose law grants an
appeal, by the local date the appeal was received.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful import laws
from rightful.core.errors import InvalidInputError
from rightful.rights.clock_models import Appeal
from rightful.rights.due import local_today
from rightful.rights.models import RightsRequest


@dataclass
class StateAppeals:
    """One state's appeals in one year."""

    jurisdiction: str
    name: str
    cite: str
    received: int = 0
    upheld: int = 0  # the first decision stands
    reversed: int = 0
    partly: int = 0
    open: int = 0
    days: tuple[int, ...] = ()

    @property
    def median_days(self) -> float | None:
        """Median calendar days from the appeal to its decision; None before any decision."""
        return round(float(statistics.median(self.days)), 1) if self.days else None


def _grants_appeal(code: str) -> tuple[str, str] | None:
    try:
        rules = laws.rules_for(code)
        place = laws.parse(code)
    except InvalidInputError:  # a code no pack covers any more: not counted under a law
        return None
    return (place.name, rules.appeal.cite) if rules.appeal.exists else None


def appeals_by_state(session: Session, *, year: int) -> list[StateAppeals]:
    """Each state's appeals received in `year`, by state name; states without appeals are not
    listed (their law may still grant one)."""
    stmt = select(Appeal, RightsRequest.jurisdiction).join(
        RightsRequest, RightsRequest.id == Appeal.request_id
    )
    found: dict[str, StateAppeals] = {}
    days: dict[str, list[int]] = {}
    for appeal, code in session.execute(stmt):
        received = local_today(appeal.received_at, code)
        if received.year != year or (law := _grants_appeal(code)) is None:
            continue
        row = found.setdefault(code, StateAppeals(code, *law))
        row.received += 1
        if appeal.status != "decided" or appeal.decided_at is None:
            row.open += 1
            continue
        setattr(row, str(appeal.outcome), getattr(row, str(appeal.outcome)) + 1)
        decided: date = local_today(appeal.decided_at, code)
        days.setdefault(code, []).append((decided - received).days)
    for code, row in found.items():
        row.days = tuple(days.get(code, ()))
    return sorted(found.values(), key=lambda r: r.name)
