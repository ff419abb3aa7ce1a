"""Bulk intake on the real store (SQLite and PostgreSQL): every line checked by the single
request's path and reported by its line, nothing half-imported, nothing filed twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from rightful.core.db import unit_of_work
from rightful.core.errors import ConflictError
from rightful.core.runtime import Runtime, build_runtime
from rightful.messaging.models import OutboxMessage
from rightful.migrations import upgrade
from rightful.rights import agents, bulk, service
from rightful.rights.bulk_schemas import BatchReport, Mode
from rightful.rights.import_models import ImportedRequest
from rightful.rights.models import RightsRequest
from rightful.security import audit
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from tests.support.app import make_settings

SOURCE = "Permission Slip"
GOOD = [
    {"external_id": "PS-1", "request_type": "delete", "email": "casey.rivera@example.com",
     "name": "Casey Rivera", "received_at": "2026-11-30"},
    {"external_id": "PS-2", "request_type": "opt_out_sale", "email": "morgan.lee@example.net",
     "jurisdiction": "US-TX", "received_at": "2026-12-01"},
    {"external_id": "PS-3", "request_type": "delete", "email": "dana.ortiz@example.com",
     "name": "Dana Ortiz", "requester_role": "agent", "requester_name": "Permission Slip",
     "requester_email": "agents@permissionslip.example"},
]  # fmt: skip
FUTURE = (date.today() + timedelta(days=3)).isoformat()
BAD = [
    {"external_id": "PS-4", "request_type": "delete", "email": "not-an-email"},
    {"external_id": "PS-5", "request_type": "erase_everything", "email": "jamie.cho@example.com"},
    {"external_id": "PS-6", "request_type": "delete", "email": "alex.ng@example.com",
     "received_at": FUTURE},
    {"external_id": "PS-7", "request_type": "delete", "name": "No Address"},
    {"external_id": "PS-1", "request_type": "delete", "email": "casey.rivera@example.com"},
]  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """A migrated Rightful store, SQLite or PostgreSQL."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    runtime = build_runtime(make_settings(tmp_path, database_url=url))
    upgrade(runtime.engine)
    yield runtime
    runtime.engine.dispose()


def _lines(rows: list[dict[str, Any]]) -> list[bulk.Line]:
    return [bulk.Line(n, row) for n, row in enumerate(rows, 2)]  # line 1 is a CSV's header


def _import(
    runtime: Runtime, rows: list[dict[str, Any]], mode: Mode = "all_or_nothing"
) -> BatchReport:
    with unit_of_work(runtime.sessions) as session:
        return bulk.import_lines(
            session, runtime.settings, _lines(rows), actor=system_actor("test"), via="cli",
            source=SOURCE, mode=mode,
        )  # fmt: skip


def _count(runtime: Runtime, model: type[Any]) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_batch_with_bad_lines_reports_each_and_imports_nothing(store: Runtime) -> None:
    with pytest.raises(bulk.BatchRejectedError) as caught:
        _import(store, GOOD + BAD)
    report = caught.value.report
    assert [(r.line, r.external_id, [e.field for e in r.errors]) for r in report.rejected] == [
        (5, "PS-4", ["email"]),
        (6, "PS-5", ["request_type"]),
        (7, "PS-6", ["received_at"]),
        (8, "PS-7", ["email"]),
        (9, "PS-1", ["external_id"]),
    ]
    messages = {r.line: r.errors[0].message for r in report.rejected}
    assert messages[7] == "The date received is in the future."
    assert messages[9] == "This external_id is already on line 2 of this batch."
    assert report.imported == [] and not report.saved
    for model in (RightsRequest, ImportedRequest, OutboxMessage, AuditEvent):
        assert _count(store, model) == 0, model


def test_valid_only_imports_exactly_the_good_lines_whole(store: Runtime) -> None:
    report = _import(store, GOOD + BAD, mode="valid_only")
    assert [(i.line, i.external_id) for i in report.imported] == [
        (2, "PS-1"),
        (3, "PS-2"),
        (4, "PS-3"),
    ]
    assert [r.line for r in report.rejected] == [5, 6, 7, 8, 9]
    assert _count(store, RightsRequest) == 3 and _count(store, ImportedRequest) == 3
    with store.sessions() as session:
        first = service.access_request(session, report.imported[0].id)
        assert first.reference == report.imported[0].reference
        assert first.received_at.date() == date(2026, 11, 30)  # the clocks run from the line's day
        assert "casey" not in first.identities  # sealed, as a single request's
        assert service.identities_of(store.settings, first)["email"] == "casey.rivera@example.com"
        agent = service.access_request(session, report.imported[2].id)
        assert agent.requester_role == "agent"
        assert service.reply_address(store.settings, agent) == "agents@permissionslip.example"
        acknowledged = session.scalars(select(OutboxMessage.request_id)).all()
        assert sorted(acknowledged) == sorted(i.id for i in report.imported)
        entered = [
            e.detail["imported"]
            for e in audit.events_for(session, subject_type="rights_request", subject_id=first.id)
            if e.action == "request.entered"
        ]
        assert entered == [{"source": SOURCE, "external_id": "PS-1"}]


