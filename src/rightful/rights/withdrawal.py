"""Withdrawing an open request: the person changed their mind before we started on it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.core.errors import ConflictError
from rightful.core.i18n import N_
from rightful.rights import service
from rightful.rights.models import RightsRequest
from rightful.rights.types import TRANSITIONS, Status
from rightful.security.permissions import Actor, Permission, require

# Open and not yet being carried out: once execution starts, data may already have changed.
WITHDRAWABLE = frozenset(s for s, nxt in TRANSITIONS.items() if Status.WITHDRAWN in nxt)
TOO_LATE = N_(
    "This request can no longer be withdrawn: we have started carrying it out, or it is "
    "already closed."
)


def withdrawable(req: RightsRequest) -> bool:
    """Whether the person may still withdraw this request."""
    return Status(req.status) in WITHDRAWABLE


def withdraw(
    session: Session, settings: Settings, *, request_id: str, actor: Actor | None
) -> RightsRequest:
    """Withdraw a request and tell the person by e-mail.

    `actor` None is the person themself, from their status page: the signed link is their
    permission. Staff withdraw on the person's behalf (they phoned or wrote) with
    requests.submit, the permission to record what a person asks for."""
    if actor is not None:
        require(actor, Permission.REQUESTS_SUBMIT)
    req = service.access_request(session, request_id)
    # Read it again under a row lock: the worker or staff may be moving it on right now.
    locked = session.get(RightsRequest, req.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    if not withdrawable(locked):
        raise ConflictError(TOO_LATE)
    by = "consumer" if actor is None else actor.name
    on_behalf = {} if actor is None else {"on_behalf_of": "consumer"}
    service.move(session, locked, Status.WITHDRAWN, actor=by, detail=on_behalf)
    again = {"new_request_url": f"{settings.base_url}/requests/new"}
    service.notify_consumer(session, settings, locked, "withdrawn", again)
    return locked
