"""The consent ledger on PostgreSQL: concurrent writers wait for no lock, the sequencer puts
every event in the signed log once, state is derivable, and an edited event is found."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.consent import catalog, ledger, sequencer, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentEvent, ConsentState, MarketingSuppression
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.migrations import upgrade

WORKERS, PEOPLE = 4, 15


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))


def record_concurrently(url: str, settings: Settings) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        catalog.ensure_built_in(session)
        session.commit()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(PEOPLE):
                with Session(engine) as session:
                    person = subjects.person(session, settings, f"p{n}-{i}@example.com")
                    choices = [
                        ledger.Choice(catalog.ALL_MARKETING, "email", State.WITHDRAWN),
                        ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN),
                    ]
                    ledger.record(
                        session, settings, person, choices, ledger.Collected(Interface.API)
                    )
                    session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as session:
        assert not errors, errors
        count = session.scalar(select(func.count()).select_from(ConsentEvent))
        assert count == WORKERS * PEOPLE * 2
        assert sequencer.run_once(sessionmaker(engine), settings, batch=25) == count
        positions = session.scalars(select(ConsentEvent.position).order_by(ConsentEvent.position))
        assert list(positions) == list(range(count))
        assert ledger.verify(session, settings).intact
        suppressed = session.scalar(select(func.count()).select_from(MarketingSuppression))
        assert suppressed == WORKERS * PEOPLE
        # The state is derived: rebuilding it from the ledger alone gives the same rows.
        before = set(
            session.execute(
                select(
                    ConsentState.subject_id,
                    ConsentState.purpose,
                    ConsentState.channel,
                    ConsentState.state,
                )
            )
        )
        assert ledger.rebuild_states(session) == len(before)
        after = set(
            session.execute(
                select(
                    ConsentState.subject_id,
                    ConsentState.purpose,
                    ConsentState.channel,
                    ConsentState.state,
                )
            )
        )
        assert after == before
        # Editing one event's state is caught at that event.
        victim = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id).offset(7)).first()
        assert victim is not None
        session.execute(
            update(ConsentEvent).where(ConsentEvent.id == victim.id).values(state="given")
        )
        session.commit()
        assert ledger.verify(session, settings).broken_at == victim.id
        # Put back, the log holds again.
        session.execute(text("DELETE FROM consent_states"))
        session.execute(
            update(ConsentEvent).where(ConsentEvent.id == victim.id).values(state="withdrawn")
        )
        session.commit()
        assert ledger.verify(session, settings).intact
    engine.dispose()


@pytest.mark.postgres
def test_concurrent_choices_all_reach_the_signed_log_on_postgres(
    postgres_url: str, tmp_path: Path
) -> None:
    record_concurrently(postgres_url, _settings(tmp_path))


def test_concurrent_choices_all_reach_the_signed_log_on_sqlite(tmp_path: Path) -> None:
    record_concurrently(f"sqlite:///{tmp_path}/consent.db", _settings(tmp_path))


@pytest.mark.postgres
def test_a_repeated_choice_is_not_written_twice(postgres_url: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    engine = make_engine(postgres_url)
    upgrade(engine)
    with Session(engine) as session:
        catalog.ensure_built_in(session)
        person = subjects.person(session, settings, "Same.Person@Example.com")
        choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
        first = ledger.record(session, settings, person, choice, ledger.Collected(Interface.API))
        again = ledger.record(session, settings, person, choice, ledger.Collected(Interface.GPC))
        session.commit()
        assert len(first) == 1 and again == []
        # The same address, written differently, is the same person.
        assert subjects.person(session, settings, " same.person@example.COM ").id == person.id
    engine.dispose()


@pytest.mark.postgres
def test_a_large_list_checked_by_copy_finds_the_same_as_in_chunks(
    postgres_url: str, tmp_path: Path
) -> None:
    from rightful.consent import suppression

    settings = _settings(tmp_path)
    engine = make_engine(postgres_url)
    upgrade(engine)
    with Session(engine) as session:
        catalog.ensure_built_in(session)
        for n in range(5):
            person = subjects.person(session, settings, f"gone{n}@example.com")
            purpose = catalog.ALL_MARKETING if n % 2 == 0 else "marketing"
            ledger.record(
                session,
                settings,
                person,
                [ledger.Choice(purpose, "email", State.WITHDRAWN)],
                ledger.Collected(Interface.API),
            )
        session.commit()
        digests = [subjects.email_sha256(f"gone{n}@example.com") for n in range(5)]
        digests += [f"{n:064x}" for n in range(2000)]
        by_copy = suppression.check_hashes(session, digests, copy_above=100)
        # The COPY path really ran: its temporary table exists until the transaction ends.
        assert session.scalar(text("SELECT to_regclass('rf_bulk_check')")) is not None
        session.commit()
        again = suppression.check_hashes(session, digests, copy_above=100)  # table is fresh
        in_chunks = suppression.check_hashes(session, digests, copy_above=10**9)
        assert by_copy == again == in_chunks == set(digests[:5])
    engine.dispose()
