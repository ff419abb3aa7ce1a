"""Matching the data points a person gave reads only the company's collections that hold them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from rightful.core.db import unit_of_work
from rightful.inventory.revision import bump_revision
from rightful.rights import flows, planning
from tests.support.app import AVERY, App, latest_code

FROM = re.compile(r'\bFROM\s+"?(\w+)"?', re.IGNORECASE)
ACCESS = {"request_type": "access", "declaration_signature": "Avery Quinn", "date_range": "all"}


def submit(app: App, identities: dict[str, str]) -> str:
    answer = app.client.post("/api/v1/rights-requests", headers=app.auth, json=ACCESS | identities)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.fixture
def estate_reads(rightful_app: App) -> Iterator[list[str]]:
    """Tables read in the demo estate (every engine but Rightful's own store), not counting
    SQLite's catalogue, which a connector reads the first time it sees a database."""
    read: list[str] = []
    store = rightful_app.runtime.engine

    def note(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.engine is not store:
            read.extend(t for t in FROM.findall(statement) if not t.startswith("sqlite_"))

    event.listen(Engine, "before_cursor_execute", note)
    yield read
    event.remove(Engine, "before_cursor_execute", note)


def test_verifying_reads_only_the_collections_holding_the_points_given(
    rightful_app: App, estate_reads: list[str]
) -> None:
    rid = submit(rightful_app, AVERY)  # e-mail, phone, name and ZIP
    estate_reads.clear()
    answer = rightful_app.client.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=rightful_app.auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    # Phone and name are on the customer, the ZIP on an address found through the customer;
    # orders, devices, tickets, reviews, chats and subscriptions cannot match any of them.
    assert sorted(set(estate_reads)) == ["addresses", "customers"]
    assert answer.json()["verification_level"] == 4  # the code and all three points


def test_a_request_with_the_e_mail_alone_reads_nothing_to_match(
    rightful_app: App, estate_reads: list[str]
) -> None:
    rid = submit(rightful_app, {"email": AVERY["email"]})
    estate_reads.clear()
    answer = rightful_app.client.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=rightful_app.auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    assert estate_reads == []
    assert answer.json()["verification_level"] == 1  # the code only


def verify(app: App, rid: str) -> dict[str, Any]:
    answer = app.client.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=app.auth,
        json={"code": latest_code(app.runtime, rid)},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_matching_plan_is_built_once_a_data_map_and_again_when_the_map_changes(
    rightful_app: App, estate_reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    real = planning.build_plan

    def counted(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(flows, "build_plan", counted)
    first, second = submit(rightful_app, AVERY), submit(rightful_app, AVERY)
    assert verify(rightful_app, first)["verification_level"] == 4
    assert verify(rightful_app, second)["verification_level"] == 4
    assert len(built) == 1  # the same map and points: the plan kept from the first
    with unit_of_work(rightful_app.runtime.sessions) as session:
        bump_revision(session)  # the data map changed: plan over the new one
    third = submit(rightful_app, AVERY)
    estate_reads.clear()
    assert verify(rightful_app, third)["verification_level"] == 4
    assert len(built) == 2
    assert sorted(set(estate_reads)) == ["addresses", "customers"]
