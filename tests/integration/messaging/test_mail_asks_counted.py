"""The mail limits count the same on every store: on PostgreSQL the ask is recorded by the
count's own statement, and it must refuse, count and skip exactly as the two statements do
on SQLite (a client over its limit refused and not counted; an address over it told so, and
the ask counted all the same)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rightful.core.db import make_engine
from rightful.core.errors import RateLimitedError
from rightful.messaging import limits
from rightful.migrations import upgrade
from tests.support.app import make_settings

LIMIT = limits.MailLimit("test-kind", per_address=3, per_client=2)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    url = (
        f"sqlite:///{tmp_path}/store.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as opened:
        yield opened
    engine.dispose()


def _asks(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(limits.MailAsk)) or 0)


def test_a_client_over_its_limit_is_refused_and_not_counted(
    session: Session, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)

    def ask(address: str) -> bool:
        return limits.may_send(session, settings, LIMIT, address=address, client="10.0.0.1")

    assert [ask("a@example.com"), ask("b@example.com")] == [True, True]
    with pytest.raises(RateLimitedError):
        ask("c@example.com")
    assert _asks(session) == 2
    session.commit()
    assert _asks(session) == 2


def test_an_address_over_its_limit_is_told_and_each_ask_counted(
    session: Session, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    answers = [
        limits.may_send(session, settings, LIMIT, address="a@example.com", client=None)
        for _ in range(5)
    ]
    assert answers == [True, True, True, False, False]
    session.commit()
    assert _asks(session) == 5
