"""The integrity logs' heads anchored outside the store: a log cut short with its heads rewritten
(or, for the consent log, rolled back to an older genuinely signed head) is found, a log grown
since its anchor passes, an anchor whose signature fails is reported and not trusted, and an
anchor signed before a key rotation still verifies after its key is retired."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.consent import catalog, ledger, log_check, sequencer, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentEvent, ConsentLogNode, ConsentTreeHead
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.migrations import upgrade
from rightful.security import anchors, audit, chain, keys, rotation
from rightful.security.chain_check import Verdict
from rightful.security.models import AuditEvent

ROWS = 6


@dataclass
class Store:
    """A fresh store with six audit events, its anchors in their own folder."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def add(self, n: int = 1) -> None:
        with self.sessions() as session:
            for i in range(n):
                audit.record(session, actor="t", action=f"a{i}", subject_type="t", subject_id="1")
            session.commit()

    def verify(self, *, anchor: bool = False, anchors_read: bool = True) -> Verdict:
        with self.sessions() as session:
            settings = self.settings if anchors_read else None
            found = audit.verify_chain(session, settings, anchor=anchor)
            session.commit()  # the anchor key's public half, recorded on first use
            return found

    def anchor_lines(self) -> list[str]:
        path = anchors.path_of(self.settings, anchors.AUDIT)
        return path.read_text().splitlines() if path.exists() else []

    def ids(self) -> list[int]:
        with self.sessions() as session:
            return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))

    def cut_tail(self, rows: int) -> int:
        """Delete the newest rows and rewrite the head to the shorter chain, as someone with the
        database would; the newest id left."""
        ids = self.ids()
        with self.engine.begin() as conn:
            conn.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids[-rows:])))
            last = conn.scalar(select(AuditEvent.hash).where(AuditEvent.id == ids[-rows - 1]))
            conn.execute(
                text("UPDATE audit_chain_head SET events = :n, last_hash = :h WHERE id = :c"),
                {"n": len(ids) - rows, "h": last, "c": chain.AUDIT_CHAIN},
            )
        return ids[-rows - 1]


def _store(url: str, folder: Path) -> Iterator[Store]:
    settings = Settings(
        data_dir=folder,
        secret_key=secrets.token_urlsafe(40),
        kek=keys.new_kek(),
        key_cache_seconds=0,
        audit_anchor_dir=folder / "elsewhere",
    )
    engine = make_engine(url or settings.resolved_database_url)
    upgrade(engine)
    made = Store(settings, engine, sessionmaker(engine))
    made.add(ROWS)
    yield made
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from _store("", tmp_path)


@pytest.fixture
def pg_store(postgres_url: str, tmp_path: Path) -> Iterator[Store]:
    yield from _store(postgres_url, tmp_path)


# --- The audit log -------------------------------------------------------------------------


def _deleted_tail_with_a_rewritten_head_is_found(store: Store) -> None:
    assert store.verify(anchor=True).intact
    [line] = store.anchor_lines()
    assert json.loads(line)["events"] == ROWS
    newest_left = store.cut_tail(2)
    assert store.verify(anchors_read=False).intact  # the store alone holds together
    verdict = store.verify(anchor=True)
    assert not verdict.intact
    assert (verdict.problem, verdict.broken_at) == ("shorter_than_anchored", newest_left)
    assert verdict.message.startswith("The log holds fewer events than it did on ")
    assert f": 2 events at the end are missing (it held {ROWS}, anchored on line 1" in (
        verdict.message
    )
    assert store.anchor_lines() == [line]  # a broken log is never anchored


def test_a_deleted_tail_with_a_rewritten_head_is_found_by_the_anchor(store: Store) -> None:
    _deleted_tail_with_a_rewritten_head_is_found(store)


@pytest.mark.postgres
def test_a_deleted_tail_with_a_rewritten_head_is_found_by_the_anchor_on_postgres(
    pg_store: Store,
) -> None:
    _deleted_tail_with_a_rewritten_head_is_found(pg_store)


def test_a_log_grown_since_its_anchor_passes_and_is_anchored_again(store: Store) -> None:
    store.verify(anchor=True)
    store.add(3)
    verdict = store.verify(anchor=True)
    assert verdict.intact and verdict.events == ROWS + 3 and verdict.anchored is not None
    assert [json.loads(line)["events"] for line in store.anchor_lines()] == [ROWS, ROWS + 3]
    store.verify(anchor=True)  # nothing new: nothing appended
    assert len(store.anchor_lines()) == 2


