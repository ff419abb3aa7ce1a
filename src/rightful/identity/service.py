"""Verification: one-time codes with expiry, attempt caps, rate limits and a cap per request."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import RateLimitedError, VerificationError
from rightful.core.i18n import N_
from rightful.identity.models import VerificationCode
from rightful.security import audit_append
from rightful.security.vault import keyed_hash

WRONG_CODE = N_(
    "That code is not right, or it has expired. Check the latest e-mail, or ask for a new code."
)


class CodeState(StrEnum):
    """Whether a request's code can still be entered, and if not, why."""

    LIVE = "live"
    LOCKED = "locked"  # the tries ran out
    EXPIRED = "expired"
    NONE = "none"  # none was sent, or the last one was used
    USED_UP = "used_up"  # the request had all the codes or wrong tries its life allows


def locked_message(max_attempts: int) -> str:
    """What a person reads once the tries have run out."""
    return N_(
        "This code is locked after %(n)s wrong tries, to keep your request safe. "
        "Ask for a new code and we will e-mail it to you.",
        n=max_attempts,
    )


def used_up_message(settings: Settings) -> str:
    """What a person reads once a request has had all the codes or tries it may have."""
    return N_(
        "For your security, this request is closed: it has had %(codes)s codes or %(tries)s "
        "wrong tries, the most one request can have. Nothing has been disclosed. "
        "To go on, send a new request.",
        codes=settings.codes_per_request,
        tries=settings.code_tries_per_request,
    )


def _wrong(left: int) -> str:
    """The wrong-code message with the tries left, each sentence whole for translators."""
    if left == 1:
        return N_(
            "That code is not right, or it has expired. Check the latest e-mail, or ask for a "
            "new code. 1 try left."
        )
    return N_(
        "That code is not right, or it has expired. Check the latest e-mail, or ask for a new "
        "code. %(n)s tries left.",
        n=left,
    )


def _hash(settings: Settings, purpose: str, value: str) -> str:
    return keyed_hash(settings.secret_key, purpose, value)


