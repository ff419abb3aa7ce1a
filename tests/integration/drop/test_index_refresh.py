"""The DROP index stays current between cycles without being rebuilt: people added, changed or
erased in the stores after it was built are matched as they are now at the next import, and
only what changed is rewritten (docs/drop.md, "The index between cycles")."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from rightful.connectors.sql import dispose_all
from rightful.core import clock
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import SYSTEMS
from rightful.drop import service
from rightful.drop.hashing import ListType, list_hash
from rightful.drop.models import DropIndexEntry, DropWorkItem
from rightful.drop.refresh import index_status, refresh, refresh_if_due
from rightful.drop.service import Imported
from rightful.inventory.revision import bump_revision
from rightful.rights.models import RightsRequest
from rightful.security.permissions import system_actor
from tests.integration.drop.test_cycle import AVERY, run_all
from tests.support.app import make_settings, prepare

ACTOR = system_actor("drop-test")


@dataclass
class Broker:
    """A Rightful on PostgreSQL or SQLite with the demo estate on SQLite, importing lists."""

    runtime: Runtime
    store: Engine
    folder: Path
    cycles: int = 0

    def sql(self, statement: str, **values: object) -> None:
        with self.store.begin() as conn:
            conn.execute(text(statement), values)

    def add_customer(self, key: int, email: str) -> None:
        self.sql(
            "INSERT INTO customers (id, email, first_name, last_name, password_hash, created_at)"
            " VALUES (:id, :e, 'Sam', 'Rivera', 'x', '2026-12-05 10:00:00')",
            id=key,
            e=email,
        )

    def import_emails(self, *emails: str) -> tuple[Imported, list[str]]:
        """Import a list of these addresses' hashes; the import and the work item ids."""
        self.cycles += 1
        ids = ["".join(secrets.choice(string.ascii_letters) for _ in range(12)) for _ in emails]
        listed = self.folder / f"202612{self.cycles:02d}_4821_Email.csv"
        listed.write_text(
            "ID,Hash\n"
            + "".join(
                f"{i},{list_hash(ListType.EMAIL, {'email': e})}\n"
                for i, e in zip(ids, emails, strict=True)
            )
        )
        with unit_of_work(self.runtime.sessions) as session:
            done = service.import_list(session, self.runtime.settings, path=listed, actor=ACTOR)
        return done, ids

    def outcome(self, item_id: str) -> str:
        with self.runtime.sessions() as session:
            return str(
                session.scalar(select(DropWorkItem.outcome).where(DropWorkItem.item_id == item_id))
            )

    def code(self, item_id: str) -> int | None:
        with self.runtime.sessions() as session:
            return session.scalar(select(DropWorkItem.code).where(DropWorkItem.item_id == item_id))

    def drop_requests(self) -> int:
        with self.runtime.sessions() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(RightsRequest)
                    .where(RightsRequest.channel == "drop")
                )
                or 0
            )

    def indexed(self, email: str) -> int:
        """Index entries holding this address's hash."""
        digest = list_hash(ListType.EMAIL, {"email": email})
        with self.runtime.sessions() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(DropIndexEntry)
                    .where(DropIndexEntry.hash == digest)
                )
                or 0
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    store: dict[str, object] = {}
    if request.param == "postgres":
        store["database_url"] = request.getfixturevalue("postgres_url")
    (tmp_path / "estate").mkdir()
    urls = {key: f"sqlite:///{tmp_path}/estate/{key}.db" for key in SYSTEMS}
    runtime = prepare(make_settings(tmp_path, **store), urls, people=40)
    built = Broker(runtime, create_engine(urls["storefront"]), tmp_path)
    yield built
    built.store.dispose()
    runtime.engine.dispose()
    dispose_all()


def test_a_person_added_after_the_index_was_built_is_matched_at_the_next_import(
    broker: Broker,
) -> None:
    first, _ = broker.import_emails("nobody@example.org")
    assert first.index_rewritten == first.indexed > 0  # built: everything written
    broker.add_customer(901, "sam.rivera@example.net")
    done, [sam] = broker.import_emails("sam.rivera@example.net")
    assert done.matched == 1 and broker.outcome(sam) == "matched"
    assert broker.drop_requests() == 1
    # Refreshed, not rebuilt: Sam's bucket only, a sliver of the index.
    assert 0 < done.index_rewritten < done.indexed / 10


def test_a_changed_email_is_matched_by_its_new_hash_and_the_old_one_finds_nobody(
    broker: Broker,
) -> None:
    broker.add_customer(902, "old.address@example.net")
    broker.import_emails("nobody@example.org")
    assert broker.indexed("old.address@example.net") == 1
    broker.sql("UPDATE customers SET email = 'new.address@example.net' WHERE id = 902")
    done, [new, old] = broker.import_emails("new.address@example.net", "old.address@example.net")
    assert (broker.outcome(new), broker.outcome(old)) == ("matched", "not_found")
    assert broker.indexed("old.address@example.net") == 0
    assert broker.indexed("new.address@example.net") == 1
    assert done.matched == 1


def test_an_erased_person_is_not_matched_again_nor_deleted_twice(broker: Broker) -> None:
    first, _ = broker.import_emails(AVERY)
    assert first.matched == 1 and broker.indexed(AVERY) > 0
    run_all(broker.runtime)  # the deletion runs: Avery's rows leave the stores
    done, [again] = broker.import_emails(AVERY)
    assert broker.indexed(AVERY) == 0  # her entries left the index with her rows
    assert (done.matched, done.deleted_again) == (0, 0)
    assert broker.drop_requests() == 1  # no second deletion
    # Her new work item is answered by the first deletion (its kept hash), not a new one.
    assert (broker.outcome(again), broker.code(again)) == ("done", 3)


def test_a_refresh_with_nothing_changed_rewrites_nothing(broker: Broker) -> None:
    broker.import_emails("nobody@example.org")
    with unit_of_work(broker.runtime.sessions) as session:
        done = refresh(session, broker.runtime.settings)
    assert (done.full, done.rewritten) == (False, 0)
    assert done.entries > 0


def test_a_data_map_change_builds_the_index_anew(broker: Broker) -> None:
    first, _ = broker.import_emails("nobody@example.org")
    with unit_of_work(broker.runtime.sessions) as session:
        bump_revision(session)  # e.g. a field annotated with another data category
    with unit_of_work(broker.runtime.sessions) as session:
        assert index_status(session).why_stale == "the data map changed since"
        done = refresh(session, broker.runtime.settings)
    assert done.full and done.rewritten == done.entries == first.indexed
    with broker.runtime.sessions() as session:
        assert not index_status(session).stale


def test_the_worker_refreshes_the_index_daily_while_drop_is_in_use(broker: Broker) -> None:
    broker.import_emails("nobody@example.org")
    settings = broker.runtime.settings
    with broker.runtime.sessions() as session:
        assert refresh_if_due(session, settings) is None  # refreshed by the import just now
    broker.add_customer(903, "new.person@example.net")
    clock.freeze(utcnow() + timedelta(days=1, minutes=1))
    try:
        with broker.runtime.sessions() as session:
            assert index_status(session).why_stale == "not refreshed for a day"
            done = refresh_if_due(session, settings)
        assert done is not None and not done.full and done.rewritten > 0
        assert broker.indexed("new.person@example.net") == 1
        with broker.runtime.sessions() as session:
            assert not index_status(session).stale
    finally:
        clock.freeze(None)
