"""Writing choices to the ledger: insert them, and bring the current state and the e-mail
suppression list in step, in the writer's own transaction, so a check made after the commit
already sees them.

No lock is shared between writers: an event is inserted with its arrival order (its id) and no
position; the sequencer (consent/sequencer.py) later gives it its place in the signed log. On
PostgreSQL the events, states and suppression rows go in one statement (data-modifying CTEs);
SQLite gets the same changes as plain statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rightful.consent import catalog, change_feed
from rightful.consent.catalog import Channel, State
from rightful.consent.models import (
    ConsentEvent,
    ConsentState,
    ConsentSubject,
    MarketingSuppression,
)
from rightful.core.db import Base
from rightful.security import chain

_EVENTS = Base.metadata.tables[ConsentEvent.__tablename__]
_STATES = Base.metadata.tables[ConsentState.__tablename__]
_LISTED = Base.metadata.tables[MarketingSuppression.__tablename__]
_FIELDS = [c.key for c in _EVENTS.columns if c.key not in ("id", "position", "prev_hash", "hash")]
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


def event_digest(prev_hash: str, e: ConsentEvent) -> str:
    """An event's hash on the old chain (events written before the log was a tree): the
    previous hash and every field but its id and position."""
    return chain.digest(
        prev_hash,
        [
            e.uid,
            e.subject_id,
            e.purpose,
            e.channel,
            e.state,
            e.interface,
            e.notice_version,
            e.jurisdiction,
            e.proof,
            e.actor,
            e.at.isoformat(),
        ],
    )


@dataclass(frozen=True)
class _Changes:
    """What new events change besides the ledger: states, and suppression rows by topic."""

    states: list[ConsentEvent]  # the last event per purpose and channel
    suppress: list[tuple[str, str]]  # (topic, reason) to add
    unsuppress: list[str]  # topics to remove


def _changes(
    subject: ConsentSubject, events: list[ConsentEvent], kinds: dict[str, str]
) -> _Changes:
    last = {(e.purpose, e.channel): e for e in events}  # a choice made twice: the later one
    suppress, unsuppress = [], []
    if subject.email_sha256:  # the list keeps marketing e-mail choices, by address
        for (purpose, channel), e in last.items():
            if kinds[purpose] != "marketing" or channel != Channel.EMAIL:
                continue
            topic = "*" if purpose == catalog.ALL_MARKETING else purpose
            if e.state == State.WITHDRAWN:
                suppress.append((topic, e.interface))
            else:
                unsuppress.append(topic)
    return _Changes(list(last.values()), suppress, unsuppress)


def append(
    session: Session,
    subject: ConsentSubject,
    events: list[ConsentEvent],
    kinds: dict[str, str],
    *,
    announce: bool = False,
) -> None:
    """Insert and apply new events of one subject, made at one moment; sets their ids.
    `announce`: name the subject on the change feed, in the same statement (PostgreSQL)."""
    session.flush()  # the request's other changes first
    change_feed.mark_changed(session)
    changes = _changes(subject, events, kinds)
    if session.get_bind().dialect.name == "postgresql":
        _in_one_statement(session, subject, events, changes, announce)
    else:
        _one_by_one(session, subject, events, changes)


def _in_one_statement(
    session: Session,
    subject: ConsentSubject,
    events: list[ConsentEvent],
    changes: _Changes,
    announce: bool,
) -> None:
    params: dict[str, Any] = {
        "subject": subject.id,
        "at": events[0].at,
        "digest": subject.email_sha256,
    }
    if announce:  # a check keyed by id or by lookup hash (perhaps from before it existed)
        params["feed"] = change_feed.payload(subject.id, subject.lookup_hash)
    for i, event in enumerate(events):
        params |= {f"e{i}_{k}": getattr(event, k) for k in _FIELDS}
    for i, event in enumerate(changes.states):
        params |= {f"s{i}_uid": event.uid, f"s{i}_purpose": event.purpose}
        params |= {f"s{i}_channel": event.channel, f"s{i}_state": event.state}
    for i, (topic, reason) in enumerate(changes.suppress):
        params |= {f"a{i}_topic": topic, f"a{i}_reason": reason}
    params |= {f"r{i}_topic": topic for i, topic in enumerate(changes.unsuppress)}
    shape = (len(events), len(changes.states), len(changes.suppress), len(changes.unsuppress))
    rows = session.execute(_statement(*shape, announce), params)
    ids: dict[str, int] = {row[0]: row[1] for row in rows}
    for event in events:
        event.id = ids[event.uid]


@lru_cache(maxsize=256)
def _statement(
    events: int, states: int, suppress: int, unsuppress: int, announce: bool = False
) -> Select[Any]:
    """Events, states and suppression rows in one PostgreSQL statement, built
    once per shape: `WITH ev AS (INSERT ... RETURNING), st AS (INSERT ... ON CONFLICT), ...`;
    with `announce`, the change feed's NOTIFY as a column of it."""
    at = bindparam("at", type_=_EVENTS.c.at.type)
    ev = (
        pg_insert(_EVENTS)
        .values(
            [
                {k: bindparam(f"e{i}_{k}", type_=_EVENTS.c[k].type) for k in _FIELDS}
                for i in range(events)
            ]
        )
        .returning(_EVENTS.c.uid, _EVENTS.c.id)
        .cte("ev")
    )
    rows = [
        {
            "subject_id": bindparam("subject"),
            "purpose": bindparam(f"s{i}_purpose"),
            "channel": bindparam(f"s{i}_channel"),
            "state": bindparam(f"s{i}_state"),
            "event_id": select(ev.c.id).where(ev.c.uid == bindparam(f"s{i}_uid")).scalar_subquery(),
            "updated_at": at,
        }
        for i in range(states)
    ]
    upsert = pg_insert(_STATES).values(rows)
    ctes = [
        upsert.on_conflict_do_update(
            index_elements=["subject_id", "purpose", "channel"],
            set_={
                "state": upsert.excluded.state,
                "event_id": upsert.excluded.event_id,
                "updated_at": upsert.excluded.updated_at,
            },
        ).cte("st"),
    ]
    if suppress:
        listed = [
            {
                "email_sha256": bindparam("digest"),
                "topic": bindparam(f"a{i}_topic"),
                "reason": bindparam(f"a{i}_reason"),
                "since": at,
            }
            for i in range(suppress)
        ]
        ctes.append(pg_insert(_LISTED).values(listed).on_conflict_do_nothing().cte("sup"))
    if unsuppress:
        topics: list[Any] = [bindparam(f"r{i}_topic") for i in range(unsuppress)]
        gone = delete(_LISTED).where(
            _LISTED.c.email_sha256 == bindparam("digest"), _LISTED.c.topic.in_(topics)
        )
        ctes.append(gone.cte("unsup"))
    columns: list[Any] = [ev.c.uid, ev.c.id]
    if announce:
        columns.append(change_feed.notify_column(bindparam("feed")))
    return select(*columns).add_cte(*ctes)


