"""Staff accounts, API tokens and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime


class StaffUser(Base):
    """A member of the privacy office who signs in to the console."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="admin")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token for the REST API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Permission names (security/permissions.py); the token may do what its owner's role and
    # these scopes both allow.
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditChainHead(Base):
    """The chain's last hash, in one row whose lock puts concurrent appends in order."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    events: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """One thing that happened; each row hashes the one before, so edits show."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainCheck(Base):
    """The last scheduled verification of one hash chain (audit, consent) and what it found."""

    __tablename__ = "chain_checks"

    chain: Mapped[str] = mapped_column(String(20), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    intact: Mapped[bool | None] = mapped_column(default=None)  # None: being checked
    problem: Mapped[str | None] = mapped_column(String(20), default=None)
    broken_at: Mapped[int | None] = mapped_column(default=None)
    message: Mapped[str] = mapped_column(String(500), default="")


class DataKey(Base):
    """One version of the data keys. Version 1 is derived from RIGHTFUL_SECRET_KEY and keeps no
    key in its row; later versions are random, kept only wrapped by the key-encryption key. A
    retired version's wrapped key is dropped: nothing can decrypt with it again."""

    __tablename__ = "data_keys"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    wrapped: Mapped[str | None] = mapped_column(String(1000), default=None)
    kek_id: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class KeyRotationStep(Base):
    """How far the rotation to one key version has come through one sealed column or folder:
    committed with each batch, so a killed rotation resumes after the last batch it wrote."""

    __tablename__ = "key_rotation_steps"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    target: Mapped[str] = mapped_column(String(120), primary_key=True)  # table.column | files:...
    after: Mapped[str | None] = mapped_column(String(300), default=None)  # the last key done
    rewritten: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SigningKey(Base):
    """The public half of a signing key derived from one data-key version (security/keys.py),
    kept so what it signed still verifies after that version is retired."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the key
    purpose: Mapped[str] = mapped_column(String(40))
    data_key_version: Mapped[int] = mapped_column()
    public_key: Mapped[str] = mapped_column(String(100))  # raw Ed25519, base64
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
