"""The sequencer on PostgreSQL: killed mid-batch (SIGKILL), the next run carries on without a
gap or a duplicate; sequencers racing for the log, one wins each batch; one that lost its lease
commits nothing."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.consent import catalog, ledger, log_entry, merkle, sequencer, subjects, tree
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentEvent, ConsentSequencer, ConsentTreeHead
from rightful.core import claims
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.migrations import upgrade

pytestmark = pytest.mark.postgres

CHILD = """
import os, sys
from datetime import timedelta
from sqlalchemy.orm import sessionmaker
from rightful.consent import sequencer
from rightful.core.config import Settings
from rightful.core.db import make_engine

url = os.environ["LOG_URL"] + "?application_name=killed-sequencer"
settings = Settings(database_url=url, secret_key=os.environ["LOG_SECRET"], data_dir=sys.argv[1])
sessions = sessionmaker(make_engine(url))
sequencer.run_once(sessions, settings, batch=7, lease=timedelta(seconds=1))
"""


@dataclass
class Store:
    url: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def record(self, n: int, start: int = 0) -> None:
        with self.sessions() as session:
            for i in range(start, start + n):
                person = subjects.person(session, self.settings, f"p{i}@example.com")
                choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
                ledger.record(
                    session, self.settings, person, choice, ledger.Collected(Interface.API)
                )
            session.commit()

    def positions(self) -> list[int | None]:
        with self.sessions() as session:
            return list(
                session.scalars(select(ConsentEvent.position).order_by(ConsentEvent.position))
            )

    def heads(self) -> list[int]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ConsentTreeHead.tree_size).order_by(ConsentTreeHead.tree_size)
                )
            )


@pytest.fixture
def store(postgres_url: str, tmp_path: Path) -> Iterator[Store]:
    settings = Settings(
        database_url=postgres_url, secret_key=secrets.token_urlsafe(40), data_dir=tmp_path
    )
    engine = make_engine(postgres_url)
    upgrade(engine)
    made = Store(postgres_url, settings, engine, sessionmaker(engine))
    with made.sessions() as session:
        catalog.ensure_built_in(session)
        session.commit()
    yield made
    engine.dispose()


def _waiting_mid_batch(store: Store) -> bool:
    """The child's transaction is blocked on our lock after writing positions and nodes."""
    with store.engine.connect() as conn:
        blocked = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'killed-sequencer'"
                " AND wait_event_type = 'Lock'"
            )
        )
        wrote_nodes = conn.scalar(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE a.application_name = 'killed-sequencer' AND l.granted "
                "AND l.relation = 'consent_log_nodes'::regclass AND l.mode = 'RowExclusiveLock'"
            )
        )
    return bool(blocked) and bool(wrote_nodes)


def test_a_sequencer_killed_mid_batch_is_resumed_without_gaps_or_duplicates(store: Store) -> None:
    store.record(10)
    assert sequencer.run_once(store.sessions, store.settings, batch=5) == 10
    store.record(20, start=10)
    env = os.environ | {"LOG_URL": store.url, "LOG_SECRET": store.settings.secret_key}
    with store.engine.connect() as lock:
        lock.execute(text("LOCK TABLE signing_keys IN ACCESS EXCLUSIVE MODE"))  # signing waits
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(store.settings.data_dir)], env=env
        )
        deadline = time.monotonic() + 60
        while not _waiting_mid_batch(store):
            assert child.poll() is None and time.monotonic() < deadline, "never reached mid-batch"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
        lock.rollback()
    assert store.positions().count(None) == 20  # the killed batch left nothing behind
    deadline, done = time.monotonic() + 60, 0
    while done < 20:  # the dead child's lease runs out after a second; then the log moves on
        assert time.monotonic() < deadline, "the log never moved on after the kill"
        done += sequencer.run_once(store.sessions, store.settings, batch=7)
        time.sleep(0.2)
    assert store.positions() == list(range(30))
    assert store.heads() == [5, 10, 17, 24, 30]
    with store.sessions() as session:
        assert ledger.verify(session, store.settings).intact


def test_a_backlog_is_sequenced_in_one_run_in_growing_batches(store: Store) -> None:
    store.record(25)
    assert sequencer.run_once(store.sessions, store.settings, first=2, most=8) == 25
    assert store.positions() == list(range(25))  # arrival order, no gap, nothing twice
    assert store.heads() == [2, 6, 14, 22, 25]  # 2, 4, 8, 8, then what was left
    store.record(3, start=25)
    assert sequencer.run_once(store.sessions, store.settings, first=2, most=8) == 3
    assert store.heads() == [2, 6, 14, 22, 25, 27, 28]  # a new run starts small again
    with store.sessions() as session:
        assert ledger.verify(session, store.settings).intact
        head = tree.latest_head(session)
        assert head is not None
        for position in (0, 13, 27):
            event = session.scalars(select(ConsentEvent).filter_by(position=position)).one()
            path = [bytes.fromhex(h) for h in tree.inclusion_proof(session, position, 28)]
            leaf = log_entry.leaf(log_entry.entry(event, position))
            assert merkle.verify_inclusion(position, 28, leaf, path, bytes.fromhex(head.root_hash))
        for older in (2, 6, 14, 22, 25, 27):
            proof = [bytes.fromhex(h) for h in tree.consistency_proof(session, older, 28)]
            was = tree.head_of(session, older)
            assert was is not None
            assert merkle.verify_consistency(
                older, 28, bytes.fromhex(was.root_hash), bytes.fromhex(head.root_hash), proof
            )


def test_sequencers_racing_each_round_one_wins_the_batch(store: Store) -> None:
    sessions = [sessionmaker(make_engine(store.url)) for _ in range(2)]
    for round_ in range(5):
        store.record(6, start=round_ * 6)
        start = threading.Barrier(2)
        won: list[int] = []

        def race(n: int, start: threading.Barrier, won: list[int]) -> None:
            start.wait()
            won.append(sequencer.run_once(sessions[n], store.settings, batch=6))

        threads = [threading.Thread(target=race, args=(n, start, won)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(won) == [0, 6]  # one sequenced the whole batch; the other nothing
    assert store.positions() == list(range(30))
    assert store.heads() == [6, 12, 18, 24, 30]
    with store.sessions() as session:
        assert ledger.verify(session, store.settings).intact
    for s in sessions:
        s.kw["bind"].dispose()


def test_a_sequencer_whose_lease_was_taken_over_commits_nothing(store: Store) -> None:
    store.record(4)
    with store.sessions() as slow:
        stale = claims.claim(
            slow, ConsentSequencer, lease=timedelta(seconds=30), grace=timedelta(hours=1), limit=1
        )
        assert stale.ids == [1]
        with store.engine.begin() as conn:  # its lease runs out (it stalled)
            conn.execute(
                update(ConsentSequencer).values(claimed_until=utcnow() - timedelta(minutes=1))
            )
        assert (
            sequencer.run_once(store.sessions, store.settings, batch=3) == 4
        )  # another takes over
        store.record(2, start=4)
        taken = sequencer._batch(
            slow, store.settings, stale.holder, stale.until, timedelta(seconds=30), 10
        )
        assert taken[0] == 0
    assert store.positions() == [0, 1, 2, 3, None, None]
    assert store.heads() == [3, 4]
