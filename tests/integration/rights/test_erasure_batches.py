"""Deletions finished together (issue 12, item 1): a batch's bookkeeping gives each request
exactly what it gets alone - its record and counts, the rows left in the estate, its notices,
suppression entry, audit events and e-mails - on SQLite, PostgreSQL and MariaDB estates (and
Rightful's own store on SQLite and PostgreSQL), in a number of statements that does not grow
with the batch (besides the consent record, the plan and the e-mail each person still gets)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, select, text

from rightful.connectors.sql import dispose_all
from rightful.consent.models import Suppression
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import SYSTEMS
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import open_letter
from rightful.rights import erasure_run, flows, partners, service
from rightful.rights.models import ErasureStep, PartnerNotice, RightsRequest
from rightful.rights.planning import traverse
from rightful.rights.schemas import RequestIn
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from rightful.worker.jobs import execute
from tests.integration.rights.test_access_batches import SHARED_PHONE, _vanish
from tests.integration.rights.test_erasure import estate_urls, partners_confirm, snapshot
from tests.support.app import latest_code, make_settings, prepare
from tests.support.looks import counting_traverse

PEOPLE = 6
VANISHED = 4  # this customer's e-mail is changed everywhere after approval: matches nothing
WAIVED = 5  # one partner of this customer's request cannot confirm: staff waive it
# Still one a person on a SQLite store: the consent ledger's inserts (an event's and a
# delivery's row each, consent/appending.py and propagation.py); on PostgreSQL none is
# (test_erasure_statement_budget.py). The completion e-mails are one INSERT for the batch.
PER_PERSON = re.compile(r"\b(consent_\w+|marketing_suppressions)\b")
LINK = re.compile(r"/(status|partners/ack)/[\w.~-]+")


def approve_deletions(runtime: Runtime, people: list[tuple[str, str]]) -> list[str]:
    """Submitted, verified and approved deletion requests, waiting for a worker."""
    ids = []
    for email, phone in people:
        data = RequestIn(request_type="delete", email=email, phone_number=phone)  # type: ignore[arg-type]
        with unit_of_work(runtime.sessions) as session:
            request_id = flows.submit(session, runtime.settings, data, client=None).id
        with unit_of_work(runtime.sessions) as session:
            code = latest_code(runtime, request_id)
            flows.verify(session, runtime.settings, request_id=request_id, code=code)
            service.approve_request(
                session, runtime.settings, request_id=request_id, actor=system_actor("test")
            )
        ids.append(request_id)
    return ids


def _ready(
    tmp_path: Path, urls: dict[str, str], store: str | None, *, batch: int, n: int = PEOPLE
) -> tuple[Runtime, list[str]]:
    settings = make_settings(
        tmp_path, worker_batch_size=batch, **({"database_url": store} if store else {})
    )
    runtime = prepare(settings, urls, people=40)
    shop = create_engine(urls["storefront"])
    with shop.begin() as conn:
        conn.execute(text("UPDATE customers SET phone = :p WHERE id = 2"), {"p": SHARED_PHONE})
        people = conn.execute(
            text("SELECT email, phone FROM customers ORDER BY id LIMIT :n"), {"n": n}
        ).all()
    shop.dispose()
    ids = approve_deletions(runtime, [(e, p) for e, p in people])
    for url in set(urls.values()):
        other = create_engine(url)
        _vanish(other, people[VANISHED - 1][0])
        other.dispose()
    return runtime, ids


def _drain(runtime: Runtime) -> None:
    while execute(runtime):
        pass


def _answer_partners(runtime: Runtime, ids: list[str]) -> None:
    """Every partner confirms, but one, whose notice staff waive with a reason."""
    with unit_of_work(runtime.sessions) as session:
        partners.waive(
            session,
            request_id=ids[WAIVED - 1],
            partner_key="brightads",
            actor=system_actor("test"),
            reason="The partner closed down last month.",
            explanation="One advertising partner no longer exists and holds nothing.",
        )
    for request_id in ids:
        partners_confirm(runtime, request_id)


def _letters(runtime: Runtime, session: Any, req: RightsRequest) -> list[tuple[str, ...]]:
    out = []
    for msg in session.scalars(
        select(OutboxMessage).where(OutboxMessage.request_id == req.id).order_by(OutboxMessage.id)
    ):
        if msg.template == "acknowledgement":  # sent at submission, with its random code
            out.append((msg.template, msg.status))
            continue
        letter = open_letter(runtime.settings, msg)
        same = [
            LINK.sub(r"/\1/…", part.replace(req.reference, "R-…"))
            for part in (letter.to, letter.subject, letter.text, letter.html)
        ]
        out.append((msg.template, msg.status, *same))
    return out


def _outcomes(runtime: Runtime, ids: list[str]) -> list[dict[str, Any]]:
    """Each request's status, record, notices, suppression, audit trail and e-mails."""
    out = []
    with runtime.sessions() as session:
        for request_id in ids:
            req = session.get(RightsRequest, request_id)
            assert req is not None
            steps = session.scalars(
                select(ErasureStep)
                .where(ErasureStep.request_id == req.id)
                .order_by(ErasureStep.position)
            )
            notices = session.scalars(
                select(PartnerNotice)
                .where(PartnerNotice.request_id == req.id)
                .order_by(PartnerNotice.partner_key)
            )
            audit = session.scalars(
                select(AuditEvent).where(AuditEvent.subject_id == req.id).order_by(AuditEvent.id)
            )
            suppressed = session.scalars(
                select(Suppression.identity_hash).where(Suppression.request_id == req.id)
            )
            out.append(
                {
                    "status": req.status,
                    "identities": service.identities_of(runtime.settings, req),
                    "summary": req.summary,
                    "records": [(s.system, s.report, s.done_at is not None) for s in steps],
                    "notices": [(n.partner_key, n.channel, n.status, n.note) for n in notices],
                    "suppressed": len(list(suppressed)),
                    "audit": [(e.actor, e.action, e.detail) for e in audit],
                    "letters": _letters(runtime, session, req),
                }
            )
    return out


