"""The audit log's hash chain is held to its head: an edit, a deletion anywhere (the last rows
included), a reordering and an insertion are each found and located by `verify`. (The consent
ledger is a signed Merkle log now: tests/integration/consent/test_consent_log.py.)"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, delete, select, text, update
from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.migrations import upgrade
from rightful.security import audit
from rightful.security.chain_check import Verdict
from rightful.security.models import AuditEvent

ROWS = 6


@dataclass
class Chain:
    """One chain of a fresh store, and how to add to it, read it and forge a row of it."""

    name: str
    engine: Engine
    table: Table
    append: Callable[[Session, int], None]
    verify: Callable[[Session], Verdict]
    digest: Callable[[str, Any], str]
    settings: Settings | None = None  # the store's, for what needs its keys (anchors)

    def ids(self) -> list[int]:
        with Session(self.engine) as session:
            return list(session.scalars(select(self.table.c.id).order_by(self.table.c.id)))

    def verdict(self) -> Verdict:
        with Session(self.engine) as session:
            return self.verify(session)

    def add(self, n: int = 1) -> None:
        with Session(self.engine) as session:
            for i in range(n):
                self.append(session, i)
            session.commit()

    def row(self, row_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            found = conn.execute(select(self.table).where(self.table.c.id == row_id)).one()
            return dict(found._mapping)

    def forge(self, row_id: int, after: int) -> None:
        """Insert a row with id `row_id` that copies row `after` and chains onto it, its own
        hash correct: only the chain's links and head can tell it was not written by Rightful."""
        forged = self.row(after)
        if "uid" in forged:
            forged["uid"] = secrets.token_hex(16)
        forged |= {"id": row_id, "prev_hash": forged["hash"]}
        forged["hash"] = self.digest(forged["prev_hash"], _Row(forged))
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(forged))


