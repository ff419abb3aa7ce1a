"""Sign-ups for marketing e-mail from the company's own forms, confirmed by double opt-in."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from pydantic import BaseModel, Field

from rightful.consent import staff as desk
from rightful.consent import subscriptions
from rightful.core import i18n
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.identity import normalize
from rightful.messaging import limits
from rightful.security.permissions import Actor
from rightful.web.api.routes import api_actor
from rightful.web.deps import dispatcher, runtime
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/api/v1", dependencies=[Depends(api_actor)], tags=["consent"])


class SubscriptionIn(BaseModel):
    """An address that asked for marketing e-mail on a form: which topics, from where."""

    email: str = Field(max_length=254)
    topics: list[str] = Field(max_length=50)
    source: str = Field(default="api", max_length=40)
    language: str = Field(
        default="en",
        max_length=16,
        description="The language of the form the person signed up on (e.g. `es`): the "
        "confirmation e-mail is written in it; one Rightful has no catalogue for reads as English.",
    )


@router.post("/consent/subscriptions", status_code=202)
def subscribe(
    body: SubscriptionIn,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> dict[str, Any]:
    """Send the confirmation e-mail; nothing is recorded until the person confirms. The answer
    is the same whether or not an e-mail went out (at most 3 an hour reach one address)."""
    address = normalize.email(body.email)
    with unit_of_work(rt.sessions) as session:
        desk.check_sign_up(session, actor=actor, topics=body.topics, source=body.source)
        sent = limits.may_send(
            session, rt.settings, limits.CONSENT_LINKS, address=address, client=None
        )
        if sent:
            subscriptions.request(
                session,
                rt.settings,
                email=address,
                topics=body.topics,
                source=body.source,
                language=i18n.supported(body.language) or i18n.DEFAULT,
            )
    if sent:
        disp.mail_queued()
    return {"status": "confirmation_sent"}
