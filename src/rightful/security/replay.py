"""One-time tokens: each token id (`jti`) is spent once, in the database, until the token expires.

A link or assertion that signs a person in must not work twice: a copy left in a browser's
history, a proxy's log or a forwarded e-mail would otherwise sign in whoever finds it. The
spent ids live in Rightful's store, so every server process refuses the second use, and each
entry is removed by housekeeping once its token could no longer be accepted anyway.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import String, UniqueConstraint, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime


class SpentToken(Base):
    """A token id that was used, for one purpose, kept until the token would have expired."""

    __tablename__ = "spent_tokens"
    __table_args__ = (UniqueConstraint("purpose", "jti_hash", name="uq_spent_tokens_jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    jti_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def spend(session: Session, *, purpose: str, jti: str, expires_at: datetime) -> bool:
    """Mark a token id used (flushes only); False when it was used before.

    One insert that does nothing on a conflict, so two uses at the same moment cannot both
    win (and no savepoint is needed: on SQLite, releasing one outside a transaction commits)."""
    values = {
        "purpose": purpose,
        "jti_hash": hashlib.sha256(jti.encode()).hexdigest(),
        "expires_at": expires_at,
    }
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = insert(SpentToken).values(**values).on_conflict_do_nothing()
    return session.scalar(stmt.returning(SpentToken.id)) is not None


def forget_expired(session: Session) -> int:
    """Remove entries whose tokens have expired (housekeeping); returns how many went."""
    result = session.execute(delete(SpentToken).where(SpentToken.expires_at < utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
