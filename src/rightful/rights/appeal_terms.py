"""What the person's law offers after a denial or a partial answer: whether they may appeal,
until when, how fast the answer must come and the regulator a denied appeal names. Read from
the rule packs (rightful.laws); the signed link that opens the appeal page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from rightful.core import i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.laws import (
    Count,
    Regulator,
    appeal_answer_due,
    appeal_window_ends,
    local_date,
    regulator_for,
    rules_for,
)
from rightful.rights.clock_models import Appeal
from rightful.rights.models import RightsRequest
from rightful.rights.types import Status
from rightful.security.tokens import LinkSigner

# The link outlives any window; the window itself is checked from the decision's date.
APPEAL_LINK_SECONDS = 400 * 86400
APPEALABLE = frozenset({Status.DENIED.value, Status.PARTIALLY_COMPLETED.value})


@dataclass(frozen=True)
class Terms:
    """One request's appeal under its law."""

    cite: str
    window_ends: date
    window_fixed: bool  # False: the law says "a reasonable period"; the organisation's days
    answer_days: int | None  # calendar days to decide, when the law counts them so
    regulator: Regulator | None
    regulator_on_denial: bool


def appeal_signer(settings: Settings) -> LinkSigner:
    """Signs links to a request's appeal page (the request id only)."""
    return LinkSigner(settings.secret_key, "appeal")


def appeal_url(settings: Settings, request_id: str) -> str:
    """The link a denial or partial answer gives to appeal it."""
    return f"{settings.base_url}/appeal/{appeal_signer(settings).sign(request_id)}"


def terms_for(settings: Settings, req: RightsRequest) -> Terms | None:
    """The appeal the request's law grants against its decision; None when it grants none."""
    mode = settings.rules_mode
    rules = rules_for(req.jurisdiction, mode)
    if not rules.appeal.exists:
        return None
    decided = req.closed_at or utcnow()
    ends = appeal_window_ends(decided, req.jurisdiction, mode)
    answer = rules.appeal.answer
    return Terms(
        cite=rules.appeal.cite,
        window_ends=ends
        or local_date(decided, req.jurisdiction) + timedelta(days=settings.appeal_reasonable_days),
        window_fixed=ends is not None,
        answer_days=answer.amount if answer and answer.count is Count.CALENDAR_DAYS else None,
        regulator=regulator_for(req.jurisdiction, mode),
        regulator_on_denial=rules.appeal.regulator_on_denial,
    )


def answer_due(req: RightsRequest, received_at: datetime, settings: Settings) -> date:
    """The last day to decide an appeal received at `received_at`."""
    due = appeal_answer_due(received_at, req.jurisdiction, settings.rules_mode)
    return due or local_date(received_at, req.jurisdiction) + timedelta(days=60)


def offer(settings: Settings, req: RightsRequest) -> dict[str, Any] | None:
    """The appeal paragraph of a denial or partial answer, in the person's language; None
    where the decision cannot be appealed."""
    if req.status not in APPEALABLE:
        return None
    session = object_session(req)
    if session is not None and session.scalar(select(Appeal.id).where(Appeal.request_id == req.id)):
        return None  # appealed once already (a reversal reopened it): the law grants one appeal
    terms = terms_for(settings, req)
    if terms is None:
        return None
    return {
        "url": appeal_url(settings, req.id),
        "window_ends": i18n.format_date(terms.window_ends, req.language or i18n.DEFAULT),
        "answer_days": terms.answer_days,
    }
