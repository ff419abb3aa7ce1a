"""Who a choice belongs to: a person by e-mail address, a phone number (replies to texts), or a
browser or device by a random id. A number or a browser may be linked to the person it belongs
to; then the person's choices count for it too, and its opt-outs are recorded for the person.

Lookups go by keyed hash, so a stolen table does not list addresses. Each person also carries
the plain SHA-256 of the normalised address: that is what marketing senders send to the bulk
suppression check, so they never have to send the address itself.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from functools import cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rightful.consent import change_feed
from rightful.consent.models import ConsentSubject
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import Base
from rightful.core.errors import InvalidInputError, NotFoundError
from rightful.identity import normalize
from rightful.security.vault import Vault, keyed_hash

DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SUBJECTS = Base.metadata.tables[ConsentSubject.__tablename__]


def email_sha256(address: str) -> str:
    """SHA-256 of a normalised (trimmed, lower-cased) address, as senders compute it."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def _vault(settings: Settings) -> Vault:
    return Vault(settings, "consent-subject")


def _lookup(settings: Settings, kind: str, value: str) -> str:
    return keyed_hash(settings.secret_key, f"consent-{kind}", value)


def _get_or_create(session: Session, lookup: str, make: ConsentSubject) -> ConsentSubject:
    existing = session.scalar(select(ConsentSubject).where(ConsentSubject.lookup_hash == lookup))
    if existing is not None:
        return existing
    # Two first choices at once: the loser's insert does nothing and it reads the winner's row.
    # (Not a savepoint: on SQLite, releasing one outside a transaction would commit.)
    values = {c.key: getattr(make, c.key) for c in ConsentSubject.__table__.columns}
    values["created_at"] = utcnow()
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = insert(ConsentSubject).values(**values).on_conflict_do_nothing()
    made: ConsentSubject | None = session.scalar(stmt.returning(ConsentSubject))
    if made is not None:
        return made
    found = session.scalar(select(ConsentSubject).where(ConsentSubject.lookup_hash == lookup))
    assert found is not None
    return found


def person_lookup(settings: Settings, address: str) -> str:
    """The keyed hash a person is found by, from their normalised address."""
    return _lookup(settings, "person", address)


def person(session: Session, settings: Settings, address: str) -> ConsentSubject:
    """The person with this e-mail address, created on first use."""
    clean = normalize.email(address)
    lookup = person_lookup(settings, clean)
    found = _get_or_create(
        session,
        lookup,
        ConsentSubject(
            id=uuid.uuid4().hex,
            kind="person",
            lookup_hash=lookup,
            email_sha256=email_sha256(clean),
            sealed_email=_vault(settings).encrypt_json(clean),
        ),
    )
    if found.sealed_email is None:  # erased once (consent/erasure.py), and given to us again
        found.sealed_email = _vault(settings).encrypt_json(clean)
    return found


def find_person(session: Session, settings: Settings, address: str) -> ConsentSubject | None:
    """The person with this address, if any choice was ever recorded for them."""
    lookup = person_lookup(settings, normalize.email(address))
    return session.scalar(select(ConsentSubject).where(ConsentSubject.lookup_hash == lookup))


def phone_number(session: Session, settings: Settings, number: str) -> ConsentSubject:
    """The phone number (any common format; stored as E.164), created on first use."""
    clean = normalize.phone(number)
    lookup = _lookup(settings, "phone", clean)
    found = _get_or_create(
        session,
        lookup,
        ConsentSubject(
            id=uuid.uuid4().hex,
            kind="phone",
            lookup_hash=lookup,
            sealed_phone=_vault(settings).encrypt_json(clean),
        ),
    )
    if found.sealed_phone is None:  # its person's data was erased; the number is back in use
        found.sealed_phone = _vault(settings).encrypt_json(clean)
    return found


def phone_of(settings: Settings, subject: ConsentSubject) -> str | None:
    """A phone subject's number in E.164 (for propagation), never for logs."""
    if not subject.sealed_phone:
        return None
    return str(_vault(settings).decrypt_json(subject.sealed_phone))


def device(session: Session, settings: Settings, device_id: str) -> ConsentSubject:
    """The browser or device with this random id (set by consent.js), created on first use."""
    if not DEVICE_ID.match(device_id or ""):
        raise InvalidInputError(
            "A device id is 16 to 64 letters, digits, '-' or '_'.",
            errors=[{"field": "device_id", "message": "Send the id consent.js stored."}],
        )
    lookup = _lookup(settings, "device", device_id)
    return _get_or_create(
        session, lookup, ConsentSubject(id=uuid.uuid4().hex, kind="device", lookup_hash=lookup)
    )


def devices(session: Session, settings: Settings, device_ids: list[str]) -> list[ConsentSubject]:
    """`device` for each id (ids already checked), in order: on PostgreSQL the new ones made and
    the known ones read in one statement."""
    if session.get_bind().dialect.name != "postgresql":
        return [device(session, settings, d) for d in device_ids]
    lookups = [_lookup(settings, "device", d) for d in device_ids]
    found = _made_or_found(session, {h: {"kind": "device"} for h in lookups})
    return [found[h] for h in lookups]


def people(session: Session, settings: Settings, addresses: list[str]) -> list[ConsentSubject]:
    """`person` for each address, in order: on PostgreSQL in one statement, as `devices`."""
    if session.get_bind().dialect.name != "postgresql":
        return [person(session, settings, a) for a in addresses]
    clean = [normalize.email(a) for a in addresses]
    lookups = [person_lookup(settings, c) for c in clean]
    vault = _vault(settings)
    new = {
        h: {
            "kind": "person",
            "email_sha256": email_sha256(c),
            "sealed_email": vault.encrypt_json(c),
        }
        for h, c in zip(lookups, clean, strict=True)
    }
    found = _made_or_found(session, new)
    for h in lookups:
        if found[h].sealed_email is None:  # erased once (consent/erasure.py), and given again
            found[h].sealed_email = new[h]["sealed_email"]
    return [found[h] for h in lookups]


