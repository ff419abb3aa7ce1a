"""Staff sign-in and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core.errors import NotAllowedError
from rightful.security import audit, sessions
from rightful.security.models import ApiToken, StaffUser
from rightful.security.password_policy import check_new_password
from rightful.security.passwords import hash_secret, verify_secret


def create_staff(session: Session, *, email: str, name: str, password: str) -> StaffUser:
    """Add a staff member, or reset the password of an existing one."""
    check_new_password(password)
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.lower()))
    if user is None:
        user = StaffUser(email=email.lower(), name=name, password_hash=hash_secret(password))
        session.add(user)
    else:
        user.password_hash = hash_secret(password)
        user.active = True
        sessions.revoke_all(session, user.id, "password reset")  # and any role change
    session.flush()
    audit.record(
        session, actor="system", action="staff.saved", subject_type="staff", subject_id=str(user.id)
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> StaffUser:
    """The staff member with these credentials; one answer for every kind of failure."""
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if (
        not verify_secret(user.password_hash if user else None, password)
        or not user
        or not user.active
    ):
        raise NotAllowedError("That e-mail and password do not match an active staff account.")
    return user


def create_api_token(session: Session, *, staff: StaffUser, name: str) -> str:
    """Issue a bearer token; the plain value is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiToken(prefix=prefix, token_hash=_token_digest(secret), name=name, staff_id=staff.id)
    )
    session.flush()
    audit.record(
        session,
        actor=staff.email,
        action="token.created",
        subject_type="staff",
        subject_id=str(staff.id),
        detail={"name": name, "prefix": prefix},
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


def access_token_owner(session: Session, *, token: str) -> StaffUser:
    """The staff member behind a bearer token, or NotAllowedError."""
    parts = token.split("_", 2)
    row, staff = None, None
    if len(parts) == 3 and parts[0] == "rf":
        found = session.execute(  # the token and its owner in one statement: every API call
            select(ApiToken, StaffUser)
            .join(StaffUser, StaffUser.id == ApiToken.staff_id)
            .where(ApiToken.prefix == parts[1], ApiToken.revoked_at.is_(None))
        ).first()
        row, staff = found if found is not None else (None, None)
    if not _token_matches(row, parts[-1]) or staff is None or not staff.active:
        raise NotAllowedError("The bearer token is missing, revoked or wrong.")
    return staff
