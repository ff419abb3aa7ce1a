"""API tokens in use: the actor a token acts as, its last use, and listing and revoking them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from rightful.core.clock import as_utc, utcnow
from rightful.core.errors import NotFoundError
from rightful.security import audit, checked_tokens
from rightful.security.models import ApiToken, StaffUser
from rightful.security.permissions import Actor, Permission, require, staff_actor
from rightful.security.service import verified_token

TOUCH_EVERY = timedelta(minutes=1)  # last use is kept to the minute: one write a minute at most


@dataclass(frozen=True)
class TokenView:
    """A token as staff see it: never its secret."""

    id: int
    prefix: str
    name: str
    owner: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and (
            self.expires_at is None or as_utc(self.expires_at) > utcnow()
        )


def token_actor(session: Session, *, token: str, cache_seconds: float = 0) -> Actor:
    """The actor a bearer token acts as (its owner's role ∩ its scopes), or NotAllowedError;
    notes when it was last used. With `cache_seconds`, a token found live is trusted that long
    in this process without asking the store (its expiry is still checked on every call)."""
    key = checked_tokens.key(token)
    now = utcnow()
    known = _recalled(key, now) if cache_seconds else None
    if known is None:
        read_after = checked_tokens.ticket()
        row, staff = verified_token(session, token=token)
        actor = staff_actor(
            name=staff.email, staff_id=staff.id, role=staff.role, scopes=row.scopes, token_id=row.id
        )
        known = checked_tokens.Checked(actor, row.id, row.expires_at, row.last_used_at)
        if cache_seconds:
            checked_tokens.remember(key, known, cache_seconds, read_after)
    if _touch_due(known, now):
        session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == known.token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        known.last_used_at = now
    return known.actor


def held_actor(token: str) -> Actor | None:
    """`token_actor`'s answer from this process's memory alone, when it needs no statement at
    all (the token checked within the bound, unexpired, its last use noted within the minute);
    None: ask `token_actor`, which also gives every refusal."""
    now = utcnow()
    known = _recalled(checked_tokens.key(token), now)
    return None if known is None or _touch_due(known, now) else known.actor


def _recalled(key: str, now: datetime) -> checked_tokens.Checked | None:
    known = checked_tokens.recall(key)
    if known is not None and known.expires_at is not None and as_utc(known.expires_at) <= now:
        checked_tokens.forget(key)
        return None  # expired since: the store gives the one refusal
    return known


def _touch_due(known: checked_tokens.Checked, now: datetime) -> bool:
    return known.last_used_at is None or as_utc(known.last_used_at) <= now - TOUCH_EVERY


def list_tokens(session: Session, *, actor: Actor, email: str | None = None) -> list[TokenView]:
    """Every token (or one staff member's), newest first."""
    require(actor, Permission.TOKENS_MANAGE)
    stmt = (
        select(ApiToken, StaffUser.email)
        .join(StaffUser, StaffUser.id == ApiToken.staff_id)
        .order_by(ApiToken.id.desc())
    )
    if email:
        stmt = stmt.where(StaffUser.email == email.strip().lower())
    return [
        TokenView(
            id=t.id,
            prefix=t.prefix,
            name=t.name,
            owner=owner,
            scopes=list(t.scopes),
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )
        for t, owner in session.execute(stmt)
    ]


def revoke_token(session: Session, *, prefix: str, actor: Actor) -> ApiToken:
    """Stop a token working (by its prefix, the part after `rf_`): at once in this process and
    in every process listening to the change feed, within `api_token_cache_seconds` in any
    other one."""
    require(actor, Permission.TOKENS_MANAGE)
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix.strip()))
    if row is None:
        raise NotFoundError("There is no such token.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        checked_tokens.forget_everywhere(session)
        audit.record(
            session,
            actor=actor.name,
            action="token.revoked",
            subject_type="staff",
            subject_id=str(row.staff_id),
            detail={"name": row.name, "prefix": row.prefix},
        )
    return row
