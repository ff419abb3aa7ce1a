"""A worker killed with SIGKILL while it finishes a batch of access requests - every package
written, the batch's bookkeeping inside its one transaction - and the batch finished by another
worker: every request completed once, with the packages, records, audit events and e-mails of an
uninterrupted batch (PostgreSQL)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime
from rightful.messaging.models import OutboxMessage
from rightful.rights.models import RightsRequest
from rightful.security.models import AuditEvent
from rightful.worker.jobs import execute
from tests.integration.rights.test_access_batches import _outcomes, _ready
from tests.integration.rights.test_erasure_batch_crash import _sleeping_in
from tests.support import workers
from tests.support.workers import wait_for

# The batch's e-mails are its last statement before the audit events and the commit.
SLOW_OUTBOX = """
CREATE FUNCTION slow_insert() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(120); RETURN NULL; END $$ LANGUAGE plpgsql;
CREATE TRIGGER slow BEFORE INSERT ON outbox_messages
FOR EACH STATEMENT EXECUTE FUNCTION slow_insert();
"""
# The killed worker's connection sleeps on (holding its locks) until ended.
END_SLEEPERS = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event = 'PgSleep'
"""


def _statuses(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return sorted(session.scalars(select(RightsRequest.status)))


@pytest.mark.postgres
def test_a_batch_killed_while_finishing_is_finished_once_by_another_worker(
    tmp_path: Path, make_postgres_db: Callable[[], str]
) -> None:
    clean = _ready(tmp_path / "clean", make_postgres_db(), batches=True, store=make_postgres_db())
    try:
        assert execute(clean) == 6
        want = _outcomes(clean)
    finally:
        clean.engine.dispose()
        dispose_all()
    store = make_postgres_db()
    runtime = _ready(tmp_path / "crash", make_postgres_db(), batches=True, store=store)
    with runtime.sessions() as session:
        ids = list(session.scalars(select(RightsRequest.id)))
    engine = create_engine(store)
    with engine.begin() as conn:
        conn.execute(text(SLOW_OUTBOX))

    worker = workers.start_worker(runtime)
    try:
        wait_for(lambda: _sleeping_in(store), "the worker inside the batch's transaction")
        # Every package was written before the bookkeeping began; nothing is finished yet.
        packages = runtime.settings.package_dir
        assert all((packages / f"{rid}.zip.enc").exists() for rid in ids)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        workers.stop([worker])
    with engine.begin() as conn:
        conn.execute(text(END_SLEEPERS))
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER slow ON outbox_messages"))
    engine.dispose()
    with runtime.sessions() as session:  # nothing of the killed transaction was kept
        assert _statuses(runtime) == ["executing"] * 6
        assert not session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.template == "completed")
        ).all()
        assert not session.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "request.completed")
        ).all()

    worker = workers.start_worker(runtime)
    try:
        wait_for(lambda: _statuses(runtime) == ["completed"] * 6, "the batch finished")
    finally:
        workers.stop([worker])
    try:
        # Once each: one move, one audit event and one e-mail, the packages of a clean batch.
        assert _outcomes(runtime) == want
    finally:
        runtime.engine.dispose()
        dispose_all()
