"""The facts of each request that records and metrics are built from, read from what happened.

The response is the first time the request closed (completed, partly completed, denied or
withdrawn), read from the audit timeline: an appeal that reopens a request later does not move
the date the business first answered. Dates are the local dates where the request's law
applies, as its deadlines are. None of these facts is personal data, and all of them survive
minimisation (rights/retention.py keeps the columns and the timeline).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from rightful.rights.denial_basis import DenialBasis, basis_of, reason_code
from rightful.rights.due import local_today
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.security.models import AuditEvent

CLOSING = {
    "request.completed": "completed",
    "request.partially_completed": "partially_completed",
    "request.denied": "denied",
    "request.withdrawn": "withdrawn",
}
COMPLIED = frozenset({"completed", "partially_completed"})


@dataclass(frozen=True)
class RequestFacts:
    """One request as records and metrics see it: no identity, only its reference."""

    reference: str
    request_type: str
    reported_as: str | None  # the CCPA metrics row (rights/kinds.py)
    channel: str
    jurisdiction: str
    requester_role: str  # self | agent | parent
    received_on: date
    extended: bool
    responded_on: date | None  # the first answer; None while it is open
    outcome: str | None  # completed | partially_completed | denied | withdrawn
    denial_basis: DenialBasis | None
    denial_code: str | None  # Rightful's own reason code, or "staff"
    status: str  # now (an appeal may have reopened it)
    minimised: bool

    @property
    def days_to_respond(self) -> int | None:
        """Calendar days from receipt to the substantive answer (complied with or denied); None
        for a withdrawn or open request, which was never answered."""
        if self.responded_on is None or self.outcome not in COMPLIED | {"denied"}:
            return None
        return (self.responded_on - self.received_on).days


@dataclass(frozen=True)
class _Closing:
    """The audit event of a request's first answer: what it was, when, and its detail."""

    action: str
    at: datetime
    detail: dict[str, Any]


def _first_closings(session: Session, where: list[ColumnElement[bool]]) -> dict[str, _Closing]:
    """The first closing event of each request `where` selects, in one query."""
    ids = select(RightsRequest.id).where(*where).scalar_subquery()
    stmt = (
        select(AuditEvent.subject_id, AuditEvent.action, AuditEvent.at, AuditEvent.detail)
        .where(
            AuditEvent.subject_type == "rights_request",
            AuditEvent.action.in_(list(CLOSING)),
            AuditEvent.subject_id.in_(ids),
        )
        .order_by(AuditEvent.id)
    )
    first: dict[str, _Closing] = {}
    for subject_id, action, at, detail in session.execute(stmt):
        if subject_id not in first:
            first[subject_id] = _Closing(action, at, detail or {})
    return first


# Only the columns the facts need: never the sealed identities (large, and not needed here).
_COLUMNS = (
    RightsRequest.id,
    RightsRequest.reference,
    RightsRequest.request_type,
    RightsRequest.channel,
    RightsRequest.jurisdiction,
    RightsRequest.requester_role,
    RightsRequest.received_at,
    RightsRequest.extension_reason,
    RightsRequest.status,
    RightsRequest.minimised_at,
)


def _facts(req: Any, closing: _Closing | None) -> RequestFacts:  # a row of _COLUMNS
    outcome = CLOSING[closing.action] if closing else None
    denied = closing is not None and outcome == "denied"
    detail = closing.detail if closing else {}
    return RequestFacts(
        reference=req.reference,
        request_type=req.request_type,
        reported_as=kind_of(req.request_type).reported_as,
        channel=req.channel,
        jurisdiction=req.jurisdiction,
        requester_role=req.requester_role,
        received_on=local_today(req.received_at, req.jurisdiction),
        extended=bool(req.extension_reason),
        responded_on=local_today(closing.at, req.jurisdiction) if closing else None,
        outcome=outcome,
        denial_basis=basis_of(detail) if denied else None,
        denial_code=reason_code(detail) if denied else None,
        status=req.status,
        minimised=req.minimised_at is not None,
    )


def received_between(
    session: Session, first: date, last: date, *, jurisdictions: Iterable[str] | None = None
) -> Iterator[RequestFacts]:
    """The facts of the requests received from `first` to `last` (local dates, inclusive),
    oldest first; only those `jurisdictions` when given."""
    # A local date is within a day of the UTC one: read a day more each side, then keep exact.
    low = datetime.combine(first - timedelta(days=1), time.min, tzinfo=UTC)
    high = datetime.combine(last + timedelta(days=2), time.min, tzinfo=UTC)
    where = [RightsRequest.received_at >= low, RightsRequest.received_at < high]
    if jurisdictions is not None:
        where.append(RightsRequest.jurisdiction.in_(list(jurisdictions)))
    closings = _first_closings(session, where)
    stmt = select(*_COLUMNS).where(*where)
    rows = session.execute(stmt.order_by(RightsRequest.received_at, RightsRequest.id))
    for req in rows:
        facts = _facts(req, closings.get(req.id))
        if first <= facts.received_on <= last:
            yield facts
