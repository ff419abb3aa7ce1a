"""A check answers from one statement: the subject, its states and its person's, and both
suppression lists; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from rightful.consent import catalog, ledger, service, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.models import Suppression
from rightful.consent.suppression import erased as suppressed
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.core.errors import NotFoundError
from rightful.migrations import upgrade
from rightful.security.vault import keyed_hash

GONE = "Erased.Person@Example.com"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Settings]]:
    """A migrated store with the built-in purposes and marketing.offers."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.db"
    else:
        url = request.getfixturevalue("postgres_url")
    settings = Settings(data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        offers = "purposes: [{key: marketing.offers, kind: marketing, title: Offers, "
        catalog.apply(session, catalog.parse(offers + "channels: [email], default: given}]"))
        session.commit()
    yield engine, settings
    engine.dispose()


def test_an_erased_address_is_suppressed_for_marketing_only(
    store: tuple[Engine, Settings],
) -> None:
    engine, settings = store
    with Session(engine) as session:
        digest = keyed_hash(settings.secret_key, "suppression", GONE.lower())
        session.add(Suppression(identity_hash=digest, request_id="r1"))
        session.commit()
        assert suppressed(session, settings, [GONE]) == [GONE]  # as the erasure keeps it
        offers = service.check(
            session, settings, purpose="marketing.offers", channel="email", email=GONE
        )
        assert (offers.allowed, offers.reason) == (False, "on the suppression list")
        sale = service.check(session, settings, purpose="sale_share", channel="all", email=GONE)
        assert (sale.allowed, sale.reason) == (True, "default: allowed")


def test_a_browser_answers_for_its_persons_opt_out(store: tuple[Engine, Settings]) -> None:
    engine, settings = store
    with Session(engine) as session:
        person = subjects.person(session, settings, "pat@example.com")
        choice = ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)
        ledger.record(session, settings, person, [choice], ledger.Collected(Interface.API))
        browser = subjects.device(session, settings, "b" * 24)
        subjects.link_to_person(session, browser, person.id)
        session.commit()
        decision = service.check(
            session, settings, purpose="sale_share", channel="all", device_id="b" * 24
        )
        assert (decision.allowed, decision.reason) == (False, "consent withdrawn")
        unknown = service.check(
            session, settings, purpose="sale_share", channel="all", device_id="c" * 24
        )
        assert unknown.reason == "default: allowed"


def test_an_unknown_subject_id_is_not_found(store: tuple[Engine, Settings]) -> None:
    engine, settings = store
    with Session(engine) as session, pytest.raises(NotFoundError):
        service.check(session, settings, purpose="sale_share", channel="all", subject_id="0" * 32)
