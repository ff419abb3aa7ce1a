"""Writing choices to the ledger: insert them, and bring the current state and the e-mail
suppression list in step, in the writer's own transaction, so a check made after the commit
already sees them.

No lock is shared between writers: an event is inserted with its arrival order (its id) and no
position; the sequencer (consent/sequencer.py) later gives it its place in the signed log. On
PostgreSQL the events, states and suppression rows of any number of subjects (a banner batch)
go in one statement (data-modifying CTEs, one INSERT per table from array parameters, so its text
does not change with the number of rows), which also wakes the sequencer now and then
(consent/sequence_wake.py); SQLite gets the same changes as plain statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import TextClause, bindparam, delete, insert, text
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
    dialect = session.get_bind().dialect
    dump = getattr(dialect, "_json_serializer", None) or json.dumps
    params: dict[str, Any] = {f"e_{k}": [getattr(e, k) for e in events] for k in _FIELDS}
    params["e_proof"] = [dump(e.proof) for e in events]
    params["at"] = events[0].at
    if feed is not None:  # a check keyed by id or by lookup hash (perhaps from before it existed)
        params["feed"] = feed
    for key, name in (("s_uid", "uid"), ("s_subject", "subject_id"), ("s_purpose", "purpose")):
        params[key] = [getattr(e, name) for e in changes.states]
    params["s_channel"] = [e.channel for e in changes.states]
    params["s_state"] = [e.state for e in changes.states]
    for i, key in enumerate(("a_digest", "a_topic", "a_reason")):
        params[key] = [row[i] for row in changes.suppress]
    for i, key in enumerate(("r_digest", "r_topic")):
        params[key] = [row[i] for row in changes.unsuppress]
    shape = (bool(changes.suppress), bool(changes.unsuppress), feed is not None)
    rows = session.execute(_statement(*shape, sequence_wake.due()), params)
    ids: dict[str, int] = {row[0]: row[1] for row in rows}
    for event in events:
        event.id = ids[event.uid]


def _array(name: str, of: str) -> str:
    return f"CAST(:{name} AS {of}[])"


@lru_cache(maxsize=16)
def _statement(
    suppress: bool = False, unsuppress: bool = False, announce: bool = False, wake: bool = False
) -> TextClause:
    """Events, states and suppression rows in one PostgreSQL statement whatever their number:
    each column one array parameter (unnest), so its text is the same for every write: built and
    compiled once per process, and prepared by PostgreSQL after a few uses. A shape per number
    of rows (multi-row VALUES) was compiled by SQLAlchemy and planned by PostgreSQL on nearly
    every grouped write, as groups vary in size: most of a grouped write's CPU.
    `WITH ev AS (INSERT ... RETURNING), st AS (INSERT ... ON CONFLICT), ...`; with `announce`,
    the change feed's NOTIFY as a column of it; with `wake`, the sequencer's. The suppression
    list's CTEs only when some rows change it (no empty data-modifying CTE for a banner's cookie
    choices to plan and run): at most 16 texts."""
    names = ", ".join(_FIELDS)
    arrays = ", ".join(_array(f"e_{k}", "timestamptz" if k == "at" else "varchar") for k in _FIELDS)
    picked = ", ".join("CAST(e.proof AS json)" if k == "proof" else f"e.{k}" for k in _FIELDS)
    states = ", ".join(
        _array(n, "varchar") for n in ("s_uid", "s_subject", "s_purpose", "s_channel", "s_state")
    )
    listed = ", ".join(_array(n, "varchar") for n in ("a_digest", "a_topic", "a_reason"))
    gone = ", ".join(_array(n, "varchar") for n in ("r_digest", "r_topic"))
    columns = ["ev.uid", "ev.id"]
    if announce:
        columns.append(f"(SELECT pg_notify('{change_feed.CHANNEL}', :feed))")
    if wake:
        columns.append(f"(SELECT pg_notify('{sequence_wake.CHANNEL}', ''))")
    more: list[str] = []
    if suppress:
        more.append(f"""sup AS (
    INSERT INTO {_LISTED.name} (email_sha256, topic, reason, since)
    SELECT a.digest, a.topic, a.reason, CAST(:at AS timestamptz)
    FROM unnest({listed}) AS a(digest, topic, reason)
    ON CONFLICT DO NOTHING
)""")  # noqa: S608 - table and column names, constants
    if unsuppress:
        more.append(f"""unsup AS (
    DELETE FROM {_LISTED.name}
    WHERE (email_sha256, topic) IN (
        SELECT r.digest, r.topic FROM unnest({gone}) AS r(digest, topic)
    )
)""")  # noqa: S608 - table and column names, constants
    # Each state row names its event by uid, joined to the inserted events once; the events
    # go in in the order given (WITH ORDINALITY), which is their arrival order (their ids).
    sql = f"""
WITH ev AS (
    INSERT INTO {_EVENTS.name} ({names})
    SELECT {picked} FROM unnest({arrays}) WITH ORDINALITY AS e({names}, n) ORDER BY e.n
    RETURNING uid, id
), st AS (
    INSERT INTO {_STATES.name} (subject_id, purpose, channel, state, event_id, updated_at)
    SELECT c.subject_id, c.purpose, c.channel, c.state, ev.id, CAST(:at AS timestamptz)
    FROM unnest({states}) AS c(uid, subject_id, purpose, channel, state)
    JOIN ev ON ev.uid = c.uid
    ON CONFLICT (subject_id, purpose, channel) DO UPDATE SET state = excluded.state,
        event_id = excluded.event_id, updated_at = excluded.updated_at
){"".join(", " + m for m in more)}
SELECT {", ".join(columns)} FROM ev"""  # noqa: S608 - table and column names, constants
    return text(sql)


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
