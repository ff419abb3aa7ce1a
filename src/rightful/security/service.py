"""Staff sign-in and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rightful.core.clock import as_utc, utcnow
from rightful.core.errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from rightful.security import audit, checked_tokens, sessions
from rightful.security.models import ApiToken, StaffUser
from rightful.security.password_policy import check_new_password
from rightful.security.passwords import hash_secret, verify_secret
from rightful.security.permissions import (
    Actor,
    Permission,
    Role,
    parse_scopes,
    require,
    role_permissions,
)

TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 730


def create_staff(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    actor: Actor,
    role: str | None = None,
) -> StaffUser:
    """Add a staff member (admin unless `role` says otherwise), or reset an existing one's
    password, and role when given."""
    require(actor, Permission.STAFF_MANAGE)
    if role is not None and role not in {r.value for r in Role}:
        raise InvalidInputError(
            f"There is no role '{role}'.",
            errors=[{"field": "role", "message": "Use viewer, analyst, approver or admin."}],
        )
    check_new_password(password)
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.lower()))
    if user is None:
        user = StaffUser(email=email.lower(), name=name, password_hash=hash_secret(password))
        user.role = role or Role.ADMIN.value
        session.add(user)
    else:
        user.password_hash = hash_secret(password)
        user.role = role or user.role
        user.active = True
        sessions.revoke_all(session, user.id, "password reset")  # and any role change
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="staff.saved",
        subject_type="staff",
        subject_id=str(user.id),
        detail={"role": user.role},
    )
    return user


def access_staff(session: Session, *, email: str) -> StaffUser:
    """A staff member by e-mail address; NotFoundError otherwise."""
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"No staff member {email}.")
    return user


def staff_to_manage(session: Session, *, email: str, actor: Actor) -> StaffUser:
    """A staff member whose account `actor` may manage (unlock, second factor): staff.manage."""
    require(actor, Permission.STAFF_MANAGE)
    return access_staff(session, email=email)


def keep_an_admin(session: Session, user: StaffUser) -> None:
    """Refuse to take the last active administrator away: nobody could manage staff after."""
    others = session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(
            StaffUser.role == Role.ADMIN.value,
            StaffUser.active.is_(True),
            StaffUser.id != user.id,
        )
    )
    if user.active and user.role == Role.ADMIN.value and not others:
        raise ConflictError("This is the last administrator: make someone else one first.")


def deactivate_staff(session: Session, *, email: str, actor: Actor) -> StaffUser:
    """Stop a staff member signing in or using the API: the account is kept for the record,
    their tokens and console sessions are revoked."""
    require(actor, Permission.STAFF_MANAGE)
    user = access_staff(session, email=email)
    keep_an_admin(session, user)
    user.active = False
    now = utcnow()
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.staff_id == user.id, ApiToken.revoked_at.is_(None))
    )
    for token in tokens:
        token.revoked_at = now
    session.flush()
    checked_tokens.forget_everywhere(session)  # at once here and where heard, else the bound
    sessions.revoke_all(session, user.id, "deactivated", actor=actor.name)
    audit.record(
        session,
        actor=actor.name,
        action="staff.deactivated",
        subject_type="staff",
        subject_id=str(user.id),
    )
    return user


def _token_scopes(staff: StaffUser, scopes: Iterable[str] | None) -> list[str]:
    """The scopes to grant: all of the owner's role by default, never more than it."""
    allowed = role_permissions(staff.role)
    if scopes is None:
        return sorted(allowed)
    wanted = list(scopes)
    unknown = [s for s in wanted if s not in {p.value for p in Permission}]
    beyond = [s for s in wanted if s not in unknown and s not in allowed]
    if unknown or beyond or not wanted:
        detail = (
            f"Unknown scopes: {', '.join(unknown)}."
            if unknown
            else f"The owner's role does not allow: {', '.join(beyond)}."
            if beyond
            else "Give the token at least one scope."
        )
        raise InvalidInputError(detail, errors=[{"field": "scopes", "message": detail}])
    return sorted(parse_scopes(wanted))


def create_api_token(
    session: Session,
    *,
    staff: StaffUser,
    name: str,
    actor: Actor,
    scopes: Iterable[str] | None = None,
    days: int = TOKEN_DAYS,
) -> str:
    """Issue a bearer token for `staff` with scopes (default: all their role allows) that
    expires after `days`; the plain value is returned once and never stored."""
    require(actor, Permission.TOKENS_MANAGE)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInputError(
            f"A token lasts from 1 to {MAX_TOKEN_DAYS} days.",
            errors=[{"field": "days", "message": f"Use 1 to {MAX_TOKEN_DAYS}."}],
        )
    if not staff.active:
        raise InvalidInputError(f"{staff.email} is deactivated: no token can be issued.")
    granted = _token_scopes(staff, scopes)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=days)
    session.add(
        ApiToken(
            prefix=prefix,
            token_hash=_token_digest(secret),
            name=name,
            staff_id=staff.id,
            scopes=granted,
            expires_at=expires_at,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="token.created",
        subject_type="staff",
        subject_id=str(staff.id),
        detail={
            "name": name,
            "prefix": prefix,
            "scopes": granted,
            "expires_at": expires_at.isoformat(),
        },
    )
    return f"rf_{prefix}_{secret}"


TOKEN_DIGEST = "sha256$"  # noqa: S105 - a format marker, not a secret


def _token_digest(secret: str) -> str:
    # A token's secret is 256 random bits: nothing to guess, so no key stretching is needed
    # (Argon2 is for passwords people choose). A plain digest keeps every API call cheap.
    return TOKEN_DIGEST + hashlib.sha256(secret.encode()).hexdigest()


def _token_matches(row: ApiToken | None, secret: str) -> bool:
    if row is None:
        hmac.compare_digest(_token_digest(secret), _token_digest(""))  # same work either way
        return False
    if row.token_hash.startswith(TOKEN_DIGEST):
        return hmac.compare_digest(row.token_hash, _token_digest(secret))
    if verify_secret(row.token_hash, secret):  # issued before digests: upgrade it once
        row.token_hash = _token_digest(secret)
        return True
    return False


def verified_token(session: Session, *, token: str) -> tuple[ApiToken, StaffUser]:
    """A live bearer token and its active owner, or NotAllowedError (one answer for wrong,
    revoked, expired and deactivated)."""
    parts = token.split("_", 2)
    row, staff = None, None
    if len(parts) == 3 and parts[0] == "rf":
        found = session.execute(  # the token and its owner in one statement: every API call
            select(ApiToken, StaffUser)
            .join(StaffUser, StaffUser.id == ApiToken.staff_id)
            .where(ApiToken.prefix == parts[1], ApiToken.revoked_at.is_(None))
        ).first()
        row, staff = found if found is not None else (None, None)
    matches = _token_matches(row, parts[-1])
    expired = row is not None and row.expires_at is not None and as_utc(row.expires_at) <= utcnow()
    if not matches or row is None or staff is None or not staff.active or expired:
        raise NotAllowedError("The bearer token is missing, expired, revoked or wrong.")
    return row, staff


def access_token_owner(session: Session, *, token: str) -> StaffUser:
    """The staff member behind a bearer token, or NotAllowedError."""
    return verified_token(session, token=token)[1]
