"""Two workers running the deadlines job at the same moment on PostgreSQL send each reminder,
escalation and digest once: the claim in due_notices decides which one sends it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.messaging.models import OutboxMessage
from rightful.migrations import upgrade
from rightful.rights import service
from rightful.rights.clock_models import DueNotice
from rightful.rights.due import DueRun, run_due_daily
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.security.service import create_staff
from tests.integration.due.conftest import APPROVER, NOW
from tests.support.app import make_settings


@pytest.fixture
def pg_runtime(tmp_path: Path, postgres_url: str, frozen: datetime) -> Iterator[Runtime]:
    runtime = build_runtime(make_settings(tmp_path, database_url=postgres_url))
    upgrade(runtime.engine)
    yield runtime
    runtime.engine.dispose()


def test_two_workers_at_once_send_each_reminder_escalation_and_digest_once(
    pg_runtime: Runtime,
) -> None:
    settings = pg_runtime.settings
    with unit_of_work(pg_runtime.sessions) as session:
        create_staff(
            session,
            email=APPROVER,
            name="Ava Approver",
            password="correct horse battery staple",
            actor=system_actor("test"),
            role="approver",
        )
        for days_ago in (50, 43, 43, 44):  # one overdue, three due within days
            data = RequestIn(request_type="know_categories", email="p@example.com")
            service.create_request(
                session, settings, data, received_at=NOW - timedelta(days=days_ago)
            )

    start = threading.Barrier(2)
    runs: list[DueRun] = []

    def worker() -> None:
        with pg_runtime.sessions() as session:
            start.wait()
            runs.append(run_due_daily(session, settings))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(runs) == 2
    assert sum(r.digest for r in runs) == 1
    with pg_runtime.sessions() as session:
        claims = session.scalar(select(func.count()).select_from(DueNotice))
        by_template = dict(
            session.execute(
                select(OutboxMessage.template, func.count()).group_by(OutboxMessage.template)
            ).all()
        )
    # Every clock claimed once: each reminder and escalation once across both workers.
    assert sum(r.reminders + r.escalations for r in runs) == claims - 1  # and the digest
    assert by_template["due_digest"] == 1
    assert by_template["due_reminder"] <= 2 and by_template["overdue"] <= 2
    assert sum(r.reminders for r in runs) == 3  # the three responses due within 3 business days
