"""Corrections read and written together (issue 12, item 1): a batch gives each request exactly
what it gets alone - its record, counts, audit trail and e-mail, and the estate's rows after -
on SQLite, PostgreSQL and MariaDB, with two people correcting a field to the same value (one
UPDATE for both), to different values, and one whose e-mail matches nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from rightful.connectors.sql import _engine, dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import SYSTEMS, demo_urls
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights import flows, service
from rightful.rights.execution import run_request
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from rightful.security.vault import Vault
from rightful.worker.jobs import execute
from tests.integration.rights.test_access_batches import _counting, _reads, _vanish
from tests.support.app import latest_code, make_settings, prepare

# By customer id: what each asks to correct, and to what.
ASKED = {
    1: ("phone_number", "(415) 555-0100"),
    2: ("phone_number", "415 555 0100"),  # the same number as customer 1, written otherwise
    3: ("phone_number", "(415) 555-0177"),  # the same field, another value
    4: ("name", "Jo Marsh-Lee"),
    5: ("date_of_birth", "1990-01-02"),
    6: ("name", "Nobody Here"),  # this customer's e-mail is changed everywhere: matches nothing
}
VANISHED = 6


def approve_corrections(runtime: Runtime, urls: dict[str, str]) -> list[str]:
    """One approved correction per customer of ASKED, in customer order."""
    store = create_engine(urls["storefront"])
    with store.connect() as conn:
        people = {
            row.id: row
            for row in conn.execute(
                text("SELECT id, email, phone, first_name, last_name FROM customers")
            )
        }
    store.dispose()
    ids = []
    for customer, (item, value) in ASKED.items():
        p = people[customer]
        data = RequestIn(
            request_type="correct",
            email=p.email,
            phone_number=p.phone,
            name=f"{p.first_name} {p.last_name}",
            declaration_signature=None,
            correction_item=item,
            correction_value=value,
        )
        with unit_of_work(runtime.sessions) as session:
            request_id = flows.submit(session, runtime.settings, data, client=None).id
        with unit_of_work(runtime.sessions) as session:
            code = latest_code(runtime, request_id)
            flows.verify(session, runtime.settings, request_id=request_id, code=code)
            service.approve_request(
                session, runtime.settings, request_id=request_id, actor=system_actor("test")
            )
        ids.append(request_id)
    for url in set(urls.values()):
        other = create_engine(url)
        _vanish(other, people[VANISHED].email)
        other.dispose()
    return ids


def _customers(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, first_name, last_name, phone, birth_date FROM customers ORDER BY id")
        )
        out = [tuple(str(v) for v in row) for row in rows]
    engine.dispose()
    return out


def outcomes(runtime: Runtime) -> dict[str, dict[str, Any]]:
    """Per request (by its customer, in order): status, record, steps, audit events, e-mails."""
    vault = Vault(runtime.settings, "execution")
    out: dict[str, dict[str, Any]] = {}
    with runtime.sessions() as session:
        reqs = list(session.scalars(select(RightsRequest).order_by(RightsRequest.received_at)))
        for number, req in enumerate(reqs, start=1):

            def plain(value: str, req: RightsRequest = req) -> str:
                return value.replace(req.reference, "REF").replace(req.id, "ID")

            steps = [
                (s.address, s.row_count, s.result and vault.decrypt_json(s.result))
                for s in session.scalars(
                    select(ExecutionStep)
                    .where(ExecutionStep.request_id == req.id)
                    .order_by(ExecutionStep.id)
                )
            ]
            events = [
                (e.action, plain(repr(e.detail)))
                for e in session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.subject_id == req.id)
                    .order_by(AuditEvent.id)
                )
            ]
            letters = [
                (plain(m.subject), plain(m.text))
                for m in (
                    open_letter(runtime.settings, msg)
                    for msg in reversed(list_outbox(session, request_id=req.id))
                )
                if not re.search(r"\b\d{6}\b", m.text)  # the verification codes differ
            ]
            out[f"customer {number}"] = {
                "status": req.status,
                "summary": req.summary,
                "steps": steps,
                "audit": events,
                "letters": letters,
            }
    return out


def _run(
    tmp_path: Path, estate_url: str | None, *, together: bool, **overrides: object
) -> dict[str, Any]:
    settings = make_settings(tmp_path, worker_batch_size=100, **overrides)
    urls = {key: estate_url for key in SYSTEMS} if estate_url else demo_urls(tmp_path)
    runtime = prepare(settings, urls, people=20)
    ids = approve_corrections(runtime, urls)
    try:
        with _counting([_engine(u) for u in set(urls.values())]) as in_estate:
            if together:
                assert execute(runtime) == len(ids)
            else:
                for request_id in ids:
                    run_request(runtime.sessions, runtime.settings, request_id)
        updates = [s for s in in_estate if s.startswith("UPDATE customers")]
        return {
            "outcomes": outcomes(runtime),
            "customers": _customers(urls["storefront"]),
            "reads": _reads(in_estate),
            "updates": len(updates),
        }
    finally:
        runtime.engine.dispose()
        dispose_all()


def _same_as_one_by_one(tmp_path: Path, estate_url: str | None) -> None:
    alone = _run(tmp_path / "alone", estate_url, together=False)
    together = _run(tmp_path / "together", estate_url, together=True)
    assert together["outcomes"] == alone["outcomes"]
    assert together["customers"] == alone["customers"]
    # Read together: one read per collection for the six, instead of each reading all.
    assert together["reads"] == 11 < alone["reads"]
    # One UPDATE per distinct (field, value): customers 1 and 2 share theirs.
    assert (together["updates"], alone["updates"]) == (5, 6)

    got = together["outcomes"]
    assert {o["status"] for o in got.values()} == {"completed"}
    assert got["customer 1"]["summary"]["corrected"] == [
        {"system": "storefront", "collection": "customers", "field": "phone", "rows": 1}
    ]
    assert [c["field"] for c in got["customer 4"]["summary"]["corrected"]] == [
        "first_name",
        "last_name",
    ]
    assert got["customer 6"]["summary"]["corrected"] == []  # found nothing, changed nothing
    phones = {row[0]: row[3] for row in together["customers"]}
    assert (phones["1"], phones["2"], phones["3"]) == ("+14155550100",) * 2 + ("+14155550177",)


def test_corrections_together_give_what_one_by_one_gives_on_sqlite(tmp_path: Path) -> None:
    _same_as_one_by_one(tmp_path, None)


@pytest.mark.postgres
def test_corrections_together_give_what_one_by_one_gives_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    _same_as_one_by_one(tmp_path, postgres_url)


@pytest.mark.mariadb
def test_corrections_together_give_what_one_by_one_gives_on_mariadb(
    tmp_path: Path, mariadb_url: str
) -> None:
    _same_as_one_by_one(tmp_path, mariadb_url)


def test_with_the_setting_off_the_worker_corrects_each_request_alone(tmp_path: Path) -> None:
    # RIGHTFUL_CORRECTION_BATCHES=false: the worker's pass reads and writes as one by one does.
    off = _run(tmp_path / "off", None, together=True, correction_batches=False)
    alone = _run(tmp_path / "alone", None, together=False)
    assert off == alone
    assert (off["reads"], off["updates"]) != (11, 5)