def _run(
    tmp_path: Path, urls: dict[str, str], store: str | None, *, batch: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Outcomes after the erasure (waiting for partners), after they answered, and the estate."""
    runtime, ids = _ready(tmp_path, urls, store, batch=batch)
    try:
        _drain(runtime)
        erased = _outcomes(runtime, ids)
        _answer_partners(runtime, ids)
        _drain(runtime)
        return erased, _outcomes(runtime, ids), snapshot(urls)
    finally:
        runtime.engine.dispose()
        dispose_all()


def _same_as_one_by_one(
    tmp_path: Path, estates: Callable[[str], dict[str, str]], stores: Callable[[], str | None]
) -> None:
    alone = _run(tmp_path / "alone", estates("alone"), stores(), batch=1)
    together = _run(tmp_path / "together", estates("together"), stores(), batch=50)
    for phase, (got, want) in enumerate(zip(together[:2], alone[:2], strict=True)):
        for i, (mine, theirs) in enumerate(zip(got, want, strict=True)):
            for key in theirs:
                assert mine[key] == theirs[key], (phase, i, key)
    assert together[2] == alone[2]  # the rows left in the estate
    erased, done, _ = together
    assert {o["status"] for o in erased} == {"executing"}
    assert {o["status"] for o in done} == {"completed"}  # a waived partner is said so
    told = done[WAIVED - 1]["summary"]["partners"]
    assert [p["status"] for p in told].count("waived") == 1
    deleted = [o["audit"][-1][2]["deleted_rows"] for o in done]
    assert deleted[VANISHED - 1] == 0 and min(d for i, d in enumerate(deleted) if i != 3) > 0
    assert all(o["suppressed"] == 1 for o in done)
    assert all([a[1] for a in o["audit"]].count("request.completed") == 1 for o in done)
    assert all([x[0] for x in o["letters"]] == ["acknowledgement", "erased"] for o in done)


def test_a_batch_finishes_deletions_as_one_by_one_does_on_sqlite(tmp_path: Path) -> None:
    _same_as_one_by_one(tmp_path, lambda name: estate_urls(tmp_path / name, None), lambda: None)


@pytest.mark.postgres
def test_a_batch_finishes_deletions_as_one_by_one_does_on_postgres(
    tmp_path: Path, make_postgres_db: Callable[[], str]
) -> None:
    _same_as_one_by_one(
        tmp_path, lambda _: dict.fromkeys(SYSTEMS, make_postgres_db()), make_postgres_db
    )


@pytest.mark.mariadb
def test_a_batch_finishes_deletions_as_one_by_one_does_on_mariadb(
    tmp_path: Path, make_mariadb_db: Callable[[], str]
) -> None:
    _same_as_one_by_one(tmp_path, lambda _: dict.fromkeys(SYSTEMS, make_mariadb_db()), lambda: None)


@contextmanager
def _counting(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _store_statements(tmp_path: Path, n: int) -> tuple[int, int]:
    """Statements to Rightful's store for `n` approved deletions (the worker's pass that erases
    them, then the one that completes them once partners answered): the batch's, and those
    still made for each person (`PER_PERSON`)."""
    urls = estate_urls(tmp_path, None)
    runtime, ids = _ready(tmp_path, urls, None, batch=100, n=n)
    try:
        with _counting(runtime.engine) as seen:
            assert execute(runtime) == n  # erased, waiting for partners
        _answer_partners(runtime, ids)
        with _counting(runtime.engine) as more:
            assert execute(runtime) == n  # completed
        seen += more
        apart = [s for s in seen if PER_PERSON.search(s)]
        return len(seen) - len(apart), len(apart)
    finally:
        runtime.engine.dispose()
        dispose_all()


def test_a_batchs_bookkeeping_takes_as_many_statements_for_20_deletions_as_for_5(
    tmp_path: Path,
) -> None:
    few, few_apart = _store_statements(tmp_path / "few", 5)
    many, many_apart = _store_statements(tmp_path / "many", 20)
    assert many == few
    assert many_apart > few_apart


def _most_looks_at_a_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> int:
    """How often the erasure pass for `n` approved deletions looked at its busiest estate row
    while splitting the batch's rows per request and planning each one's changes."""
    runtime, _ = _ready(tmp_path, estate_urls(tmp_path, None), None, batch=100, n=n)
    counted, read = counting_traverse()

    monkeypatch.setattr(erasure_run, "traverse", counted)
    try:
        assert execute(runtime) == n  # erased, waiting for partners
    finally:
        monkeypatch.setattr(erasure_run, "traverse", traverse)
        runtime.engine.dispose()
        dispose_all()
    assert len(read) > n  # the batch's rows, every request's own among them
    return max(r.looks for r in read)


def test_a_batch_looks_at_each_row_as_often_for_20_deletions_as_for_5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each request's share is looked up in one index of the batch's rows (planning.Split):
    # before, every request's share compared every row of the batch again, 4 times as often.
    few = _most_looks_at_a_row(tmp_path / "few", monkeypatch, 5)
    many = _most_looks_at_a_row(tmp_path / "many", monkeypatch, 20)
    assert many == few