def _one_by_one(
    session: Session, subject: ConsentSubject, events: list[ConsentEvent], changes: _Changes
) -> None:
    rows = [{k: getattr(e, k) for k in _FIELDS} for e in events]
    ids = session.scalars(_INSERT_EVENTS, rows).all()  # one statement, ids in the rows' order
    for event, event_id in zip(events, ids, strict=True):
        event.id = event_id
    at: datetime = events[0].at
    upsert, suppress, unsuppress = _portable(session.get_bind().dialect.name)
    states = [
        {
            "subject_id": subject.id,
            "purpose": e.purpose,
            "channel": e.channel,
            "state": e.state,
            "event_id": e.id,
            "updated_at": at,
        }
        for e in changes.states
    ]
    session.execute(upsert, states)
    digest = subject.email_sha256
    if changes.suppress:
        added = [
            {"email_sha256": digest, "topic": topic, "reason": reason, "since": at}
            for topic, reason in changes.suppress
        ]
        session.execute(suppress, added)
    if changes.unsuppress:
        gone = [{"digest": digest, "topic": topic} for topic in changes.unsuppress]
        session.execute(unsuppress, gone)


@cache
def _portable(dialect: str) -> tuple[Any, Any, Any]:
    """State upsert, suppression insert and delete, built once per dialect (SQLite and
    PostgreSQL both have ON CONFLICT)."""
    insert_ = sqlite_insert if dialect == "sqlite" else pg_insert
    states = insert_(_STATES)
    upsert = states.on_conflict_do_update(
        index_elements=["subject_id", "purpose", "channel"],
        set_={
            "state": states.excluded.state,
            "event_id": states.excluded.event_id,
            "updated_at": states.excluded.updated_at,
        },
    )
    suppress = insert_(_LISTED).on_conflict_do_nothing()
    unsuppress = delete(_LISTED).where(
        _LISTED.c.email_sha256 == bindparam("digest"), _LISTED.c.topic == bindparam("topic")
    )
    return upsert, suppress, unsuppress
