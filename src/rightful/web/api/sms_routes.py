"""The consent API for texts: replies from an SMS platform (STOP, START, HELP), linking a
number to the person it belongs to, and checking a list of numbers before a send."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from pydantic import BaseModel, Field

from rightful.consent import staff as desk
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.security.permissions import Actor
from rightful.web.api.consent_routes import map_events
from rightful.web.api.routes import api_actor
from rightful.web.deps import runtime
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/api/v1", dependencies=[Depends(api_actor)], tags=["consent"])


class ReplyIn(BaseModel):
    """A text a person sent back, as the SMS platform forwards it."""

    phone: str = Field(max_length=40)
    text: str = Field(max_length=1600)  # ten concatenated segments at the most


class LinkIn(BaseModel):
    """A phone number and the e-mail address of the person it belongs to."""

    phone: str = Field(max_length=40)
    email: str = Field(max_length=254)


class PhonesIn(BaseModel):
    """Numbers to check before a send of marketing texts."""

    phones: list[str] = Field(max_length=100_000)
    topic: str | None = Field(default=None, max_length=80)


@router.post("/consent/sms-replies")
def sms_reply(
    body: ReplyIn, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Record a reply: STOP and its synonyms opt the number (and its person) out of marketing
    texts, START back in; the answer holds the one confirmation text to send back, if any."""
    with unit_of_work(rt.sessions) as session:
        outcome = desk.record_reply(
            session, rt.settings, actor=actor, phone=body.phone, text=body.text
        )
    return {
        "keyword": outcome.keyword.value,
        "subject_id": outcome.subject_id,
        "events": map_events(outcome.events),
        "reply": outcome.reply,
    }


@router.post("/consent/phone-links")
def link_phone(
    body: LinkIn, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Say that a number belongs to a person: their choices then count for the number, and a
    STOP from it is recorded for them too."""
    with unit_of_work(rt.sessions) as session:
        number, person = desk.link_phone(
            session, rt.settings, actor=actor, phone=body.phone, email=body.email
        )
        return {"subject_id": number.id, "person_id": person.id}


@router.post("/suppressions/phones")
def check_phones(
    body: PhonesIn, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Which of these numbers must not be sent marketing texts (all of them, or the topic)."""
    with unit_of_work(rt.sessions) as session:
        hits = desk.suppressed_phones(
            session, rt.settings, actor=actor, phones=body.phones, topic=body.topic
        )
    return {"checked": len(body.phones), "suppressed": hits}
