"""What a connected store already holds comes into the ledger, and the two stay in step: the
demo's marketing database, on SQLite and on PostgreSQL, is read when its destination is added
and at every import pass after; a change made there reaches the ledger, and a person's own
later choice is never overridden by it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select, text

from rightful.connectors.sql import dispose_all
from rightful.consent import destinations, ledger, receipts, service, store_import, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.deliver import deliver_due
from rightful.consent.models import ConsentDelivery, ConsentEvent, ConsentStoreImport
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import SYSTEMS
from rightful.demo.setup import data_map_files
from rightful.inventory import service as inventory
from rightful.security.permissions import system_actor
from tests.support.app import make_settings, prepare

AVERY = "avery.quinn@example.com"  # demo estate: product_news subscribed, offers unsubscribed
JORDAN = "jordan.lee@example.com"  # demo estate: newsletter subscribed
STORE = "engagement_subscriptions"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def estate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Runtime, str]]:
    """Rightful with the demo's data map and consent catalogue (its store destination added),
    its company databases on SQLite or all in one PostgreSQL database; and the engagement URL."""
    if request.param == "sqlite":
        (tmp_path / "estate").mkdir()
        urls = {key: f"sqlite:///{tmp_path}/estate/{key}.db" for key in SYSTEMS}
    else:
        shared = request.getfixturevalue("postgres_url")
        urls = dict.fromkeys(SYSTEMS, shared)
    runtime = prepare(make_settings(tmp_path), urls, people=40)
    yield runtime, urls["engagement"]
    runtime.engine.dispose()
    dispose_all()


def run_imports(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return store_import.import_due(session, runtime.settings)


def deliver(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return deliver_due(session, runtime.settings)


def history(runtime: Runtime, email: str) -> list[ConsentEvent]:
    """The person's events, oldest first."""
    with runtime.sessions() as session:
        person = subjects.find_person(session, runtime.settings, email)
        if person is None:
            return []
        stmt = select(ConsentEvent).where(ConsentEvent.subject_id == person.id)
        return list(session.scalars(stmt.order_by(ConsentEvent.id)))


def allowed(runtime: Runtime, email: str, purpose: str) -> bool:
    with runtime.sessions() as session:
        return service.check(
            session, runtime.settings, purpose=purpose, channel="email", email=email
        ).allowed


