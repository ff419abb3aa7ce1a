"""REST API v1 for appeals: the queue and the decision (the console's service functions)."""

from __future__ import annotations

from typing import Literal

from fastapi import Depends
from pydantic import BaseModel, Field

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights import appeals
from rightful.rights.clock_models import Appeal
from rightful.rights.models import RightsRequest
from rightful.security.permissions import Actor
from rightful.web.api.routes import api_actor
from rightful.web.deps import dispatcher, runtime
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/api/v1", dependencies=[Depends(api_actor)], tags=["appeals"])


class AppealOut(BaseModel):
    """An appeal as the API shows it: its request, clock and outcome; never what was written."""

    id: str
    request_id: str
    reference: str
    status: Literal["open", "decided"]
    received_at: str
    due: str
    decided_by: str | None
    decided_at: str | None
    outcome: Literal["upheld", "reversed", "partly"] | None
    extended_at: str | None = None


class Extension(BaseModel):
    """The reasons for taking the law's extra time to answer an appeal, e-mailed to the person."""

    reason: str = Field(min_length=20, max_length=2000)


class Decision(BaseModel):
    """The outcome of an appeal and the written reasons e-mailed to the person."""

    outcome: Literal["upheld", "reversed", "partly"]
    explanation: str = Field(min_length=20, max_length=5000)


def _out(appeal: Appeal, req: RightsRequest) -> AppealOut:
    return AppealOut(
        id=appeal.id,
        request_id=req.id,
        reference=req.reference,
        status=appeal.status,
        received_at=appeal.received_at.isoformat(),
        due=appeal.due.isoformat(),
        decided_by=appeal.decided_by,
        decided_at=appeal.decided_at.isoformat() if appeal.decided_at else None,
        outcome=appeal.outcome,
        extended_at=appeal.extended_at.isoformat() if appeal.extended_at else None,
    )


@router.get("/appeals", response_model=list[AppealOut])
def list_appeals(
    status: Literal["open", "decided"] | None = None,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> list[AppealOut]:
    """Appeals, open first, soonest due first. Needs `requests.view`."""
    with unit_of_work(rt.sessions) as session:
        return [_out(a, r) for a, r in appeals.list_appeals(session, actor=actor, status=status)]


@router.post("/appeals/{appeal_id}/decision", response_model=AppealOut)
def decide_appeal(
    appeal_id: str,
    body: Decision,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> AppealOut:
    """Decide an appeal (`requests.decide`; never by whoever made the first decision). The
    person is e-mailed the outcome; a reversal reopens the request for approval."""
    with unit_of_work(rt.sessions) as session:
        appeal = appeals.decide_appeal(
            session,
            rt.settings,
            appeal_id=appeal_id,
            actor=actor,
            outcome=body.outcome,
            explanation=body.explanation,
        )
        req = session.get(RightsRequest, appeal.request_id)
        assert req is not None  # an appeal's request is never deleted before it
        answer = _out(appeal, req)
    disp.mail_queued()
    return answer


@router.post("/appeals/{appeal_id}/extension", response_model=AppealOut)
def extend_appeal(
    appeal_id: str,
    body: Extension,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> AppealOut:
    """Take the one extension the person's law allows to answer an appeal (Colorado: 60 more
    days), inside the first period, with reasons e-mailed to the person (`requests.decide`).
    409 where the law allows none, once extended, or after the first period."""
    with unit_of_work(rt.sessions) as session:
        appeal = appeals.extend_appeal(
            session, rt.settings, appeal_id=appeal_id, actor=actor, reason=body.reason
        )
        req = session.get(RightsRequest, appeal.request_id)
        assert req is not None  # an appeal's request is never deleted before it
        answer = _out(appeal, req)
    disp.mail_queued()
    return answer
