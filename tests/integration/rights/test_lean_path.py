"""The request path stays lean: what submit, verify and approve send to Rightful's own store, on
SQLite and PostgreSQL, counted through the real API (a statement count is an outcome, not a
timing: these are regression guards, not benchmarks)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights.execution import run_request
from rightful.security import audit
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app
from tests.support.app import AVERY, latest_code, make_settings, prepare

ACCESS = {
    "request_type": "access",
    "declaration_signature": "Avery Quinn",
    "channel": "api",
    "date_range": "all",
    **AVERY,
}
# Statements a call sends to the store: 14, 13 and 7 before the audit chain was written at
# commit, the new request inserted once, verify's code read once and its two moves written
# together, and answers read a transfer only for a kind that has one; one fewer each since the
# API token checked once is trusted for `api_token_cache_seconds`. Execution (the worker, after
# approval): 19 before the data map was held for the transaction, 16 before a request's manual
# tasks were read once (no read left to flush the package's row early: one UPDATE with the
# status) and an empty staff look-up skipped.
MOST = {"submit": 9, "verify": 8, "approve": 5, "execution": 11}
# On PostgreSQL, fewer: the audit head written back by the events' insert (-1 each), the mail
# ask recorded by its count's statement (submit), the claimed request read back by its claim.
# Then the audit log appended in one statement on PostgreSQL (-1 each).
# Verify: the request, its code and the data map's revision read in one statement (-2).
# Submit: the code inserted only under its limits, counted by the insert (-1).
MOST_POSTGRES = {"submit": 5, "verify": 4, "approve": 3, "execution": 8}


@dataclass
class Counted:
    """An API on a migrated store, and the statements the store received since `clear`."""

    runtime: Runtime
    client: TestClient
    auth: dict[str, str]
    statements: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.statements.clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def counted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counted]:
    overrides: dict[str, Any] = {}
    if request.param == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    runtime = prepare(make_settings(tmp_path, **overrides))
    with unit_of_work(runtime.sessions) as session:
        staff = create_staff(
            session,
            email="officer@lumen.example",
            name="Olive Officer",
            password="correct horse battery staple",
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=staff, name="tests", actor=system_actor("test"))
    with TestClient(create_app(runtime, start_worker=False)) as client:
        found = Counted(runtime, client, {"Authorization": f"Bearer {token}"})

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            found.statements.append(" ".join(statement.split()))

        event.listen(runtime.engine, "before_cursor_execute", count)
        yield found
    runtime.engine.dispose()
    dispose_all()


def _audit_writes(statements: list[str]) -> list[str]:
    return [s for s in statements if "audit_chain_head" in s or "INSERT INTO audit_events" in s]


def test_submit_verify_and_approve_each_send_a_few_statements(counted: Counted) -> None:
    c, auth = counted.client, counted.auth
    sent: dict[str, list[str]] = {}
    for _ in range(2):  # the second request is the one counted: caches filled, as when serving
        counted.clear()
        r = c.post("/api/v1/rights-requests", headers=auth, json=ACCESS)
        assert r.status_code == 201, r.text
        rid, sent["submit"] = r.json()["id"], list(counted.statements)
        code = latest_code(counted.runtime, rid)
        counted.clear()
        r = c.post(f"/api/v1/rights-requests/{rid}/verify", headers=auth, json={"code": code})
        assert r.json()["status"] == "awaiting_approval", r.text
        sent["verify"] = list(counted.statements)
        counted.clear()
        r = c.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth)
        assert r.json()["status"] == "executing", r.text
        sent["approve"] = list(counted.statements)
        counted.clear()
        assert run_request(counted.runtime.sessions, counted.runtime.settings, rid) == "completed"
        sent["execution"] = list(counted.statements)
    postgres = counted.runtime.engine.dialect.name == "postgresql"
    most, fewer = (MOST_POSTGRES, 1) if postgres else (MOST, 0)
    for step, statements in sent.items():
        assert len(statements) <= most[step], (step, statements)
        # The audit chain once a transaction, last: lock the head, one insert, write the head
        # (on PostgreSQL, one statement locks, hashes, inserts and writes the head).
        chain = _audit_writes(statements)
        assert len(chain) == 3 - 2 * fewer and statements[-len(chain) :] == chain, (
            step,
            statements,
        )
        assert "audit_chain_head" in chain[0] and (
            "RETURNING" in chain[0] or "FOR UPDATE" in chain[0]
        )
    with counted.runtime.sessions() as session:
        actions = [
            e.action
            for e in audit.events_for(session, subject_type="rights_request", subject_id=rid)
        ]
        verdict = audit.verify_chain(session)
    assert actions == [
        "request.received",
        "request.verifying",
        "request.acknowledged",
        "request.verified",
        "request.awaiting_approval",
        "request.executing",
        "request.completed",
    ]
    assert verdict.intact, verdict.message