def test_events_rewritten_with_their_hashes_recomputed_differ_from_the_anchor(
    store: Store,
) -> None:
    store.verify(anchor=True)
    ids = store.ids()
    with store.sessions() as session:  # the third event edited, every hash after it recomputed
        rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        rows[2].actor = "someone else"
        prev = rows[1].hash
        for row in rows[2:]:
            row.prev_hash, row.hash = prev, audit._digest(prev, row)
            prev = row.hash
        session.execute(
            update(chain._HEADS)
            .where(chain._HEADS.c.id == chain.AUDIT_CHAIN)
            .values(last_hash=prev)
        )
        session.commit()
    assert store.verify(anchors_read=False).intact
    verdict = store.verify()
    assert (verdict.problem, verdict.broken_at) == ("differs_from_anchor", ids[-1])
    assert verdict.message.startswith(f"Event {ids[-1]} differs from the one anchored on ")


def test_a_forged_anchor_is_reported_and_not_trusted(store: Store) -> None:
    store.verify(anchor=True)
    [genuine] = store.anchor_lines()
    forged = json.loads(genuine) | {"events": ROWS + 50}  # signed for ROWS, claims more
    path = anchors.path_of(store.settings, anchors.AUDIT)
    path.write_text(f"{genuine}\n{json.dumps(forged)}\n")
    verdict = store.verify(anchor=True)
    assert (verdict.intact, verdict.problem) == (False, "forged_anchor")
    assert verdict.message == (
        f"Line 2 of {path} is not a head of the audit log signed by one of our keys: the anchor "
        "was forged or changed, and was not trusted."
    )
    assert len(store.anchor_lines()) == 2  # nothing anchored over it


def test_an_anchor_signed_before_a_key_rotation_verifies_after_its_key_is_retired(
    store: Store,
) -> None:
    store.verify(anchor=True)
    rotation.rotate(store.sessions, store.settings, [], actor="test")
    rotation.retire(store.sessions, store.settings, [], keys.DERIVED, actor="test")
    store.add(2)
    verdict = store.verify(anchor=True)
    assert verdict.intact and verdict.anchored is not None
    old, new = (json.loads(line) for line in store.anchor_lines())
    assert old["key_id"] != new["key_id"]
    store.cut_tail(len(store.ids()) - ROWS + 1)  # below the first anchor, the retired key's
    path = anchors.path_of(store.settings, anchors.AUDIT)
    path.write_text(json.dumps(old) + "\n")
    verdict = store.verify()
    assert verdict.problem == "shorter_than_anchored" and "anchored on line 1" in verdict.message


# --- The consent log -----------------------------------------------------------------------


def _record(store: Store, start: int, n: int) -> None:
    with store.sessions() as session:
        catalog.ensure_built_in(session)
        for i in range(start, start + n):
            person = subjects.person(session, store.settings, f"person{i}@example.com")
            choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
            ledger.record(session, store.settings, person, choice, ledger.Collected(Interface.API))
        session.commit()
    sequencer.run_once(store.sessions, store.settings, batch=3)


def _consent(store: Store, *, anchored: bool = True, anchor: bool = False) -> Verdict:
    with store.sessions() as session:
        return log_check.verify(session, store.settings if anchored else None, anchor=anchor)


def test_the_consent_log_rolled_back_to_an_older_signed_head_is_found(store: Store) -> None:
    _record(store, 0, 3)
    _record(store, 3, 3)
    assert _consent(store, anchor=True).intact
    with store.engine.begin() as conn:  # the newest batch deleted, its head and leaves too
        conn.execute(text("DELETE FROM consent_states"))
        conn.execute(delete(ConsentEvent).where(ConsentEvent.position >= 3))
        conn.execute(delete(ConsentTreeHead).where(ConsentTreeHead.tree_size > 3))
        conn.execute(
            delete(ConsentLogNode).where(ConsentLogNode.level == 0, ConsentLogNode.number >= 3)
        )
    assert _consent(store, anchored=False).intact  # an older head, genuinely signed, holds
    verdict = _consent(store)
    assert (verdict.intact, verdict.problem, verdict.position) == (False, "missing_at_end", 3)
    assert verdict.message.startswith("The log holds fewer events than it did on ")
    assert "3 events at the end are missing; the log ends at event" in verdict.message


def test_a_forged_consent_anchor_is_reported(store: Store) -> None:
    _record(store, 0, 3)
    assert _consent(store, anchor=True).intact
    path = anchors.path_of(store.settings, anchors.CONSENT)
    record = json.loads(path.read_text()) | {"hash": "0" * 64}
    path.write_text(json.dumps(record) + "\n")
    verdict = _consent(store)
    assert (verdict.intact, verdict.problem) == (False, "forged_anchor")
    assert "Line 1 of" in verdict.message and "consent log" in verdict.message