def test_a_line_refused_deep_in_the_path_leaves_nothing_and_the_audit_chain_whole(
    store: Runtime,
) -> None:
    # Five codes an hour to one address (the single path's rule): the sixth and seventh lines
    # are refused after their request and audit rows were written, and are taken back whole;
    # the line after them chains onto the last row kept.
    rows = [
        {"external_id": f"S-{n}", "request_type": "delete", "email": "same.person@example.com"}
        for n in range(7)
    ] + [{"external_id": "S-7", "request_type": "delete", "email": "someone.else@example.com"}]
    report = _import(store, rows, mode="valid_only")
    assert [r.line for r in report.imported] == [2, 3, 4, 5, 6, 9]
    assert [(r.line, r.errors[0].message) for r in report.rejected] == [
        (7, "Too many codes were sent to this address. Try again in an hour."),
        (8, "Too many codes were sent to this address. Try again in an hour."),
    ]
    assert _count(store, RightsRequest) == 6 and _count(store, OutboxMessage) == 6
    with store.sessions() as session:
        verdict = audit.verify_chain(session)
    assert verdict.intact, verdict.message


def test_the_same_batch_again_files_nothing_twice(store: Runtime) -> None:
    first = _import(store, GOOD)
    again = _import(store, GOOD)
    assert again.imported == [] and not again.saved
    assert [(d.line, d.reference, d.id) for d in again.duplicates] == [
        (i.line, i.reference, i.id) for i in first.imported
    ]
    assert _count(store, RightsRequest) == 3
    assert _count(store, OutboxMessage) == 3  # no second acknowledgement either


def test_the_same_reference_from_another_source_is_another_request(store: Runtime) -> None:
    _import(store, GOOD[:1])
    with unit_of_work(store.sessions) as session:
        other = bulk.import_lines(
            session, store.settings, _lines(GOOD[:1]), actor=system_actor("test"), via="cli",
            source="Previous tool",
        )  # fmt: skip
    assert len(other.imported) == 1
    assert _count(store, RightsRequest) == 2


def test_a_line_without_received_at_starts_its_clocks_today(store: Runtime) -> None:
    report = _import(store, [{"external_id": "X-1", "request_type": "delete",
                              "email": "riley.park@example.com"}])  # fmt: skip
    with store.sessions() as session:
        req = service.access_request(session, report.imported[0].id)
        assert req.received_at.date() == date.today()
        assert req.channel == "api"


def test_a_batch_over_ten_thousand_lines_is_refused_whole(store: Runtime) -> None:
    rows = [{"external_id": str(n)} for n in range(10_001)]
    with pytest.raises(bulk.InvalidInputError, match="at most 10,000"):
        _import(store, rows)


def test_an_agent_s_request_from_a_batch_is_approved_only_once_its_permission_is_checked(
    store: Runtime,
) -> None:
    line = {**GOOD[2], "identity_method": "signed_letter"}  # verified: it waits for approval
    report = _import(store, [line])
    request_id = report.imported[0].id
    assert report.imported[0].status == "awaiting_approval"
    staff = system_actor("officer")
    refused = pytest.raises(ConflictError, match="no permission from the consumer")
    with refused, unit_of_work(store.sessions) as session:
        service.approve_request(session, store.settings, request_id=request_id, actor=staff)
    with unit_of_work(store.sessions) as session:
        agents.record_permission_check(
            session, store.settings, request_id=request_id, actor=staff, valid=True
        )
        approved = service.approve_request(
            session, store.settings, request_id=request_id, actor=staff
        )
        assert approved.status == "executing"


@pytest.mark.postgres
def test_the_same_batch_sent_twice_at_once_is_filed_once(tmp_path: Path, postgres_url: str) -> None:
    # A client that retries before the first call has answered: the second waits for the
    # first, then reports every line as imported before.
    runtime = build_runtime(make_settings(tmp_path, database_url=postgres_url))
    upgrade(runtime.engine)
    start = threading.Barrier(2)

    def send() -> BatchReport:
        start.wait()
        return _import(runtime, GOOD)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = [f.result() for f in [pool.submit(send), pool.submit(send)]]
    assert sorted(len(r.imported) for r in reports) == [0, 3]
    assert sorted(len(r.duplicates) for r in reports) == [0, 3]
    assert _count(runtime, RightsRequest) == 3
    runtime.engine.dispose()
