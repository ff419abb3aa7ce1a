"""Consent event requests arriving together are written in one transaction (group commit), each
answered after that commit with what was recorded for it; a bad request fails alone; invalid
banner requests count against the shared limit; a group whose transaction fails acknowledges
nothing it did not write."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, text

import rightful.demo
from rightful.consent import catalog
from rightful.consent.models import ConsentEvent
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.migrations import upgrade
from rightful.web.app import create_app
from tests.support.app import make_settings, officer_token

DEMO_CATALOGUE = Path(rightful.demo.__file__).parent / "consent.yml"
REQUESTS = 16


@dataclass
class Server:
    """Rightful over a store, an API token, and how many committed transactions wrote events
    while the last calls ran."""

    runtime: Runtime
    token: str
    writes: int = 0
    _writing: set[int] = field(default_factory=set)

    def _statement(self, conn: Any, *args: object) -> None:
        if "INSERT INTO consent_events" in str(args[1]):
            self._writing.add(id(conn))

    def _commit(self, conn: Any) -> None:
        if id(conn) in self._writing:
            self._writing.discard(id(conn))
            self.writes += 1

    def _rollback(self, conn: Any) -> None:
        self._writing.discard(id(conn))

    def send(self, *calls: tuple[str, dict[str, Any]]) -> list[httpx.Response]:
        """Every call at once through the real ASGI app; counts the writing transactions."""
        app = create_app(self.runtime, start_worker=False)
        headers = {"Authorization": f"Bearer {self.token}"}

        async def everything() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await asyncio.gather(
                    *(client.post(path, json=body, headers=headers) for path, body in calls)
                )

        self.writes = 0
        hooks = (
            ("before_cursor_execute", self._statement),
            ("commit", self._commit),
            ("rollback", self._rollback),
        )
        for name, hook in hooks:
            event.listen(self.runtime.engine, name, hook)
        try:
            return asyncio.run(everything())
        finally:
            for name, hook in hooks:
                event.remove(self.runtime.engine, name, hook)

    def events(self, **where: str) -> list[ConsentEvent]:
        with unit_of_work(self.runtime.sessions) as session:
            query = select(ConsentEvent).filter_by(**where).order_by(ConsentEvent.id)
            return list(session.scalars(query))


def _server(tmp_path: Path, database_url: str, limit: int = 10_000) -> Iterator[Server]:
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        banner_events_per_minute=limit,
        api_token_cache_seconds=0,
    )
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    with unit_of_work(runtime.sessions) as session:
        catalog.apply(session, catalog.parse(DEMO_CATALOGUE.read_text()))
    yield Server(runtime, officer_token(runtime))
    runtime.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    url = "" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    yield from _server(tmp_path, url)


@pytest.fixture
def pg_server(tmp_path: Path, postgres_url: str) -> Iterator[Server]:
    yield from _server(tmp_path, postgres_url)


def banner(device: str, **choices: bool) -> tuple[str, dict[str, Any]]:
    return "/consent/events", {"device_id": device, "jurisdiction": "FR", "choices": choices}


def api(email: str, *choices: tuple[str, str, str], **extra: Any) -> tuple[str, dict[str, Any]]:
    body = {
        "email": email,
        "choices": [dict(zip(("purpose", "channel", "state"), c, strict=True)) for c in choices],
    }
    return "/api/v1/consent/events", body | extra


def device() -> str:
    return secrets.token_urlsafe(16)


NEWSLETTER = ("marketing.newsletter", "email", "given")


def test_banner_requests_sent_together_share_commits_and_each_gets_its_own_answer(
    server: Server,
) -> None:
    devices = [device() for _ in range(REQUESTS)]
    asked = [{"targeting": i % 2 == 0, "performance": i % 3 == 0} for i in range(REQUESTS)]
    answers = server.send(*(banner(d, **a) for d, a in zip(devices, asked, strict=True)))
    assert [r.status_code for r in answers] == [200] * REQUESTS
    assert server.writes < REQUESTS
    for a, answer in zip(asked, answers, strict=True):
        assert answer.json()["recorded"] == 2
        assert answer.json()["choices"]["targeting"] is a["targeting"]
        assert answer.json()["choices"]["performance"] is a["performance"]
    recorded = server.events(interface="banner")
    assert len(recorded) == 2 * REQUESTS  # every choice once
    assert len({e.uid for e in recorded}) == 2 * REQUESTS


def test_api_requests_sent_together_share_commits_and_answer_as_alone(server: Server) -> None:
    (alone,) = server.send(api("alone@example.com", NEWSLETTER))
    emails = [f"p{i}@example.com" for i in range(REQUESTS)]
    answers = server.send(*(api(e, NEWSLETTER) for e in emails))
    assert [r.status_code for r in answers] == [201] * REQUESTS
    assert server.writes < REQUESTS
    for answer in answers:
        body = answer.json()
        (one,) = body["events"]
        assert set(one) == {
            "id",
            "subject_id",
            "purpose",
            "channel",
            "state",
            "interface",
            "notice_version",
            "jurisdiction",
            "proof",
            "actor",
            "at",
            "position",
        }
        assert (one["subject_id"], one["purpose"], one["state"]) == (
            body["subject_id"],
            "marketing.newsletter",
            "given",
        )
        expected = alone.json()["events"][0]
        assert (one["interface"], one["actor"], one["position"]) == ("api", expected["actor"], None)
        (stored,) = server.events(uid=one["id"])
        assert stored.subject_id == body["subject_id"]
    assert len({a.json()["subject_id"] for a in answers}) == REQUESTS
    # Sent again together, every choice is unchanged: nothing written, nothing answered.
    again = server.send(*(api(e, NEWSLETTER) for e in emails))
    assert [a.json()["events"] for a in again] == [[]] * REQUESTS
    assert len(server.events(purpose="marketing.newsletter")) == REQUESTS + 1  # and "alone"


def test_a_bad_request_among_good_ones_fails_alone_with_its_own_problem(server: Server) -> None:
    unknown = api("x@example.com", ("no.such.purpose", "email", "given"))
    missing = (
        "/api/v1/consent/events",
        {
            "subject_id": "0" * 32,
            "choices": [dict(purpose="marketing.newsletter", channel="email", state="given")],
        },
    )
    bad_banner = banner(device(), nonsense=True)
    (alone_unknown, alone_missing, alone_banner) = [
        server.send(c)[0] for c in (unknown, missing, bad_banner)
    ]
    good = [api(f"g{i}@example.com", NEWSLETTER) for i in range(6)]
    good_banner = [banner(device(), targeting=True) for _ in range(6)]
    answers = server.send(
        *good[:3], unknown, *good_banner[:3], missing, bad_banner, *good[3:], *good_banner[3:]
    )
    assert server.writes < 12  # fewer than the good requests: they were written together
    by_status = [a.status_code for a in answers]
    assert by_status == [201] * 3 + [422] + [200] * 3 + [404, 422] + [201] * 3 + [200] * 3
    assert answers[3].json() == alone_unknown.json()
    assert answers[7].json() == alone_missing.json()
    assert answers[8].json() == alone_banner.json()
    assert len(server.events(purpose="marketing.newsletter")) == 6
    assert not server.events(purpose="no.such.purpose")


def test_invalid_banner_requests_count_against_the_shared_limit(tmp_path: Path) -> None:
    (limited,) = _server(tmp_path, "", limit=3)
    not_json = ("/consent/events", {"device_id": 12})
    unknown = banner(device(), nonsense=True)
    answers = limited.send(not_json)
    answers += limited.send(unknown)
    answers += limited.send(not_json)
    assert [a.status_code for a in answers] == [422] * 3
    (refused,) = limited.send(banner(device(), targeting=True))
    assert refused.status_code == 429
    assert not limited.events(interface="banner")


def _fail_in_postgresql(server: Server) -> None:
    """Events whose proof asks for it fail their statement (`now`) or their commit (`commit`)."""
    with server.runtime.engine.begin() as db:
        db.execute(
            text("""
            CREATE FUNCTION t1_fail() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 't1 asked to fail'; END $$;
            CREATE TRIGGER t1_fail_now BEFORE INSERT ON consent_events FOR EACH ROW
                WHEN (NEW.proof::jsonb ->> 'fail' = 'now') EXECUTE FUNCTION t1_fail();
            CREATE CONSTRAINT TRIGGER t1_fail_commit AFTER INSERT ON consent_events
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
                WHEN (NEW.proof::jsonb ->> 'fail' = 'commit') EXECUTE FUNCTION t1_fail();
        """)
        )


@pytest.mark.postgres
def test_a_group_that_fails_acknowledges_nothing_it_did_not_write(pg_server: Server) -> None:
    _fail_in_postgresql(pg_server)
    emails = [f"f{i}@example.com" for i in range(12)]
    calls = [api(e, NEWSLETTER) for e in emails]
    calls[4] = api(emails[4], NEWSLETTER, proof={"fail": "now"})
    calls[9] = api(emails[9], NEWSLETTER, proof={"fail": "commit"})
    answers = pg_server.send(*calls)
    statuses = [a.status_code for a in answers]
    assert statuses[4] == 500  # its statement failed: alone, it fails as it always did
    assert statuses[9] == 503  # its group's commit failed: not confirmed
    assert set(statuses) <= {201, 500, 503}
    assert set(statuses[:4] + statuses[5:9] + statuses[10:]) <= {201, 503}  # 503: #9's group
    for answer in answers:
        if answer.status_code == 201:
            (one,) = answer.json()["events"]
            assert [e.subject_id for e in pg_server.events(uid=one["id"])] == [
                answer.json()["subject_id"]
            ]
    # Nothing written without its 201: not #4's, not the unconfirmed group's.
    assert len(pg_server.events(purpose="marketing.newsletter")) == statuses.count(201)


def test_grouped_choices_keep_the_suppression_list_in_step_and_their_order(
    server: Server,
) -> None:
    """The grouped append's suppression rows (added and removed) and event order, on both
    stores: a withdrawal lists the address, giving it back removes it, and the events of a
    request get ids in the order its choices were sent."""
    withdrawn = ("marketing.newsletter", "email", "withdrawn")
    emails = [f"s{i}@example.com" for i in range(6)]
    answers = server.send(*(api(e, withdrawn, NEWSLETTER, withdrawn) for e in emails))
    assert [r.status_code for r in answers] == [201] * len(emails)
    for answer in answers:
        sent = [e["id"] for e in answer.json()["events"]]
        assert len(sent) == 3
        assert [e.uid for e in server.events(subject_id=answer.json()["subject_id"])] == sent
    with unit_of_work(server.runtime.sessions) as session:
        listed = session.execute(text("SELECT email_sha256, topic FROM marketing_suppressions"))
        assert sorted(t for _, t in listed) == ["marketing.newsletter"] * len(emails)
    back = server.send(*(api(e, NEWSLETTER) for e in emails[:4]))
    assert [len(r.json()["events"]) for r in back] == [1] * 4
    with unit_of_work(server.runtime.sessions) as session:
        left = session.scalar(text("SELECT count(*) FROM marketing_suppressions"))
    assert left == len(emails) - 4
