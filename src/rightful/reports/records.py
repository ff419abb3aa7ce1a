"""The request records of 11 CCR § 7101: a log a regulator may ask for, kept 24 months.

Each row has what § 7101(b) names (the date of the request, its nature, the manner it was made,
the date and nature of the response, and the basis of a denial) and no more personal data than
that needs: no identity, only the request's reference, which the console opens. The written
reason staff gave for a denial is not copied (it can name the person): the row gives its basis
and whether Rightful or staff wrote it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from rightful.core.errors import InvalidInputError
from rightful.reports.facts import RequestFacts, received_between
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require

KEPT_MONTHS = 24  # § 7101(a): at least 24 months
COLUMNS = (
    "reference",
    "received_on",
    "request_type",
    "ccpa_category",
    "channel",
    "made_by",
    "jurisdiction",
    "extended",
    "responded_on",
    "response",
    "denial_basis",
    "denial_reason_code",
    "status_now",
    "minimised",
)


def default_period(today: date) -> tuple[date, date]:
    """The 24 months the regulation asks records to be kept for, ending today."""
    years = KEPT_MONTHS // 12
    try:
        return today.replace(year=today.year - years), today
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28), today


def row(facts: RequestFacts) -> dict[str, str]:
    """One request's record, as strings for the CSV."""
    return {
        "reference": facts.reference,
        "received_on": facts.received_on.isoformat(),
        "request_type": facts.request_type,
        "ccpa_category": facts.reported_as or "",
        "channel": facts.channel,
        "made_by": facts.requester_role,
        "jurisdiction": facts.jurisdiction,
        "extended": "yes" if facts.extended else "no",
        "responded_on": facts.responded_on.isoformat() if facts.responded_on else "",
        "response": facts.outcome or "open",
        "denial_basis": facts.denial_basis.value if facts.denial_basis else "",
        "denial_reason_code": facts.denial_code or "",
        "status_now": facts.status,
        "minimised": "yes" if facts.minimised else "no",
    }


def request_records(
    session: Session, *, actor: Actor, first: date, last: date
) -> list[dict[str, str]]:
    """The records of requests received from `first` to `last` (inclusive), oldest first; the
    export is recorded in the audit log (who, which period, how many rows)."""
    require(actor, Permission.REQUESTS_VIEW)
    if last < first:
        raise InvalidInputError(
            "The period ends before it starts.",
            errors=[{"field": "to", "message": "Choose a date on or after the start."}],
        )
    rows = [row(f) for f in received_between(session, first, last)]
    audit.record(
        session,
        actor=actor.name,
        action="reports.records_exported",
        subject_type="report",
        subject_id="records",
        detail={"from": first.isoformat(), "to": last.isoformat(), "rows": len(rows)},
    )
    return rows


def to_csv(rows: Iterable[dict[str, str]]) -> str:
    """The records as CSV text with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