def _recent_codes(session: Session, identity_hash: str, client_hash: str | None) -> tuple[int, int]:
    """Codes sent in the last hour to this address, and asked for from this client (one query).

    A trusted caller (`client_hash` None) is not counted: its one address speaks for everyone,
    so counting it read every code it asked for in the hour, for each new code (a batch of
    10,000 requests read 50 million index entries), for a limit that does not apply to it."""
    since = utcnow() - timedelta(hours=1)
    to_identity = VerificationCode.identity_hash == identity_hash
    if client_hash is None:
        found = session.scalar(
            select(func.count()).where(to_identity, VerificationCode.created_at >= since)
        )
        return int(found or 0), 0
    from_client = VerificationCode.client_hash == client_hash
    row = session.execute(
        select(func.count().filter(to_identity), func.count().filter(from_client)).where(
            or_(to_identity, from_client), VerificationCode.created_at >= since
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def issue_code(
    session: Session,
    settings: Settings,
    *,
    request_id: str,
    email: str,
    client: str | None,
    replaces: bool = True,
    counted: Callable[[Insert], Any] | None = None,
) -> str:
    """A new 6-digit code for a request; earlier codes stop working. Rate-limited.

    `client` is the browser's address; None for trusted callers (API tokens, staff), whose one
    server address speaks for many consumers, so only the per-address limit applies to them.
    `counted`, for a new request's code on PostgreSQL, sends the insert within the limits (an
    INSERT ... RETURNING) in a statement of the caller's and returns what it returned.
    """
    if replaces and _life(session, request_id)[0] >= settings.codes_per_request:
        raise VerificationError(used_up_message(settings))
    identity_hash = _hash(settings, "email", email)
    client_hash = _hash(settings, "client", client or "trusted")
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = {
        "request_id": request_id,
        "code_hash": _hash(settings, "code", f"{request_id}:{code}"),
        "identity_hash": identity_hash,
        "client_hash": client_hash,
    }
    # Over a limit, nothing goes in and the counts below say which, as before.
    if not replaces and session.get_bind().dialect.name == "postgresql":
        added = _within_limits(settings, row, counts_client=client is not None)
        if (counted(added) if counted else session.scalar(added)) is not None:
            return code
    to_identity, from_client = _recent_codes(
        session, identity_hash, client_hash if client is not None else None
    )
    if to_identity >= settings.codes_per_identity_per_hour:
        raise RateLimitedError(
            N_("Too many codes were sent to this address. Try again in an hour.")
        )
    if client is not None and from_client >= settings.codes_per_client_per_hour:
        raise RateLimitedError(
            N_("Too many codes were asked for from this connection. Try again later.")
        )
    now = utcnow()
    if replaces:  # a brand-new request has no earlier code to retire
        session.execute(
            update(VerificationCode)
            .where(VerificationCode.request_id == request_id, VerificationCode.used_at.is_(None))
            .values(used_at=now)
        )
    session.add(
        VerificationCode(**row, expires_at=now + timedelta(minutes=settings.code_ttl_minutes))
    )
    session.flush()
    return code


def _within_limits(settings: Settings, row: dict[str, str], *, counts_client: bool) -> Insert:
    """The insert of a new request's code only if the hour's codes to its address (and, for a
    browser, from its client) are under their limits, counted in the insert's own statement:
    one statement where the count and the insert took two. It returns the new code's id, and
    no row, with nothing inserted, when over."""
    now = utcnow()
    since = now - timedelta(hours=1)
    recent = VerificationCode.created_at >= since
    to_identity = select(func.count()).where(
        VerificationCode.identity_hash == row["identity_hash"], recent
    )
    under = [to_identity.scalar_subquery() < settings.codes_per_identity_per_hour]
    if counts_client:
        from_client = select(func.count()).where(
            VerificationCode.client_hash == row["client_hash"], recent
        )
        under.append(from_client.scalar_subquery() < settings.codes_per_client_per_hour)
    moment = VerificationCode.created_at.type
    values = {
        **row,
        "attempts": 0,
        "expires_at": now + timedelta(minutes=settings.code_ttl_minutes),
        "created_at": now,
    }
    chosen = select(
        *(literal(v, moment if k.endswith("_at") else None) for k, v in values.items())
    ).where(*under)
    return insert(VerificationCode).from_select(list(values), chosen).returning(VerificationCode.id)


def _life(session: Session, request_id: str) -> tuple[int, int]:
    """Codes sent for a request in its whole life, and tries made with them."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(VerificationCode.attempts), 0)).where(
            VerificationCode.request_id == request_id
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def _used_up(settings: Settings, life: tuple[int, int], state: CodeState) -> bool:
    # The last allowed code may still be entered while it lives; the tries count across codes.
    sent, tried = life
    if tried >= settings.code_tries_per_request:
        return True
    return sent >= settings.codes_per_request and state is not CodeState.LIVE


def _live_and_life(
    session: Session, request_id: str
) -> tuple[VerificationCode | None, tuple[int, int]]:
    """The request's latest unused code and `_life`, in one query: the count and sum run over
    all its codes before the one row is picked."""
    unused = VerificationCode.used_at.is_(None)
    row = session.execute(
        select(
            VerificationCode,
            func.count().over(),
            func.coalesce(func.sum(VerificationCode.attempts).over(), 0),
        )
        .where(VerificationCode.request_id == request_id)
        .order_by(case((unused, 0), else_=1), VerificationCode.id.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return None, (0, 0)
    code, sent, tried = row
    return (code if code.used_at is None else None), (int(sent or 0), int(tried or 0))


# A right code used up: written with the transaction's audit events (the request's move), in
# their statement on PostgreSQL. The tries are set as counted in Python, as the ORM would.
_USED = audit_append.rider(
    "code_used",
    VerificationCode.__tablename__,
    "UPDATE verification_codes SET attempts = :attempts, used_at = :used_at WHERE id = :id",
    attempts=VerificationCode.__table__.c.attempts.type,
    used_at=VerificationCode.__table__.c.used_at.type,
    id=VerificationCode.__table__.c.id.type,
)


# A request's latest unused code (None when it has none), and `_life`: what `check_code` reads.
CodeRead = tuple[VerificationCode | None, tuple[int, int]]


def with_codes(
    stmt: Select[Any], request_id: ColumnElement[str] | InstrumentedAttribute[str]
) -> Select[Any]:
    """`stmt` (which selects the request `request_id` belongs to) with `_live_and_life` as three
    more columns: the live code outer-joined, codes sent and tries made. The caller's one
    statement then reads its request and the code together (`read_of` turns them back)."""
    code = aliased(VerificationCode)
    latest = (
        select(code.id)
        .where(code.request_id == request_id, code.used_at.is_(None))
        .order_by(code.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    sent = select(func.count()).where(code.request_id == request_id).scalar_subquery()
    tried = (
        select(func.coalesce(func.sum(code.attempts), 0))
        .where(code.request_id == request_id)
        .scalar_subquery()
    )
    return stmt.add_columns(VerificationCode, sent, tried).outerjoin(
        VerificationCode, VerificationCode.id == latest
    )


def read_of(live: VerificationCode | None, sent: int | None, tried: int | None) -> CodeRead:
    """`with_codes`' three columns as `check_code` takes them."""
    return live, (int(sent or 0), int(tried or 0))


def _state(settings: Settings, live: VerificationCode | None) -> CodeState:
    if live is None:
        return CodeState.NONE
    if live.attempts >= settings.code_max_attempts:
        return CodeState.LOCKED
    if live.expires_at <= utcnow():
        return CodeState.EXPIRED
    return CodeState.LIVE


def code_state(session: Session, settings: Settings, *, request_id: str) -> CodeState:
    """Whether the request's latest code can still be entered (only reads)."""
    live, life = _live_and_life(session, request_id)
    state = _state(settings, live)
    return CodeState.USED_UP if _used_up(settings, life, state) else state


def codes_left(session: Session, settings: Settings, *, request_id: str) -> int:
    """How many more codes the request may be sent in its life (only reads)."""
    return max(0, settings.codes_per_request - _life(session, request_id)[0])


def check_code(
    session: Session,
    settings: Settings,
    *,
    request_id: str,
    code: str,
    read: CodeRead | None = None,
) -> str | None:
    """Accept the request's live code once; count every wrong try. `read`: the code and the
    request's counts when the caller read them with the request (`with_codes`).

    Returns None when the code is right, else the message to show. It does not raise, so
    the caller commits the counted try: a rollback must never give an attacker tries back.
    """
    live, life = read if read is not None else _live_and_life(session, request_id)
    candidate = _hash(settings, "code", f"{request_id}:{code.strip()}")
    state = _state(settings, live)
    if _used_up(settings, life, state):
        return used_up_message(settings)
    if state is CodeState.LOCKED:
        return locked_message(settings.code_max_attempts)
    if live is None or state is not CodeState.LIVE:
        return WRONG_CODE
    live.attempts += 1
    if not hmac.compare_digest(live.code_hash, candidate):
        session.flush()
        life = _life(session, request_id)
        if _used_up(settings, life, _state(settings, live)):
            return N_(
                "That code is not right. For your security, this request is closed: it has had "
                "%(codes)s codes or %(tries)s wrong tries, the most one request can have. "
                "Nothing has been disclosed. To go on, send a new request.",
                codes=settings.codes_per_request,
                tries=settings.code_tries_per_request,
            )
        tries_left = settings.code_tries_per_request - life[1]
        left = min(settings.code_max_attempts - live.attempts, tries_left)
        if not left:
            return N_(
                "That code is not right. This code is locked after %(n)s wrong tries, to keep "
                "your request safe. Ask for a new code and we will e-mail it to you.",
                n=settings.code_max_attempts,
            )
        return _wrong(left)
    # Not a change for the ORM to flush: the row is written by `_USED`; the object shows it.
    used_at = utcnow()
    set_committed_value(live, "attempts", live.attempts)
    set_committed_value(live, "used_at", used_at)
    audit_append.ride(
        session, _USED, {"attempts": live.attempts, "used_at": used_at, "id": live.id}
    )
    return None