def _made_or_found(session: Session, new: dict[str, dict[str, Any]]) -> dict[str, ConsentSubject]:
    """Subjects by lookup hash: those missing made from `new` (hash: their columns) and those
    known read, in one statement (PostgreSQL) whose text is the same however many there are."""
    now = utcnow()
    params: dict[str, Any] = {
        "id": [uuid.uuid4().hex for _ in new],
        "lookup_hash": list(new),
        "created_at": [now] * len(new),
    }
    for key in _MADE_COLUMNS[3:]:
        params[key] = [values.get(key) for values in new.values()]
    found = {s.lookup_hash: s for s in session.scalars(_made_or_found_statement(), params)}
    raced = [h for h in new if h not in found]  # made by another since we looked
    if raced:
        for s in session.scalars(
            select(ConsentSubject).where(ConsentSubject.lookup_hash.in_(raced))
        ):
            found[s.lookup_hash] = s
    return found


_MADE_COLUMNS = ("id", "lookup_hash", "created_at", "kind", "email_sha256", "sealed_email")


@cache
def _made_or_found_statement() -> Any:
    """`_made_or_found`'s statement: each column one array (unnest), so SQLAlchemy compiles it
    once and PostgreSQL can prepare it (a multi-row VALUES was compiled again for every number
    of rows: most of a banner batch's CPU in Python)."""
    table = _SUBJECTS
    names = ", ".join(_MADE_COLUMNS)
    arrays = ", ".join(
        f"CAST(:{c} AS {'timestamptz' if c == 'created_at' else 'varchar'}[])"
        for c in _MADE_COLUMNS
    )
    every = ", ".join(c.name for c in table.columns)
    sql = f"""
WITH made AS (
    INSERT INTO {table.name} ({names})
    SELECT {names} FROM unnest({arrays}) AS m({names})
    ON CONFLICT DO NOTHING
    RETURNING {every}
)
SELECT {every} FROM made
UNION ALL
SELECT {every} FROM {table.name} WHERE lookup_hash = ANY(CAST(:lookup_hash AS varchar[]))"""  # noqa: S608 - names
    statement = text(sql).columns(*table.c)
    return select(ConsentSubject).from_statement(statement)


def by_id(session: Session, subject_id: str) -> ConsentSubject:
    """A subject by its pseudonymous id."""
    subject = session.get(ConsentSubject, subject_id)
    if subject is None:
        raise NotFoundError("There is no such consent subject.")
    return subject


def email_of(settings: Settings, subject: ConsentSubject) -> str | None:
    """The person's address (for propagation and their own receipt), never for logs."""
    if not subject.sealed_email:
        return None
    return str(_vault(settings).decrypt_json(subject.sealed_email))


def link_to_person(session: Session, subject: ConsentSubject, person_id: str) -> None:
    """Remember that this browser or phone number belongs to a known person (so a GPC signal or
    a STOP reply covers them, and their choices count for it). The link alone: `linked.link`
    also records for the person what the browser or number opted out of before."""
    if subject.kind in ("device", "phone") and subject.person_id != person_id:
        subject.person_id = person_id
        session.flush()
        change_feed.announce(session, subject.id)  # its checks now count the person's choices


def resolve(
    session: Session,
    settings: Settings,
    *,
    email: str | None = None,
    device_id: str | None = None,
    subject_id: str | None = None,
    phone: str | None = None,
    create: bool = True,
) -> ConsentSubject | None:
    """The subject named by exactly one of e-mail, phone number, device id or subject id."""
    _exactly_one(email, device_id, subject_id, phone)
    if subject_id:
        return by_id(session, subject_id)
    if email:
        return person(session, settings, email) if create else find_person(session, settings, email)
    if phone:
        if create:
            return phone_number(session, settings, phone)
        lookup = _lookup(settings, "phone", normalize.phone(phone))
        return session.scalar(select(ConsentSubject).where(ConsentSubject.lookup_hash == lookup))
    assert device_id is not None
    if not create:
        if not DEVICE_ID.match(device_id):
            return None
        lookup = _lookup(settings, "device", device_id)
        return session.scalar(select(ConsentSubject).where(ConsentSubject.lookup_hash == lookup))
    return device(session, settings, device_id)


def _exactly_one(*given: str | None) -> None:
    if sum(bool(v) for v in given) != 1:
        raise InvalidInputError(
            "Name the subject by exactly one of email, phone, device_id or subject_id.",
            errors=[
                {"field": "subject", "message": "Send one of email, phone, device_id, subject_id."}
            ],
        )


def lookup_hash(
    settings: Settings,
    *,
    email: str | None = None,
    device_id: str | None = None,
    subject_id: str | None = None,
    phone: str | None = None,
) -> str | None:
    """The keyed hash the subject named by exactly one of these is found by, without asking the
    database; None for a subject id (found by id) or a device id that cannot be one."""
    _exactly_one(email, device_id, subject_id, phone)
    if email:
        return _lookup(settings, "person", normalize.email(email))
    if phone:
        return _lookup(settings, "phone", normalize.phone(phone))
    if device_id and DEVICE_ID.match(device_id):
        return _lookup(settings, "device", device_id)
    return None