class _Row:
    """A row's values as attributes, for a chain's digest."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _audit_chain(engine: Engine) -> Chain:
    def append(session: Session, i: int) -> None:
        audit.record(session, actor="test", action=f"step{i}", subject_type="t", subject_id="1")

    table = AuditEvent.__table__
    return Chain("audit", engine, table, append, audit.verify_chain, audit._digest)  # type: ignore[arg-type]


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    settings = Settings(data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    made = _audit_chain(engine)
    made.settings = settings
    made.add(ROWS)
    yield made
    engine.dispose()


def _delete(chain: Chain, *ids: int) -> None:
    with chain.engine.begin() as conn:
        conn.execute(delete(chain.table).where(chain.table.c.id.in_(ids)))


def test_an_untouched_chain_is_intact(chain: Chain) -> None:
    verdict = chain.verdict()
    assert verdict.intact and verdict.events == verdict.head_events == ROWS
    assert verdict.problem is None and verdict.broken_at is None


def test_an_edited_middle_row_is_found_at_that_row(chain: Chain) -> None:
    victim = chain.ids()[2]
    column = "actor" if chain.name == "audit" else "state"
    with chain.engine.begin() as conn:
        conn.execute(update(chain.table).where(chain.table.c.id == victim).values({column: "x"}))
    verdict = chain.verdict()
    assert not verdict.intact
    assert (verdict.problem, verdict.broken_at) == ("edited", victim)


def test_a_deleted_middle_row_is_found_at_the_row_after_it(chain: Chain) -> None:
    ids = chain.ids()
    _delete(chain, ids[2])
    verdict = chain.verdict()
    assert (verdict.problem, verdict.broken_at) == ("unlinked", ids[3])
    assert verdict.events == ROWS - 1 and verdict.head_events == ROWS
    assert "1 event(s) fewer than its head counts" in verdict.message


def test_a_deleted_last_row_is_found_missing_at_the_end(chain: Chain) -> None:
    ids = chain.ids()
    _delete(chain, ids[-1])
    verdict = chain.verdict()
    assert not verdict.intact
    assert (verdict.problem, verdict.broken_at) == ("missing_at_end", ids[-2])
    assert verdict.message.startswith("1 event missing at the end")


def test_the_last_rows_deleted_are_counted(chain: Chain) -> None:
    ids = chain.ids()
    _delete(chain, *ids[-3:])
    verdict = chain.verdict()
    assert (verdict.problem, verdict.broken_at) == ("missing_at_end", ids[-4])
    assert verdict.message.startswith("3 events missing at the end")


def test_every_row_deleted_is_found(chain: Chain) -> None:
    _delete(chain, *chain.ids())
    verdict = chain.verdict()
    assert (verdict.problem, verdict.events) == ("missing_at_end", 0)


def test_two_swapped_rows_are_found_at_the_first_of_them(chain: Chain) -> None:
    ids = chain.ids()
    first, second = chain.row(ids[2]), chain.row(ids[3])
    with chain.engine.begin() as conn:  # each row takes the other's place, ids and all
        if "uid" in first:  # unique: the second row's is set aside first
            conn.execute(update(chain.table).where(chain.table.c.id == ids[3]).values(uid="tmp"))
        for place, values in ((ids[2], second), (ids[3], first)):
            moved = {k: v for k, v in values.items() if k != "id"}
            conn.execute(update(chain.table).where(chain.table.c.id == place).values(moved))
    verdict = chain.verdict()
    assert (verdict.problem, verdict.broken_at) == ("unlinked", ids[2])


def test_a_row_added_after_the_newest_is_found_though_its_hash_holds(chain: Chain) -> None:
    last = chain.ids()[-1]
    chain.forge(last + 100, after=last)
    verdict = chain.verdict()
    assert (verdict.problem, verdict.broken_at) == ("unrecorded", last + 100)
    assert verdict.events == ROWS + 1 and verdict.head_events == ROWS


def test_a_row_inserted_between_two_is_found_at_the_next_genuine_row(chain: Chain) -> None:
    last = chain.ids()[-1]
    chain.forge(last + 100, after=last)
    chain.add()  # Rightful chains its next row onto its head, not onto the forged row
    verdict = chain.verdict()
    assert verdict.problem == "unlinked"
    assert verdict.broken_at == chain.ids()[-1] and verdict.broken_at > last + 100


def test_a_replaced_newest_row_is_found_by_the_head_hash(chain: Chain) -> None:
    ids = chain.ids()
    _delete(chain, ids[-1])
    chain.forge(ids[-1], after=ids[-2])  # same id and place, different content, hash holds
    verdict = chain.verdict()
    assert (verdict.problem, verdict.broken_at) == ("head_mismatch", ids[-1])


def test_a_deleted_tail_with_a_rewritten_head_is_found_once_the_head_is_anchored(
    chain: Chain,
) -> None:
    """What the head alone does not prove: an attacker who also rewrites the head row leaves a
    shorter chain that holds against it. The head anchored outside the store before the
    deletion (security/anchors.py; tests/integration/store/test_chain_anchors.py) finds it."""
    assert chain.settings is not None
    with Session(chain.engine) as session:
        assert audit.verify_chain(session, chain.settings, anchor=True).intact
        session.commit()
    ids = chain.ids()
    _delete(chain, ids[-1])
    previous = chain.row(ids[-2])["hash"]
    with chain.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_chain_head SET events = events - 1, last_hash = :h WHERE id = :c"),
            {"h": previous, "c": 1 if chain.name == "audit" else 2},
        )
    assert chain.verdict().intact  # the rows and their head alone hold together
    with Session(chain.engine) as session:
        verdict = audit.verify_chain(session, chain.settings)
    assert (verdict.intact, verdict.problem, verdict.broken_at) == (
        False,
        "shorter_than_anchored",
        ids[-2],
    )
    assert ": 1 event at the end is missing (it held 6, anchored on line 1" in verdict.message


def test_rows_committed_during_the_walk_are_not_taken_for_added_rows(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head is read before the walk and after it: a row another writer commits in between
    is counted by the second head, so it is not taken for a row added outside Rightful."""
    from rightful.security import chain_check

    original = chain_check.read_head
    reads: list[int] = []

    def read_head(session: Session, which: int) -> chain_check.Head:
        if reads:  # the read after the walk: another writer has committed a row meanwhile
            chain.add()
        reads.append(which)
        return original(session, which)

    monkeypatch.setattr(chain_check, "read_head", read_head)
    verdict = chain.verdict()
    assert verdict.intact and (verdict.events, verdict.head_events) == (ROWS, ROWS + 1)
