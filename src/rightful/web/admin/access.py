"""The console's signed-in staff member as an actor, for the service functions to check."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from rightful.security.permissions import Actor, staff_actor
from rightful.web.deps import staff_from_session


def console_actor(request: Request, session: Session) -> Actor:
    """The signed-in staff member with their role's permissions (NotAllowedError when signed
    out); pages read them as `can` to show only what the role may use."""
    staff = staff_from_session(request, session)
    actor = staff_actor(name=staff.email, staff_id=staff.id, role=staff.role)
    request.state.permissions = actor.permissions
    return actor