def choose(runtime: Runtime, email: str, purpose: str, state: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        person = subjects.person(session, runtime.settings, email)
        ledger.record(
            session,
            runtime.settings,
            person,
            [ledger.Choice(purpose, "email", State(state))],
            ledger.Collected(interface=Interface.PREFERENCE_CENTER),
        )


def store_rows(url: str, email: str) -> dict[str, tuple[str, str]]:
    """topic → (status, source), as the marketing database holds them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT topic, status, source FROM marketing_subscriptions WHERE email = :email"
                ),
                {"email": email},
            )
            return {topic: (status, source) for topic, status, source in rows}
    finally:
        engine.dispose()


def change_in_store(url: str, email: str, topic: str, status: str, at: datetime | None) -> None:
    """What the newsletter tool does on its own: a row changed, dated (or not)."""
    sets = "status = :status" + (", updated_at = :at" if at else "")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(f"UPDATE marketing_subscriptions SET {sets} WHERE email = :e AND topic = :t"),  # noqa: S608 (fixed fragments only)
                {"status": status, "e": email, "t": topic, "at": at and at.replace(tzinfo=None)},
            )
    finally:
        engine.dispose()


@contextmanager
def later(**delta: float) -> Iterator[None]:
    """Run the block as if this much time had passed."""
    clock.freeze(clock.utcnow() + timedelta(**delta))
    try:
        yield
    finally:
        clock.freeze(None)


def test_a_subscription_the_store_holds_is_imported_with_its_source_and_date(
    estate: tuple[Runtime, str],
) -> None:
    runtime, _ = estate
    assert not allowed(runtime, AVERY, "marketing.product_news")  # nothing known yet
    assert run_imports(runtime) > 0
    [event] = history(runtime, AVERY)
    assert (event.purpose, event.channel, event.state) == (
        "marketing.product_news",
        "email",
        "given",
    )
    assert event.interface == "import"
    assert event.proof["source"] == STORE
    assert event.proof["source_name"] == "Marketing e-mail subscriptions"
    assert event.proof["value"] == "subscribed"
    dated = datetime.fromisoformat(event.proof["dated"])
    assert dated < event.at - timedelta(days=1000)  # her row's own date, not the import's
    # Her "offers: unsubscribed" row says what the ledger already says (the default): nothing.
    assert allowed(runtime, AVERY, "marketing.product_news")
    assert not allowed(runtime, AVERY, "marketing.offers")
    assert [e.purpose for e in history(runtime, JORDAN)] == ["marketing.newsletter"]


def test_an_import_is_proven_by_the_chain_and_not_sent_back_to_its_store(
    estate: tuple[Runtime, str],
) -> None:
    runtime, _ = estate
    run_imports(runtime)
    with runtime.sessions() as session:
        assert ledger.verify(session).intact
        person = subjects.find_person(session, runtime.settings, AVERY)
        assert person is not None
        record = receipts.receipt(session, runtime.settings, person)
        [event] = record["events"]
        assert (event["collection_method"], event["event_by"]) == ("import", "controller")
        assert session.scalars(select(ConsentDelivery)).all() == []
        schedule = session.get(ConsentStoreImport, STORE)
        assert schedule is not None and schedule.imported > 0 and schedule.last_error is None


def test_a_persons_later_withdrawal_beats_the_stores_older_subscription(
    estate: tuple[Runtime, str],
) -> None:
    runtime, url = estate
    choose(runtime, AVERY, "marketing.product_news", "withdrawn")
    run_imports(runtime)
    assert [e.interface for e in history(runtime, AVERY)] == ["preference_center"]
    assert not allowed(runtime, AVERY, "marketing.product_news")
    deliver(runtime)  # and the store is brought in line with her
    assert store_rows(url, AVERY)["product_news"] == ("unsubscribed", "rightful")


def test_a_change_made_in_the_store_after_the_persons_choice_is_imported_at_the_next_pass(
    estate: tuple[Runtime, str],
) -> None:
    runtime, url = estate
    run_imports(runtime)
    choose(runtime, JORDAN, "marketing.offers", "given")
    deliver(runtime)
    with later(minutes=1):
        # Jordan unsubscribes from the newsletter tool's own link, a minute later.
        change_in_store(url, JORDAN, "newsletter", "unsubscribed", clock.utcnow())
    assert run_imports(runtime) == 0  # not its turn yet
    with later(minutes=11):
        assert run_imports(runtime) == 1
    last = history(runtime, JORDAN)[-1]
    assert (last.purpose, last.state, last.interface) == (
        "marketing.newsletter",
        "withdrawn",
        "import",
    )
    assert not allowed(runtime, JORDAN, "marketing.newsletter")


def test_a_delivery_imports_a_newer_change_in_the_store_instead_of_writing_over_it(
    estate: tuple[Runtime, str],
) -> None:
    runtime, url = estate
    choose(runtime, AVERY, "marketing.product_news", "given")
    deliver(runtime)
    with later(minutes=5):
        change_in_store(url, AVERY, "product_news", "unsubscribed", clock.utcnow())
        choose(runtime, AVERY, "marketing.offers", "given")  # any later change goes out
        deliver(runtime)
    rows = store_rows(url, AVERY)
    assert rows["product_news"][0] == "unsubscribed"  # her newer unsubscribe stands
    assert rows["offers"] == ("subscribed", "rightful")
    imported = [e for e in history(runtime, AVERY) if e.interface == "import"]
    assert [(e.purpose, e.state) for e in imported][-1:] == [
        ("marketing.product_news", "withdrawn")
    ]


def test_no_marketing_at_all_is_never_lifted_by_a_store(estate: tuple[Runtime, str]) -> None:
    runtime, url = estate
    choose(runtime, AVERY, "marketing", "withdrawn")
    with later(minutes=5):
        change_in_store(url, AVERY, "product_news", "subscribed", clock.utcnow())
        run_imports(runtime)
    assert [e.interface for e in history(runtime, AVERY)] == ["preference_center"]
    assert not allowed(runtime, AVERY, "marketing.product_news")


KEYLESS_UNDATED = """
  - key: engagement_subscriptions
    name: Marketing e-mail subscriptions
    kind: store
    target:
      system: engagement
      collection: marketing_subscriptions
      identity_field: email
      channel: email
      match:
        topic:
          marketing.newsletter: newsletter
          marketing.offers: offers
          marketing.product_news: product_news
      field: status
      values: {given: subscribed, withdrawn: unsubscribed}
"""


def keyless_and_undated(runtime: Runtime) -> None:
    """The marketing table as a data map that declares neither its key nor a date, and a
    destination that stamps nothing."""
    files = []
    for name, body in data_map_files():
        if name == "engagement.yml":
            document = yaml.safe_load(body)
            for coll in document["dataset"][0]["collections"]:
                if coll["name"] == "marketing_subscriptions":
                    coll["rightful"].pop("date_field")
                    for f in coll["fields"]:
                        f.get("fides_meta", {}).pop("primary_key", None)
            body = yaml.safe_dump(document, sort_keys=False)
        files.append((name, body))
    with unit_of_work(runtime.sessions) as session:
        inventory.apply_files(session, files=files, actor=system_actor("test"))
    with unit_of_work(runtime.sessions) as session:
        specs = destinations.parse_destinations("destinations:" + KEYLESS_UNDATED)
        assert specs is not None
        destinations.apply_destinations(session, specs)


def test_a_store_without_a_key_or_dates_is_imported_written_and_never_beats_the_person(
    estate: tuple[Runtime, str],
) -> None:
    runtime, url = estate
    keyless_and_undated(runtime)
    run_imports(runtime)
    assert [e.interface for e in history(runtime, JORDAN)] == ["import"]
    choose(runtime, JORDAN, "marketing.newsletter", "withdrawn")
    deliver(runtime)  # written through the address, topic and old value: no key needed
    assert store_rows(url, JORDAN)["newsletter"][0] == "unsubscribed"
    with later(minutes=1):
        change_in_store(url, JORDAN, "newsletter", "subscribed", None)
    with later(minutes=11):
        run_imports(runtime)  # undated: it cannot show it is newer than Jordan's own choice
    assert not allowed(runtime, JORDAN, "marketing.newsletter")
    assert [e.interface for e in history(runtime, JORDAN)] == ["import", "preference_center"]
