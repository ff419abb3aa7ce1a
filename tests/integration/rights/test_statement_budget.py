"""An access request's whole life through the API stays within a budget of statements to
Rightful's own store on PostgreSQL: submit, the code e-mail, verify, approve, execution, the
completion e-mail and the package download, each counted (a count, not a timing)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime
from rightful.identity.models import VerificationCode
from rightful.messaging.limits import MailAsk
from rightful.security import audit
from rightful.web.app import create_app
from rightful.worker import jobs
from rightful.worker.dispatch import Dispatcher
from rightful.worker.loop import EmbeddedWorker
from tests.support.app import AVERY, code_from, make_settings, officer_token, prepare
from tests.support.services import SmtpTestServer

pytestmark = pytest.mark.postgres

ACCESS = {
    "request_type": "access",
    "declaration_signature": "Avery Quinn",
    "channel": "api",
    "date_range": "all",
    **AVERY,
}
# Statements each step sends to the store, at most. Before this budget (3f6cdf4): 9, 5, 8, 5,
# 14, 5 and 4, 50 in all. Then: the audit head written back by the events' insert (-1 a
# transaction), mail and requests claimed with one UPDATE ... RETURNING (-2 each claim) and the
# claimed messages not read again (-1 an e-mail), the mail ask recorded by its count (-1).
# Execution 11 -> 5: the claim's RETURNING carries the request, the data map's revision and
# whether it has steps or tasks yet (rights/claimed.py), so none is read after it; the audit
# log appended in one statement.
# Submit, verify, approve and package 7, 7, 4, 3 -> 6, 6, 3, 2: the audit log appended in one
# statement (security/audit_append.py). Verify 6 -> 4: the request, its live code with its
# counts and the data map's revision read in one statement (flows._with_code). Submit 6 -> 5:
# a new request's code inserted only under the hour's limits, counted in its own statement.
# Submit 5 -> 4: that insert goes in the mail ask's counting statement (limits.ask_along).
# Verify 4 -> 3: the used code written in the audit events' statement (audit_append.ride).
# Submit 4 -> 3 and execution 5 -> 4: the request's e-mail written in that statement too
# (messaging.queue_letter).
BUDGET = {
    "submit": 3,
    "code e-mail": 2,
    "verify": 3,
    "approve": 3,
    "execution": 4,
    "completion e-mail": 2,
    "package": 2,
}
WHOLE_LIFE = sum(BUDGET.values())


@dataclass
class Counted:
    """An API on a migrated PostgreSQL store, and the statements the store received."""

    runtime: Runtime
    client: TestClient
    auth: dict[str, str]
    statements: list[str] = field(default_factory=list)

    def take(self) -> list[str]:
        """The statements since the last call."""
        taken = list(self.statements)
        self.statements.clear()
        return taken


@pytest.fixture
def counted(tmp_path: Path, postgres_url: str, smtp_server: SmtpTestServer) -> Iterator[Counted]:
    settings = make_settings(tmp_path, database_url=postgres_url, smtp_url=smtp_server.url)
    runtime = prepare(settings)
    token = officer_token(runtime)
    app = create_app(runtime, start_worker=False)
    # The lanes are woken but not started: the test runs each lane's job itself, as its thread
    # would, so that each step's statements are counted apart.
    app.state.dispatcher = Dispatcher(runtime, EmbeddedWorker(runtime))
    with TestClient(app) as client:
        found = Counted(runtime, client, {"Authorization": f"Bearer {token}"})

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            found.statements.append(" ".join(statement.split()))

        event.listen(runtime.engine, "before_cursor_execute", count)
        yield found
    runtime.engine.dispose()
    dispose_all()


def _life(c: Counted, smtp: SmtpTestServer) -> tuple[str, dict[str, list[str]], bytes]:
    client, auth = c.client, c.auth
    sent: dict[str, list[str]] = {}
    smtp.clear()
    c.take()
    r = client.post("/api/v1/rights-requests", headers=auth, json=ACCESS)
    assert r.status_code == 201, r.text
    rid, sent["submit"] = r.json()["id"], c.take()
    assert jobs.mail(c.runtime) == 1
    sent["code e-mail"] = c.take()
    code = code_from(smtp.wait_for(AVERY["email"]))
    r = client.post(f"/api/v1/rights-requests/{rid}/verify", headers=auth, json={"code": code})
    assert r.json()["status"] == "awaiting_approval", r.text
    sent["verify"] = c.take()
    r = client.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth)
    assert r.json()["status"] == "executing", r.text
    sent["approve"] = c.take()
    assert jobs.execute(c.runtime) == 1
    sent["execution"] = c.take()
    assert jobs.mail(c.runtime) == 1
    sent["completion e-mail"] = c.take()
    r = client.get(f"/api/v1/rights-requests/{rid}/package", headers=auth)
    assert r.status_code == 200, r.text
    sent["package"] = c.take()
    return rid, sent, r.content


def test_an_access_requests_life_through_the_api_stays_within_its_statement_budget(
    counted: Counted, smtp_server: SmtpTestServer
) -> None:
    _life(counted, smtp_server)  # the first request of a process fills the caches
    rid, sent, package = _life(counted, smtp_server)
    counts = {step: len(statements) for step, statements in sent.items()}
    for step, statements in sent.items():
        assert len(statements) <= BUDGET[step], (step, counts, statements)
    assert sum(counts.values()) <= WHOLE_LIFE, counts
    # The same outcomes as before: the package, both e-mails, the audit trail, an intact chain.
    assert package[:2] == b"PK"
    assert [m.envelope_to for m in smtp_server.messages] == [(AVERY["email"],)] * 2
    with counted.runtime.sessions() as session:
        actions = [
            e.action
            for e in audit.events_for(session, subject_type="rights_request", subject_id=rid)
        ]
        verdict = audit.verify_chain(session)
        codes = session.execute(
            select(VerificationCode.attempts, VerificationCode.used_at).where(
                VerificationCode.request_id == rid
            )
        ).all()
        asks = session.scalar(select(func.count()).select_from(MailAsk))
    assert verdict.intact, verdict.message
    # The one code sent, used by its one try; one mail ask counted for each request.
    assert [(tries, used is not None) for tries, used in codes] == [(1, True)]
    assert asks == 2
    assert actions == [
        "request.received",
        "request.verifying",
        "request.acknowledged",
        "request.verified",
        "request.awaiting_approval",
        "request.executing",
        "request.completed",
        "staff.read_personal",  # the package downloaded
    ]
