"""Each process caches the consent catalogue, yet a change made through another process is seen
by its very next check or recorded choice; a change never committed is never seen at all.

Two engines on one store stand for two server processes: the one that changes the catalogue
never fills the cache, so the other's cached copy is stale unless the revision is honoured."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from rightful.consent import catalog, destinations, ledger, service, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentDelivery
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.core.errors import InvalidInputError
from rightful.migrations import upgrade

PERSON = "casey.lin@example.com"


def _catalogue(default: str = "withdrawn", channels: str = "[email, sms]") -> catalog.CatalogFile:
    return catalog.parse(
        f"""
purposes:
  - key: marketing.offers
    kind: marketing
    title: Offers
    channels: {channels}
    default: {default}
"""
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, Engine, Settings]]:
    """The engines of two processes serving one store (SQLite, then PostgreSQL)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.db"
    else:
        url = request.getfixturevalue("postgres_url")
    settings = Settings(data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))
    here, there = make_engine(url), make_engine(url)
    upgrade(here)
    with Session(here) as session:
        catalog.apply(session, _catalogue())
        session.commit()
    yield here, there, settings
    here.dispose()
    there.dispose()


def _check(engine: Engine, settings: Settings, channel: str = "email") -> Any:
    with Session(engine) as session:
        return service.check(
            session, settings, purpose="marketing.offers", channel=channel, email=PERSON
        )


def _record(engine: Engine, settings: Settings, channel: str) -> list[Any]:
    with Session(engine) as session:
        person = subjects.person(session, settings, PERSON)
        choice = ledger.Choice("marketing.offers", channel, State.GIVEN)
        events = ledger.record(session, settings, person, [choice], ledger.Collected(Interface.API))
        session.commit()
        return events


def test_a_default_changed_elsewhere_decides_the_next_check(
    two_processes: tuple[Engine, Engine, Settings],
) -> None:
    here, there, settings = two_processes
    assert _check(here, settings).reason == "default: not allowed"  # cached here now
    with Session(there) as session:
        catalog.apply(session, _catalogue(default="given"))
        session.commit()
    assert _check(here, settings).reason == "default: allowed"


def test_a_channel_withdrawn_elsewhere_is_refused_at_the_next_choice(
    two_processes: tuple[Engine, Engine, Settings],
) -> None:
    here, there, settings = two_processes
    assert len(_record(here, settings, "sms")) == 1  # cached here now
    with Session(there) as session:
        catalog.apply(session, _catalogue(channels="[email]"))
        session.commit()
    with pytest.raises(InvalidInputError, match="not offered on 'sms'"):
        _record(here, settings, "sms")


def test_a_destination_added_elsewhere_hears_of_the_next_choice(
    two_processes: tuple[Engine, Engine, Settings],
) -> None:
    here, there, settings = two_processes
    _record(here, settings, "sms")  # no destination yet; the catalogue is cached here now
    with Session(there) as session:
        spec = destinations.DestinationSpec(
            key="crm", name="The CRM", kind="webhook", url="https://crm.example.com/hook"
        )
        destinations.apply_destinations(session, [spec])
        session.commit()
    events = _record(here, settings, "email")
    with Session(here) as session:
        queued = session.scalars(select(ConsentDelivery.event_id)).all()
    assert queued == [events[0].id]


def test_a_change_rolled_back_is_never_seen(
    two_processes: tuple[Engine, Engine, Settings],
) -> None:
    here, _, settings = two_processes
    with Session(here) as session:
        catalog.apply(session, _catalogue(default="given"))
        inside = service.check(
            session, settings, purpose="marketing.offers", channel="email", email=PERSON
        )
        assert inside.reason == "default: allowed"  # the change's own transaction sees it
        session.rollback()
    assert _check(here, settings).reason == "default: not allowed"


def test_a_check_on_a_known_catalogue_is_one_statement(
    two_processes: tuple[Engine, Engine, Settings],
) -> None:
    here, _, settings = two_processes
    _record(here, settings, "email")
    _check(here, settings)  # the catalogue is cached from here on
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(here, "before_cursor_execute", count)
    try:
        decision = _check(here, settings)
    finally:
        event.remove(here, "before_cursor_execute", count)
    assert decision.allowed and decision.reason == "consent given"
    assert len(sent) == 1, sent
