"""Staff accounts as an administrator manages them from the console: who has which role,
inviting someone (they choose their own password from a one-time link), changing a role,
unlocking and deactivating. Each is audited; the CLI offers the same (cli/staff_cmds.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError, VerificationError
from rightful.security import audit, checked_tokens, replay, sessions, signin_limits, totp
from rightful.security.models import StaffUser
from rightful.security.password_policy import check_new_password
from rightful.security.passwords import hash_secret
from rightful.security.permissions import Actor, Permission, Role, require
from rightful.security.service import access_staff, keep_an_admin
from rightful.security.signin_limits import SigninThrottle
from rightful.security.tokens import LinkSigner

INVITE_HOURS = 72
INVITE_PURPOSE = "staff-invite"
ROLE_HELP = "Choose viewer, analyst, approver or admin."


@dataclass(frozen=True)
class StaffRow:
    """One account as the staff page lists it (no secrets)."""

    id: int
    email: str
    name: str
    role: str
    active: bool
    second_factor: bool
    locked: bool


def list_staff(session: Session, settings: Settings, *, actor: Actor) -> list[StaffRow]:
    """Every account, active ones first, by name."""
    require(actor, Permission.STAFF_MANAGE)
    users = session.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.name))
    rows = []
    for user in users:
        throttle = session.get(SigninThrottle, signin_limits.account_key(settings, user.email))
        rows.append(
            StaffRow(
                id=user.id,
                email=user.email,
                name=user.name,
                role=user.role,
                active=user.active,
                second_factor=totp.is_enabled(session, user.id),
                locked=throttle is not None and throttle.locked_at is not None,
            )
        )
    return rows


def _role(role: str) -> str:
    if role not in {r.value for r in Role}:
        raise InvalidInputError(
            f"There is no role '{role}'.", errors=[{"field": "role", "message": ROLE_HELP}]
        )
    return role


def _signer(settings: Settings) -> LinkSigner:
    return LinkSigner(settings.secret_key, INVITE_PURPOSE)


def invite_url(settings: Settings, staff_id: int) -> str:
    """A one-time link to choose a password, valid for INVITE_HOURS."""
    token = _signer(settings).sign(f"{staff_id}:{secrets.token_urlsafe(12)}")
    return f"{settings.base_url}/admin/welcome/{token}"


def add_invited(
    session: Session, settings: Settings, *, email: str, name: str, role: str, actor: Actor
) -> tuple[StaffUser, str]:
    """Add a staff member who will set their own password from a one-time link (returned, to be
    e-mailed to them only: messaging/invitations.py); nobody else ever knows the password.
    An address that already has an account is refused (change its role instead)."""
    require(actor, Permission.STAFF_MANAGE)
    errors = []
    address = email.strip().lower()
    if "@" not in address or len(address) > 254:
        errors.append({"field": "email", "message": "Enter the person's work e-mail address."})
    if not name.strip():
        errors.append({"field": "name", "message": "Enter the person's name."})
    if role not in {r.value for r in Role}:
        errors.append({"field": "role", "message": ROLE_HELP})
    if errors:
        raise InvalidInputError("Check the details of the new staff member.", errors=errors)
    if session.scalar(select(StaffUser.id).where(StaffUser.email == address)) is not None:
        raise ConflictError(
            "That address already has an account: change its role instead.",
            errors=[{"field": "email", "message": "This address already has an account."}],
        )
    # Nobody can sign in with a random secret nobody was told: the link sets the password.
    user = StaffUser(
        email=address,
        name=name.strip()[:200],
        password_hash=hash_secret(secrets.token_urlsafe(32)),
        role=role,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="staff.invited",
        subject_type="staff",
        subject_id=str(user.id),
        detail={"role": role},
    )
    return user, invite_url(settings, user.id)


def invited_staff(session: Session, settings: Settings, *, token: str) -> StaffUser:
    """Whose invitation a link is (VerificationError when forged, expired or the account is
    deactivated); reading it spends nothing."""
    value = _signer(settings).unsign(token, max_age_seconds=INVITE_HOURS * 3600)
    staff_id, _, _ = value.partition(":")
    user = session.get(StaffUser, int(staff_id)) if staff_id.isdigit() else None
    if user is None or not user.active:
        raise VerificationError("This link no longer works. Ask an administrator for a new one.")
    return user


def accept_invitation(session: Session, settings: Settings, *, token: str, password: str) -> None:
    """Set the password the invited person chose; the link works once."""
    user = invited_staff(session, settings, token=token)
    check_new_password(password)
    jti = _signer(settings).unsign(token, max_age_seconds=INVITE_HOURS * 3600)
    if not replay.spend(
        session,
        purpose=INVITE_PURPOSE,
        jti=jti,
        expires_at=utcnow() + timedelta(hours=INVITE_HOURS),
    ):
        raise VerificationError("This link was used already. Sign in, or ask for a new one.")
    user.password_hash = hash_secret(password)
    sessions.revoke_all(session, user.id, "password set from an invitation", actor=user.email)
    session.flush()
    audit.record(
        session,
        actor=user.email,
        action="staff.invitation_accepted",
        subject_type="staff",
        subject_id=str(user.id),
    )


def change_role(session: Session, *, email: str, role: str, actor: Actor) -> StaffUser:
    """Give a staff member another role; their sessions end so the new role applies at once.
    The last active administrator keeps the role (someone must be able to manage staff)."""
    require(actor, Permission.STAFF_MANAGE)
    user = access_staff(session, email=email)
    new = _role(role)
    if user.role == new:
        return user
    if user.role == Role.ADMIN.value:
        keep_an_admin(session, user)
    old, user.role = user.role, new
    session.flush()
    checked_tokens.forget_everywhere(session)  # their tokens act with the new role
    sessions.revoke_all(session, user.id, "role changed", actor=actor.name)
    audit.record(
        session,
        actor=actor.name,
        action="staff.role_changed",
        subject_type="staff",
        subject_id=str(user.id),
        detail={"from": old, "to": new},
    )
    return user
