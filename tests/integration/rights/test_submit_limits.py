"""A new request's code and its mail ask are counted in one statement on PostgreSQL
(limits.ask_along), in two on SQLite: both stores refuse the same submissions with the same
words, the code's limit before the mail's, and a refused one leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from rightful.core.db import make_engine
from rightful.core.errors import RateLimitedError
from rightful.identity.models import VerificationCode
from rightful.messaging.limits import MailAsk
from rightful.migrations import upgrade
from rightful.rights import flows
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from tests.support.app import AVERY, make_settings

ACCESS = {
    "request_type": "access",
    "declaration_signature": "Avery Quinn",
    "channel": "api",
    "date_range": "all",
    **AVERY,
}
CODES = "Too many codes were sent to this address"
ASKS = "We have had several requests for this e-mail address"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path}/store.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    made = make_engine(url)
    upgrade(made)
    yield made
    made.dispose()


def _submissions(engine: Engine, tmp_path: Path, codes: int, asks: int) -> list[str]:
    settings = make_settings(
        tmp_path, codes_per_identity_per_hour=codes, requests_per_address_per_hour=asks
    )
    answers = []
    for _ in range(3):
        with Session(engine) as session:
            data = RequestIn(**ACCESS)
            try:
                flows.submit(session, settings, data, client="10.0.0.9")
                session.commit()
                answers.append("ok")
            except RateLimitedError as refused:
                session.rollback()
                answers.append(str(refused))
    with Session(engine) as session:
        kept = [
            session.scalar(select(func.count()).select_from(table))
            for table in (RightsRequest, VerificationCode, MailAsk)
        ]
    assert kept == [2, 2, 2]  # the refused third left no request, code or ask
    return answers


@pytest.mark.parametrize(
    ("codes", "asks", "refusal"), [(2, 10, CODES), (10, 2, ASKS), (2, 2, CODES)]
)
def test_a_submission_over_a_limit_is_refused_the_same_on_every_store(
    engine: Engine, tmp_path: Path, codes: int, asks: int, refusal: str
) -> None:
    first, second, third = _submissions(engine, tmp_path, codes, asks)
    assert (first, second) == ("ok", "ok")
    assert third.startswith(refusal), third
