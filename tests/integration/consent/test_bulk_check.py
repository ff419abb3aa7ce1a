"""A bulk check of 200,017 digests sent as text through the API, streamed (COPY and a join on
PostgreSQL, chunks on SQLite), answers exactly what the small path answers for the same list."""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from rightful.consent import catalog, suppression
from rightful.consent.models import MarketingSuppression
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import build_runtime
from rightful.migrations import upgrade
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app

DIGESTS = 200_017  # not a whole number of COPY blocks or query chunks
OFFERS = "purposes: [{key: marketing.offers, kind: marketing, title: Offers, channels: [email]}]"


@dataclass
class Bench:
    client: TestClient
    token: str
    listed: list[str]  # every digest the check may be sent, suppressed or not
    small: dict[str | None, set[str]]  # topic → what the small path finds among `listed`

    def bulk(self, body: str, topic: str | None = None) -> tuple[int, list[str], str]:
        """Status, suppressed lines and X-Checked of a text/plain bulk check."""
        answer = self.client.post(
            "/api/v1/suppressions/bulk" + (f"?topic={topic}" if topic else ""),
            content=body,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "text/plain"},
        )
        return answer.status_code, answer.text.split(), answer.headers.get("x-checked", "")


def _digest(i: int) -> str:
    return hashlib.sha256(f"bulk{i}@example.com".encode()).hexdigest()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    """A store with 20,000 digests suppressed for all marketing and 10,000 for one topic."""
    url = (
        f"sqlite:///{tmp_path}/store.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    listed = [_digest(i) for i in range(DIGESTS // 2)]
    rows = [{"email_sha256": d, "topic": "*", "reason": "api"} for d in listed[:20_000]]
    rows += [
        {"email_sha256": d, "topic": "marketing.offers", "reason": "api"}
        for d in listed[15_000:20_000] + listed[40_000:45_000]
    ]
    with unit_of_work(runtime.sessions) as session:
        catalog.apply(session, catalog.parse(OFFERS))
        session.execute(insert(MarketingSuppression), rows)
        staff = create_staff(
            session,
            email="bulk@lumen.example",
            name="Bulk",
            password="x" * 20,
            actor=system_actor("t"),
        )
        token = create_api_token(session, staff=staff, name="bulk", actor=system_actor("t"))
    small = {}
    with unit_of_work(runtime.sessions) as session:
        for topic in (None, "marketing.offers"):  # the small path: chunks of IN (...)
            small[topic] = suppression.check_hashes(session, listed, topic, copy_above=10**9)
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield Bench(client, token, listed, small)
    runtime.engine.dispose()


def _list(bench: Bench) -> list[str]:
    """200,017 lines: a random draw from the listed digests, so some repeat, in any case."""
    rng = random.Random(14)
    drawn = [rng.choice(bench.listed) for _ in range(DIGESTS)]
    return [d.upper() if i % 7 == 0 else d for i, d in enumerate(drawn)]


def test_a_large_bulk_check_answers_as_the_small_path_does(bench: Bench) -> None:
    lines = _list(bench)
    body = "\n".join(lines[:1000]) + "\n\n" + "\n".join(lines[1000:])  # a blank line is skipped
    for topic in (None, "marketing.offers"):
        status, hits, checked = bench.bulk(body, topic)
        assert status == 200
        assert checked == str(DIGESTS)
        wanted = [d.lower() for d in lines if d.lower() in bench.small[topic]]
        assert hits == wanted  # in the order sent, repeats kept
        assert len(set(hits)) > 10_000


def test_a_large_bulk_check_with_a_malformed_line_answers_nothing(bench: Bench) -> None:
    lines = _list(bench)
    lines[150_000] = "not-a-digest"
    status, _, _ = bench.bulk("\n".join(lines))
    assert status == 422
    problem = bench.client.post(
        "/api/v1/suppressions/bulk",
        content="\n".join(lines),
        headers={"Authorization": f"Bearer {bench.token}", "Content-Type": "text/plain"},
    ).json()
    assert "line/item 150001" in problem["detail"]
