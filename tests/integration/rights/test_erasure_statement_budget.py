"""A deletion's whole life through the API stays within a budget of statements to Rightful's
own store on PostgreSQL: submit, the code e-mail, verify, approve, the erasure, the partner
notices and their e-mails, the partners' confirmations, the completion and its e-mail, each
counted (a count, not a timing). A batch of deletions costs the same per batch, not per person,
for what Rightful keeps of them: the consent record (consent/erasure.py) included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from rightful.connectors.sql import dispose_all
from rightful.consent import ledger, subjects
from rightful.consent.catalog import Interface
from rightful.core.runtime import Runtime
from rightful.rights.models import PartnerNotice
from rightful.security import audit
from rightful.security.tokens import LinkSigner
from rightful.web.app import create_app
from rightful.worker import jobs
from rightful.worker.dispatch import Dispatcher
from rightful.worker.loop import EmbeddedWorker
from tests.integration.rights.test_erasure import estate_urls
from tests.integration.rights.test_erasure_batches import _answer_partners as answer_partners
from tests.integration.rights.test_erasure_batches import _counting as counting
from tests.integration.rights.test_erasure_batches import _ready as approved_batch
from tests.support.app import AVERY, code_from, make_settings, officer_token, prepare
from tests.support.services import SmtpTestServer

pytestmark = pytest.mark.postgres

JORDAN = {
    "email": "jordan.lee@example.com",
    "phone_number": "+1 510 555 0199",
    "name": "Jordan Lee",
    "postal_code": "94612",
}


def _deletion(person: dict[str, str]) -> dict[str, str]:
    return {
        "request_type": "delete",
        "declaration_signature": person["name"],
        "channel": "api",
        **person,
    }


# Statements each step sends to the store, at most. Before this budget (268d8c9): erasure 32,
# partner notices 40, confirmations 30 (6 each), completion 22. Then: the consent record
# set-based and made once (consent/erasure.py), the notices sent together, a confirmation one
# UPDATE ... RETURNING, the steps recorded by one UPDATE, the data map read once a pass, the
# partners with their disclosures in one read, the new notices read back by their insert. The
# steps the access request's life shares (submit, verify, approve, the person's e-mails) keep
# its budget (test_statement_budget.py). "partner notices" is the propagation lane's pass: the
# consent deliveries of the withdrawn marketing go with it. The shared steps were stale (7, 7
# and 4 for submit, verify and approve): they are the access request's, 3, 3 and 3 now, and the
# completion 10 -> 9 with its e-mail written in the audit events' statement (queue_letter).
BUDGET = {
    "submit": 3,
    "code e-mail": 2,
    "verify": 3,
    "approve": 3,
    "erasure": 23,
    "partner notices": 18,
    "partner e-mails": 3,
    "confirmations": 15,
    "completion": 9,
    "completion e-mail": 2,
}
WHOLE_LIFE = sum(BUDGET.values())  # 91 before, 81
# Both worker passes over a batch of deletions, whatever its size.
BATCH_BUDGET = 50


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


def _life(
    c: Counted, smtp: SmtpTestServer, person: dict[str, str]
) -> tuple[str, dict[str, list[str]]]:
    client, auth = c.client, c.auth
    sent: dict[str, list[str]] = {}
    smtp.clear()
    c.take()
    r = client.post("/api/v1/rights-requests", headers=auth, json=_deletion(person))
    assert r.status_code == 201, r.text
    rid, sent["submit"] = r.json()["id"], c.take()
    assert jobs.mail(c.runtime) == 1
    sent["code e-mail"] = c.take()
    code = code_from(smtp.wait_for(person["email"]))
    r = client.post(f"/api/v1/rights-requests/{rid}/verify", headers=auth, json={"code": code})
    assert r.json()["status"] == "awaiting_approval", r.text
    sent["verify"] = c.take()
    r = client.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth)
    assert r.json()["status"] == "executing", r.text
    sent["approve"] = c.take()
    assert jobs.execute(c.runtime) == 1
    sent["erasure"] = c.take()
    notices = jobs.propagate(c.runtime)
    sent["partner notices"] = c.take()
    while jobs.mail(c.runtime):
        pass
    sent["partner e-mails"] = c.take()
    with c.runtime.sessions() as session:
        ids = session.scalars(select(PartnerNotice.id).where(PartnerNotice.request_id == rid))
        tokens = [
            LinkSigner(c.runtime.settings.secret_key, "partner-ack").sign(str(i)) for i in ids
        ]
    assert len(tokens) == notices
    c.take()
    for token in tokens:
        r = client.post(f"/partners/ack/{token}", headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text
    sent["confirmations"] = c.take()
    assert jobs.execute(c.runtime) == 1
    sent["completion"] = c.take()
    assert jobs.mail(c.runtime) == 1
    sent["completion e-mail"] = c.take()
    return rid, sent


def test_a_deletions_life_through_the_api_stays_within_its_statement_budget(
    counted: Counted, smtp_server: SmtpTestServer
) -> None:
    _life(counted, smtp_server, JORDAN)  # the first request of a process fills the caches
    rid, sent = _life(counted, smtp_server, AVERY)
    counts = {step: len(statements) for step, statements in sent.items()}
    for step, statements in sent.items():
        assert len(statements) <= BUDGET[step], (step, counts, statements)
    assert sum(counts.values()) <= WHOLE_LIFE, counts
    # The same outcomes as before: five partners told and answered, the person's e-mails, her
    # consent record withdrawn with its proof, the audit trail, an intact chain.
    to = [m.envelope_to for m in smtp_server.messages]
    assert to.count((AVERY["email"],)) == 2 and len(to) == 2 + 5
    with counted.runtime.sessions() as session:
        actions = [
            e.action
            for e in audit.events_for(session, subject_type="rights_request", subject_id=rid)
        ]
        verdict = audit.verify_chain(session)
        person = subjects.find_person(session, counted.runtime.settings, AVERY["email"])
        assert person is not None and person.sealed_email is None
        withdrawn = [
            e for e in ledger.history(session, person.id) if e.interface == Interface.RIGHTS_REQUEST
        ]
    assert verdict.intact, verdict.message
    assert len(withdrawn) == 4 and {e.state for e in withdrawn} == {"withdrawn"}
    assert actions == [
        "request.received",
        "request.verifying",
        "request.acknowledged",
        "request.verified",
        "request.awaiting_approval",
        "request.executing",
        *["partner.acknowledged"] * 5,
        "request.completed",
    ]


def _batch_statements(tmp_path: Path, store: str, n: int) -> list[str]:
    """Statements to a PostgreSQL store for `n` approved deletions erased by one worker pass,
    then completed by another once their partners answered."""
    urls = estate_urls(tmp_path, None)
    runtime, ids = approved_batch(tmp_path, urls, store, batch=100, n=n)
    try:
        with counting(runtime.engine) as seen:
            assert jobs.execute(runtime) == n  # erased, waiting for partners
        answer_partners(runtime, ids)
        with counting(runtime.engine) as more:
            assert jobs.execute(runtime) == n  # completed
        return seen + more
    finally:
        runtime.engine.dispose()
        dispose_all()


def test_a_batch_of_deletions_costs_the_same_statements_for_20_people_as_for_5(
    tmp_path: Path, make_postgres_db: Callable[[], str]
) -> None:
    # Before (268d8c9): 345 for 20, growing with each person (the consent record, the plan's
    # manual tasks, a step's record); the suppression, notices and e-mails already were not.
    few = _batch_statements(tmp_path / "few", make_postgres_db(), 5)
    many = _batch_statements(tmp_path / "many", make_postgres_db(), 20)
    assert len(many) <= BATCH_BUDGET, len(many)
    # The audit chain's append may take one statement or two by how many events it carries
    # (security/audit.py decides): the rest is as many statements for 20 as for 5.
    assert _apart_from_audit(many) == _apart_from_audit(few), (len(few), len(many))


def _apart_from_audit(statements: list[str]) -> int:
    return sum("audit_chain_head" not in s for s in statements)
