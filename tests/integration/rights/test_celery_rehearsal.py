"""Celery's parent rehearses its pool's jobs before it forks (worker/preload.py): on PostgreSQL
each job runs once against empty temporary copies of Rightful's tables, so the SQL and caches
its first run builds are made once and shared by the pool processes, and nothing changes."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from rightful.connectors.sql import dispose_all
from rightful.core.db import Base
from rightful.core.runtime import Runtime, build_runtime
from rightful.rights.models import RightsRequest
from rightful.worker import celery_app, jobs
from rightful.worker.integrity import verify_chains_daily
from rightful.worker.preload import rehearse
from tests.integration.rights.test_mail_and_workers import submit_and_approve
from tests.support.app import make_settings, prepare
from tests.support.services import SmtpTestServer


def every_row(runtime: Runtime) -> dict[str, list[str]]:
    """Each table's rows, as text, in a stable order."""
    with runtime.engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


@pytest.mark.postgres
def test_the_rehearsal_builds_the_jobs_sql_and_leaves_the_store_and_the_inboxes_as_they_were(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpTestServer
) -> None:
    settings = make_settings(
        tmp_path, database_url=postgres_url, smtp_url=smtp_server.url, embedded_worker=False
    )
    runtime = prepare(settings)
    request_id = submit_and_approve(runtime)  # a request to run and mail to send: real work
    before = every_row(runtime)
    assert before["outbox_messages"] and before["rights_requests"]
    parent = build_runtime(settings)  # as Celery's parent builds it before forking
    try:
        rehearse(parent, celery_app._REHEARSED)
    finally:
        gc.unfreeze()
    cache: Any = parent.engine._compiled_cache  # what the pool processes will share
    assert len(cache) > 20
    assert every_row(runtime) == before  # nothing run, claimed, sent or written
    with parent.engine.connect() as conn:  # the temporary tables went with the rollback
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname LIKE 'pg_temp%'")
            ).scalar()
            == 0
        )
    assert smtp_server.messages == []
    # The work is still there for the pool: the request runs and the mail goes out.
    assert jobs.drain(parent) == 1
    while jobs.mail(parent):
        pass
    with parent.sessions() as session:
        assert (
            session.scalar(select(RightsRequest.status).where(RightsRequest.id == request_id))
            == "completed"
        )
    assert smtp_server.messages
    for engine in (runtime.engine, parent.engine):
        engine.dispose()
    dispose_all()


@pytest.mark.postgres
def test_the_rehearsal_holds_no_empty_store_to_the_real_anchors(
    tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The chains' daily check is not rehearsed: on the empty copies it would find the audit
    log shorter than its anchors on disk and report it broken (or anchor an empty log)."""
    settings = make_settings(tmp_path, database_url=postgres_url, embedded_worker=False)
    runtime = prepare(settings)
    submit_and_approve(runtime)  # events in the audit log
    verify_chains_daily(runtime.sessions, settings)  # and its head anchored on disk
    anchored = {p.name: p.read_bytes() for p in settings.anchor_dir.iterdir()}
    assert anchored
    parent = build_runtime(settings)
    try:
        with caplog.at_level(logging.INFO):
            rehearse(parent, celery_app._REHEARSED)
    finally:
        gc.unfreeze()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert {p.name: p.read_bytes() for p in settings.anchor_dir.iterdir()} == anchored
    for engine in (runtime.engine, parent.engine):
        engine.dispose()
    dispose_all()


@pytest.mark.postgres
def test_a_store_that_cannot_be_reached_only_costs_the_rehearsal(tmp_path: Path) -> None:
    """The worker starts anyway: the rehearsal gives up and the children connect as before."""
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # nothing listens on port 1
    parent = build_runtime(make_settings(tmp_path, database_url=url))
    try:
        rehearse(parent, celery_app._REHEARSED)
    finally:
        gc.unfreeze()
    cache: Any = parent.engine._compiled_cache
    assert len(cache) == 0
