"""What a group of event requests writes (consent/group_commit.py): each request checked on its
own, so a bad one fails alone with the problem it would have had alone, and every good one's
choices written together through the banner's set-based statements (banner_writes.py).

Banner requests are counted against the shared limit first, all of them in one statement, the
invalid ones too (a flood of bad bodies is not free); a request over its limit is refused and
writes nothing, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from rightful.consent import banner, banner_writes, ledger, subjects
from rightful.consent import staff as desk
from rightful.consent.ledger import Choice, Collected
from rightful.consent.models import ConsentEvent, ConsentSubject
from rightful.core.config import Settings
from rightful.core.errors import RateLimitedError, RightfulError
from rightful.security import rate_limits
from rightful.security.permissions import Actor, Permission, require

__all__ = ["ApiRecord", "BannerRequest", "write_api", "write_banner"]

TOO_MANY = "Too many choices from this connection. Try again in a minute."


@dataclass(frozen=True)
class BannerRequest:
    """One `POST /consent/events`: its answers, or the problem its body has."""

    client: str  # the keyed hash of the visitor's address: the shared limit's key
    answers: list[banner.Answer]
    batch: bool
    refused: RightfulError | None = None  # the body could not be read (422), still counted

    @property
    def cost(self) -> int:
        """Hits on the limit: each answer of a batch (a person clicks a few times)."""
        return max(len(self.answers), 1)


@dataclass(frozen=True)
class ApiRecord:
    """One `POST /api/v1/consent/events`."""

    actor: Actor
    subject: dict[str, Any]  # exactly one of email, phone, device_id, subject_id
    choices: list[Choice]
    collected: Collected


def write_banner(
    session: Session, settings: Settings, requests: list[BannerRequest]
) -> list[list[banner.Outcome] | Exception]:
    """Each request's outcomes, or the error it gets; flushes only."""
    window = rate_limits.Window(settings.banner_events_per_minute, seconds=60)
    hits = [(r.client, r.cost) for r in requests]
    allowed = rate_limits.count_each(session, settings, scope="banner", hits=hits, window=window)
    answers: list[list[banner_writes.Checked] | Exception] = []
    for request, ok in zip(requests, allowed, strict=True):
        if not ok:
            answers.append(RateLimitedError(TOO_MANY))
        elif request.refused is not None:
            answers.append(request.refused)
        else:
            try:
                answers.append(banner.check_all(session, settings, request.answers, request.batch))
            except RightfulError as exc:
                answers.append(exc)
    good = [i for a in answers if not isinstance(a, Exception) for i in a]
    outcomes = iter(banner.record_checked(session, settings, good) if good else [])
    return [a if isinstance(a, Exception) else [next(outcomes) for _ in a] for a in answers]


def write_api(
    session: Session, settings: Settings, records: list[ApiRecord]
) -> list[tuple[ConsentSubject, list[ConsentEvent]] | Exception]:
    """Each record's subject and the events written for it (unchanged choices skipped), or the
    error it gets; flushes only. People and browsers are made or found all at once."""
    found: list[ConsentSubject | Exception | None] = [
        _checked(session, settings, r) for r in records
    ]
    for kind, make in (("email", subjects.people), ("device_id", subjects.devices)):
        named = [i for i, r in enumerate(records) if found[i] is None and r.subject.get(kind)]
        if named:
            made = make(session, settings, [records[i].subject[kind] for i in named])
            for i, subject in zip(named, made, strict=True):
                found[i] = subject
    for i, record in enumerate(records):  # a phone number: alone
        if found[i] is None:
            try:
                found[i] = desk.subject_for_record(
                    session, settings, actor=record.actor, **record.subject
                )
            except RightfulError as exc:
                found[i] = exc
    good = [
        (subject, r.choices, r.collected)
        for r, subject in zip(records, found, strict=True)
        if isinstance(subject, ConsentSubject)
    ]
    written = iter(banner_writes.write_choices(session, settings, good) if good else [])
    return [(s, next(written)) if isinstance(s, ConsentSubject) else _error(s) for s in found]


def _error(outcome: Exception | None) -> Exception:
    assert outcome is not None, "every record has a subject or an error by now"
    return outcome


def _checked(
    session: Session, settings: Settings, record: ApiRecord
) -> ConsentSubject | Exception | None:
    """A record's problem, in the order recording it alone finds them (the permission, the
    subject's name, the choices), or its subject when named by id; None when it is to be made
    or found with the others, once its choices passed (a refused record leaves no subject)."""
    ref = record.subject
    try:
        require(record.actor, Permission.CONSENT_RECORD)
        if ref.get("subject_id"):
            subject = desk.subject_for_record(session, settings, actor=record.actor, **ref)
            ledger.checked_kinds(session, record.choices)
            return subject
        if ref.get("device_id") and not subjects.DEVICE_ID.match(ref["device_id"]):
            subjects.device(session, settings, ref["device_id"])  # its problem document
        ledger.checked_kinds(session, record.choices)
        return None
    except RightfulError as exc:
        return exc
