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

from rightful.consent import banner, banner_writes, ledger
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
    error it gets; flushes only."""
    found: list[ConsentSubject | Exception] = [_subject(session, settings, r) for r in records]
    good = [
        (subject, r.choices, r.collected)
        for r, subject in zip(records, found, strict=True)
        if not isinstance(subject, Exception)
    ]
    written = iter(banner_writes.write_choices(session, settings, good) if good else [])
    return [s if isinstance(s, Exception) else (s, next(written)) for s in found]


def _subject(session: Session, settings: Settings, record: ApiRecord) -> ConsentSubject | Exception:
    """The subject to record for, its choices checked, or the error recording it alone gives:
    a subject named by id is looked up first, as alone; one made new only once the choices
    passed, so a refused record leaves no subject behind."""
    ref = record.subject
    try:
        if ref.get("subject_id"):
            subject = desk.subject_for_record(session, settings, actor=record.actor, **ref)
            ledger.checked_kinds(session, record.choices)
            return subject
        require(record.actor, Permission.CONSENT_RECORD)
        ledger.checked_kinds(session, record.choices)
        return desk.subject_for_record(session, settings, actor=record.actor, **ref)
    except RightfulError as exc:
        return exc
