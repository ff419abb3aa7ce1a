"""Writing choices to the ledger: insert them, and bring the current state and the e-mail
suppression list in step, in the writer's own transaction, so a check made after the commit
already sees them.

No lock is shared between writers: an event is inserted with its arrival order (its id) and no
position; the sequencer (consent/sequencer.py) later gives it its place in the signed log. On
PostgreSQL the events, states and suppression rows of any number of subjects (a banner batch)
go in one statement (data-modifying CTEs, one multi-row INSERT per table), which also wakes the
sequencer now and then (consent/sequence_wake.py); SQLite gets the same changes as plain
statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Select, String, bindparam, column, delete, insert, select, tuple_, values
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rightful.consent import catalog, change_feed, sequence_wake
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
_FEED_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more
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

    states: list[ConsentEvent]  # the last event per subject, purpose and channel
    suppress: list[tuple[str, str, str]]  # (address digest, topic, reason) to add
    unsuppress: list[tuple[str, str]]  # (address digest, topic) to remove


def _changes(
    groups: list[tuple[ConsentSubject, list[ConsentEvent]]], kinds: dict[str, str]
) -> _Changes:
    # A choice made twice (in one request or one batch): the later one.
    last = {(e.subject_id, e.purpose, e.channel): e for _, events in groups for e in events}
    digests = {subject.id: subject.email_sha256 for subject, _ in groups}
    suppress, unsuppress = [], []
    for (subject_id, purpose, channel), e in last.items():
        digest = digests[subject_id]  # the list keeps marketing e-mail choices, by address
        if not digest or kinds[purpose] != "marketing" or channel != Channel.EMAIL:
            continue
        topic = "*" if purpose == catalog.ALL_MARKETING else purpose
        if e.state == State.WITHDRAWN:
            suppress.append((digest, topic, e.interface))
        else:
            unsuppress.append((digest, topic))
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
    append_many(session, [(subject, events)], kinds, announce=announce)


def append_many(
    session: Session,
    groups: list[tuple[ConsentSubject, list[ConsentEvent]]],
    kinds: dict[str, str],
    *,
    announce: bool = False,
) -> None:
    """`append` for several subjects' events (in order; a subject may come more than once):
    one statement on PostgreSQL whatever their number."""
    groups = [(subject, events) for subject, events in groups if events]
    if not groups:
        return
    session.flush()  # the request's other changes first
    change_feed.mark_changed(session)
    changes = _changes(groups, kinds)
    events = [e for _, group in groups for e in group]
    if session.get_bind().dialect.name == "postgresql":
        tokens = dict.fromkeys(
            t for subject, _ in groups for t in (subject.id, subject.lookup_hash)
        )
        feed = change_feed.payload(*tokens) if announce else None
        if feed is not None and len(feed) > _FEED_PAYLOAD:
            change_feed.announce(session, *tokens)  # too many names for one notification
            feed = None
        _in_one_statement(session, events, changes, feed)
    else:
        _one_by_one(session, events, changes)


def _in_one_statement(
    session: Session, events: list[ConsentEvent], changes: _Changes, feed: str | None
) -> None:
    params: dict[str, Any] = {"at": events[0].at}
    if feed is not None:  # a check keyed by id or by lookup hash (perhaps from before it existed)
        params["feed"] = feed
    for i, event in enumerate(events):
        params |= {f"e{i}_{k}": getattr(event, k) for k in _FIELDS}
    for i, event in enumerate(changes.states):
        params |= {f"s{i}_uid": event.uid, f"s{i}_subject": event.subject_id}
        params |= {f"s{i}_purpose": event.purpose, f"s{i}_channel": event.channel}
        params |= {f"s{i}_state": event.state}
    for i, (digest, topic, reason) in enumerate(changes.suppress):
        params |= {f"a{i}_digest": digest, f"a{i}_topic": topic, f"a{i}_reason": reason}
    for i, (digest, topic) in enumerate(changes.unsuppress):
        params |= {f"r{i}_digest": digest, f"r{i}_topic": topic}
    wake = sequence_wake.due()
    shape = (len(events), len(changes.states), len(changes.suppress), len(changes.unsuppress))
    rows = session.execute(_statement(*shape, feed is not None, wake), params)
    ids: dict[str, int] = {row[0]: row[1] for row in rows}
    for event in events:
        event.id = ids[event.uid]


@lru_cache(maxsize=512)
def _statement(
    events: int,
    states: int,
    suppress: int,
    unsuppress: int,
    announce: bool = False,
    wake: bool = False,
) -> Select[Any]:
    """Events, states and suppression rows in one PostgreSQL statement, built
    once per shape: `WITH ev AS (INSERT ... RETURNING), st AS (INSERT ... ON CONFLICT), ...`;
    with `announce`, the change feed's NOTIFY as a column of it; with `wake`, the sequencer's."""
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
    # Each state row names its event by uid, joined to the inserted events once: a scalar
    # subquery a row made PostgreSQL plan one subplan per state (grouped writes vary in shape,
    # so they are planned each time, not prepared).
    chosen = values(
        column("uid", String),
        column("subject_id", String),
        column("purpose", String),
        column("channel", String),
        column("state", String),
        name="chosen",
    ).data(
        [
            tuple(bindparam(f"s{i}_{k}") for k in ("uid", "subject", "purpose", "channel", "state"))
            for i in range(states)
        ]
    )
    picked = select(
        chosen.c.subject_id, chosen.c.purpose, chosen.c.channel, chosen.c.state, ev.c.id, at
    ).select_from(chosen.join(ev, ev.c.uid == chosen.c.uid))
    upsert = pg_insert(_STATES).from_select(
        ["subject_id", "purpose", "channel", "state", "event_id", "updated_at"], picked
    )
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
                "email_sha256": bindparam(f"a{i}_digest"),
                "topic": bindparam(f"a{i}_topic"),
                "reason": bindparam(f"a{i}_reason"),
                "since": at,
            }
            for i in range(suppress)
        ]
        ctes.append(pg_insert(_LISTED).values(listed).on_conflict_do_nothing().cte("sup"))
    if unsuppress:
        pairs: list[Any] = [
            tuple_(bindparam(f"r{i}_digest"), bindparam(f"r{i}_topic")) for i in range(unsuppress)
        ]
        gone = delete(_LISTED).where(tuple_(_LISTED.c.email_sha256, _LISTED.c.topic).in_(pairs))
        ctes.append(gone.cte("unsup"))
    columns: list[Any] = [ev.c.uid, ev.c.id]
    if announce:
        columns.append(change_feed.notify_column(bindparam("feed")))
    if wake:
        columns.append(sequence_wake.notify_column())
    return select(*columns).add_cte(*ctes)


def _one_by_one(session: Session, events: list[ConsentEvent], changes: _Changes) -> None:
    rows = [{k: getattr(e, k) for k in _FIELDS} for e in events]
    ids = session.scalars(_INSERT_EVENTS, rows).all()  # one statement, ids in the rows' order
    for event, event_id in zip(events, ids, strict=True):
        event.id = event_id
    at: datetime = events[0].at
    upsert, suppress, unsuppress = _portable(session.get_bind().dialect.name)
    states = [
        {
            "subject_id": e.subject_id,
            "purpose": e.purpose,
            "channel": e.channel,
            "state": e.state,
            "event_id": e.id,
            "updated_at": at,
        }
        for e in changes.states
    ]
    session.execute(upsert, states)
    if changes.suppress:
        added = [
            {"email_sha256": digest, "topic": topic, "reason": reason, "since": at}
            for digest, topic, reason in changes.suppress
        ]
        session.execute(suppress, added)
    if changes.unsuppress:
        gone = [{"digest": digest, "topic": topic} for digest, topic in changes.unsuppress]
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
