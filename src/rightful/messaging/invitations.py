"""Inviting a staff member: the account is added and the one-time link goes to them only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.messaging.service import queue_email
from rightful.security.models import StaffUser
from rightful.security.permissions import Actor
from rightful.security.staff_admin import INVITE_HOURS, add_invited


def invite(
    session: Session, settings: Settings, *, email: str, name: str, role: str, actor: Actor
) -> StaffUser:
    """Add the staff member and e-mail them the link to choose their password."""
    user, link = add_invited(session, settings, email=email, name=name, role=role, actor=actor)
    queue_email(
        session,
        settings,
        to=user.email,
        template="staff_invite",
        context={
            "name": user.name,
            "inviter": actor.name,
            "role": role,
            "link": link,
            "hours": INVITE_HOURS,
        },
    )
    return user
