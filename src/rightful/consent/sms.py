"""Replies to marketing texts: the keywords that opt a number out or back in, and the one
confirmation text the sender may send back.

The words are those of the FCC's 2024 TCPA consent rules (47 CFR 64.1200(a)(10)): "stop",
"quit", "end", "revoke", "opt out", "cancel" and "unsubscribe" must each be honoured, alone in a
reply, whatever the case or punctuation; the CTIA's "stopall" is added. "start" and "unstop"
opt back in, as carriers expect. Anything else changes nothing and is left to staff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from rightful.consent import catalog, ledger, subjects
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.models import ConsentEvent
from rightful.core.config import Settings

OPT_OUT = frozenset({"stop", "stopall", "quit", "end", "revoke", "optout", "cancel", "unsubscribe"})
OPT_IN = frozenset({"start", "unstop"})
HELP = frozenset({"help", "info"})
LONGEST = 40  # a keyword reply is short; longer texts are messages for people to read


class Keyword(StrEnum):
    """What a reply asks for."""

    STOP = "stop"
    START = "start"
    HELP = "help"
    OTHER = "other"  # not a keyword: nothing changes


def classify(text: str) -> Keyword:
    """The keyword a reply is, ignoring case, spaces and punctuation ("Stop.", "OPT OUT")."""
    if len(text) > LONGEST:
        return Keyword.OTHER
    word = re.sub(r"[^a-z]", "", text.casefold())
    if word in OPT_OUT:
        return Keyword.STOP
    if word in OPT_IN:
        return Keyword.START
    if word in HELP:
        return Keyword.HELP
    return Keyword.OTHER


def confirmation(keyword: Keyword, company: str, help_contact: str) -> str | None:
    """The one text the sender may send back (None: send nothing)."""
    if keyword == Keyword.STOP:
        return (
            f"{company}: you are unsubscribed and will get no more marketing texts. "
            "Reply START to subscribe again."
        )
    if keyword == Keyword.START:
        return f"{company}: you are subscribed to marketing texts again. Reply STOP to end."
    if keyword == Keyword.HELP:
        return f"{company} marketing texts. Help: {help_contact}. Reply STOP to end."
    return None


@dataclass(frozen=True)
class ReplyOutcome:
    """What a reply did: the keyword, the choices recorded, and the text to send back."""

    keyword: Keyword
    subject_id: str
    events: list[ConsentEvent]
    reply: str | None


def record_reply(session: Session, settings: Settings, *, phone: str, text: str) -> ReplyOutcome:
    """Record a reply to a marketing text from `phone` (flushes only).

    STOP withdraws marketing by text for the number and, when the number is linked to a person,
    for the person too (so a check by their e-mail address agrees); START gives it back to both.
    The reply's words are not kept: the keyword is the proof."""
    keyword = classify(text)
    subject = subjects.phone_number(session, settings, phone)
    events: list[ConsentEvent] = []
    if keyword in (Keyword.STOP, Keyword.START):
        catalog.ensure_built_in(session)
        state = State.WITHDRAWN if keyword == Keyword.STOP else State.GIVEN
        choice = [ledger.Choice(catalog.ALL_MARKETING, Channel.SMS, state)]
        collected = ledger.Collected(interface=Interface.SMS_REPLY, proof={"keyword": keyword})
        events += ledger.record(session, settings, subject, choice, collected)
        if subject.person_id:
            person = subjects.by_id(session, subject.person_id)
            events += ledger.record(session, settings, person, choice, collected)
    reply = confirmation(keyword, settings.company_name, settings.privacy_email)
    return ReplyOutcome(keyword, subject.id, events, reply)
