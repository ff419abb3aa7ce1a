"""A ledger hash-chained before migration 0033 keeps its proof: its events enter the signed
log first, in chain order, each entry carrying its chain hash; the old chain is still walked;
and an old event edited afterwards is found by both."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.consent import catalog, ledger, sequencer, subjects
from rightful.consent.appending import event_digest
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentEvent, ConsentLogNode
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.migrations import _config, upgrade
from rightful.security.chain import CONSENT_CHAIN, GENESIS
from rightful.security.models import AuditChainHead

OLD = 5


def _chained_before_0033(engine: Engine) -> list[str]:
    """Events written as Rightful wrote them before the tree: each hash covers the one before,
    the chain's head row counts them. Returns their hashes."""
    with engine.begin() as conn:
        cfg = _config(str(engine.url))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0032")
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    prev, hashes = GENESIS, []
    with engine.begin() as conn:
        conn.execute(
            insert(subjects.ConsentSubject.__table__).values(
                id="a" * 32, kind="person", lookup_hash="b" * 64, created_at=start
            )
        )
        for i in range(OLD):
            row = {
                "uid": f"{i:032x}",
                "subject_id": "a" * 32,
                "purpose": catalog.SALE_SHARE,
                "channel": "all",
                "state": "withdrawn" if i % 2 == 0 else "given",
                "interface": "api",
                "notice_version": "2026-01",
                "jurisdiction": "US-CA",
                "proof": {"n": i},
                "actor": None,
                "at": start + timedelta(minutes=i),
            }
            digest = event_digest(prev, SimpleNamespace(**row))  # type: ignore[arg-type]
            conn.execute(
                insert(ConsentEvent.__table__).values(row | {"prev_hash": prev, "hash": digest})
            )
            prev = digest
            hashes.append(digest)
        conn.execute(  # the head row the migrations made
            update(AuditChainHead)
            .where(AuditChainHead.id == CONSENT_CHAIN)
            .values(events=OLD, last_hash=prev)
        )
    return hashes


@pytest.fixture
def migrated(tmp_path: Path) -> tuple[Settings, sessionmaker[Session], list[str]]:
    settings = Settings(data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))
    engine = make_engine(settings.resolved_database_url)
    hashes = _chained_before_0033(engine)
    upgrade(engine)  # 0033: positions, the tree's tables
    sessions = sessionmaker(engine)
    with sessions() as session:
        catalog.ensure_built_in(session)
        person = subjects.person(session, settings, "new.person@example.com")
        choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
        ledger.record(session, settings, person, choice, ledger.Collected(Interface.API))
        session.commit()
    return settings, sessions, hashes


def test_chained_events_enter_the_log_first_in_chain_order_with_their_hashes(
    migrated: tuple[Settings, sessionmaker[Session], list[str]],
) -> None:
    settings, sessions, hashes = migrated
    assert sequencer.run_once(sessions, settings) == OLD + 1
    with sessions() as session:
        rows = list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.position)))
        verdict = ledger.verify(session, settings)
    assert [e.hash for e in rows] == [*hashes, None]  # the new event is not chained
    assert [e.position for e in rows] == list(range(OLD + 1))
    assert verdict.intact and verdict.message == f"Intact: {OLD + 1} events."


def test_an_old_event_edited_after_migration_is_found_by_its_chain(
    migrated: tuple[Settings, sessionmaker[Session], list[str]],
) -> None:
    settings, sessions, _ = migrated
    sequencer.run_once(sessions, settings)
    with sessions() as session:
        victim = session.scalars(select(ConsentEvent).filter_by(position=2)).one()
        session.execute(
            update(ConsentEvent).where(ConsentEvent.id == victim.id).values(state="given")
        )
        session.commit()
        verdict = ledger.verify(session, settings)
    assert (verdict.problem, verdict.broken_at) == ("edited", victim.id)


def test_an_old_event_whose_chain_hash_is_rewritten_is_found_by_the_tree(
    migrated: tuple[Settings, sessionmaker[Session], list[str]],
) -> None:
    """Rewriting an old event and its chain hashes to match passes the chain walk (the head row
    rewritten too); the signed tree still remembers the old hashes."""
    settings, sessions, _ = migrated
    sequencer.run_once(sessions, settings)
    with sessions() as session:
        rows = list(
            session.scalars(
                select(ConsentEvent).where(ConsentEvent.hash.is_not(None)).order_by(ConsentEvent.id)
            )
        )
        prev = GENESIS
        for i, row in enumerate(rows):
            if i == 3:
                row.state = "withdrawn" if row.state == "given" else "given"
            row.prev_hash, row.hash = prev, event_digest(prev, row)
            prev = row.hash
        session.execute(
            update(AuditChainHead).where(AuditChainHead.id == CONSENT_CHAIN).values(last_hash=prev)
        )
        session.commit()
        verdict = ledger.verify(session, settings)
        stored = session.scalar(select(ConsentLogNode.hash).filter_by(level=0, number=3))
    assert stored is not None
    assert (verdict.problem, verdict.position, verdict.event) == ("edited", 3, rows[3].uid)
