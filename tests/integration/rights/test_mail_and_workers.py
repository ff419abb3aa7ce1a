"""Mail really leaves over SMTP; requests really run off the web request, embedded or on Celery."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from rightful.connectors import registry
from rightful.connectors.sql import dispose_all
from rightful.connectors.testing import FakeConnector
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.messaging.service import deliver_pending
from rightful.rights import flows, service
from rightful.rights.execution import run_request
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.worker import jobs
from rightful.worker.dispatch import Dispatcher
from tests.support.app import AVERY, code_from, latest_code, link_from, make_settings, prepare
from tests.support.services import SmtpTestServer


def submit_and_approve(runtime: object) -> str:
    from rightful.core.runtime import Runtime

    assert isinstance(runtime, Runtime)
    data = RequestIn(request_type="access", declaration_signature="Avery Quinn", **AVERY)  # type: ignore[arg-type]
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with unit_of_work(runtime.sessions) as session:
        flows.verify(
            session, runtime.settings, request_id=request_id, code=latest_code(runtime, request_id)
        )
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    return request_id


def test_code_and_download_link_arrive_over_smtp(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    runtime = prepare(make_settings(tmp_path, smtp_url=smtp_server.url))
    data = RequestIn(request_type="access", declaration_signature="Avery Quinn", **AVERY)  # type: ignore[arg-type]
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with runtime.sessions() as session:
        assert deliver_pending(session, runtime.settings) == 1
    received = smtp_server.wait_for(AVERY["email"], subject_contains="received")
    assert "/status/" in link_from(received, "/status/")
    with unit_of_work(runtime.sessions) as session:
        flows.verify(session, runtime.settings, request_id=request_id, code=code_from(received))
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    with runtime.sessions() as session:
        deliver_pending(session, runtime.settings)
    done = smtp_server.wait_for(AVERY["email"], subject_contains="complete")
    assert link_from(done, "/download/").startswith("http://testserver/download/")
    runtime.engine.dispose()
    dispose_all()


def test_a_failed_store_leaves_finished_steps_and_the_rerun_completes_without_repeating_them(
    tmp_path: Path,
) -> None:
    runtime = prepare(make_settings(tmp_path))
    request_id = submit_and_approve(runtime)
    registry.override("support_desk", FakeConnector(reachable=False))
    try:
        assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    finally:
        registry.override("support_desk", None)
    with runtime.sessions() as session:
        first = {s.address: s.finished_at for s in session.scalars(select(ExecutionStep))}
    assert "storefront:customers" in first
    assert not any(a.startswith("support_desk:") for a in first)
    clock.freeze(clock.utcnow() + timedelta(minutes=5))  # the failed run's lease has expired
    try:
        assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    finally:
        clock.freeze(None)
    with runtime.sessions() as session:
        after = {s.address: s.finished_at for s in session.scalars(select(ExecutionStep))}
    assert len(after) == 11
    assert all(after[a] == t for a, t in first.items())  # kept, not read again
    runtime.engine.dispose()
    dispose_all()


def test_a_request_is_run_once_even_when_two_workers_race(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path))
    request_id = submit_and_approve(runtime)
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    with runtime.sessions() as session:
        events = [
            e.action
            for e in service.audit.events_for(
                session, subject_type="rights_request", subject_id=request_id
            )
        ]
    assert events.count("request.completed") == 1
    runtime.engine.dispose()
    dispose_all()


@pytest.mark.postgres
@pytest.mark.redis
def test_celery_worker_on_redis_runs_the_request_and_those_waiting_with_it_on_postgres(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url=postgres_url, broker_url=redis_url, embedded_worker=False
    )
    runtime = prepare(settings)
    request_id, *waiting = [submit_and_approve(runtime) for _ in range(3)]
    # One message only: the task runs the others too (in one batch), with no sweep running.
    Dispatcher(runtime, None).request_ready(request_id)
    env = {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(tmp_path),
        "RIGHTFUL_SECRET_KEY": settings.secret_key,
        "RIGHTFUL_DATABASE_URL": postgres_url,
        "RIGHTFUL_BROKER_URL": redis_url,
        "RIGHTFUL_BASE_URL": settings.base_url,
    }
    celery = Path(sys.executable).parent / "celery"
    worker = subprocess.Popen(
        [
            str(celery),
            "-A",
            "rightful.worker.celery_app:app",
            "worker",
            "--pool=solo",
            "--loglevel=warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        status = ""
        ids = [request_id, *waiting]
        for _ in range(120):  # wait up to a minute for the worker to finish
            with runtime.sessions() as session:
                statuses = set(
                    session.scalars(select(RightsRequest.status).where(RightsRequest.id.in_(ids)))
                )
            status = ",".join(sorted(statuses))
            if status == "completed" or worker.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert status == "completed", output[-3000:]
    with runtime.sessions() as session:
        assert len(list(session.scalars(select(ExecutionStep)))) == 11 * 3
    runtime.engine.dispose()
    dispose_all()


def test_draining_runs_every_waiting_request_not_only_the_one_asked_for(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path))
    ids = [submit_and_approve(runtime) for _ in range(3)]
    assert jobs.drain(runtime, ids[:1]) == 3
    with runtime.sessions() as session:
        statuses = session.scalars(select(RightsRequest.status).where(RightsRequest.id.in_(ids)))
        assert set(statuses) == {"completed"}
    assert jobs.drain(runtime, ids[:1]) == 0  # nothing twice
    runtime.engine.dispose()
    dispose_all()


def test_expired_packages_and_the_reads_behind_them_are_destroyed(tmp_path: Path) -> None:
    from rightful.worker.loop import run_once
    from tests.support.app import access_package

    runtime = prepare(make_settings(tmp_path))
    request_id, _ = access_package(runtime)
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None and req.package_file
        file = runtime.settings.package_dir / req.package_file
    assert file.exists()
    run_once(runtime)
    assert file.exists()  # still within its 7 days
    clock.freeze(clock.utcnow() + timedelta(days=8))
    try:
        run_once(runtime)
    finally:
        clock.freeze(None)
    assert not file.exists()
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None and req.package_file is None and req.status == "completed"
        steps = list(session.scalars(select(ExecutionStep)))
        assert len(steps) == 11 and all(s.result is None for s in steps)
    runtime.engine.dispose()
    dispose_all()


def test_closed_requests_keep_personal_data_24_months_then_only_the_timeline(
    tmp_path: Path,
) -> None:
    from rightful.identity.models import VerificationCode
    from rightful.messaging.service import list_outbox, open_letter
    from rightful.worker.loop import run_once
    from tests.support.app import access_package

    runtime = prepare(make_settings(tmp_path))
    request_id, _ = access_package(runtime)
    clock.freeze(clock.utcnow() + timedelta(days=700))
    try:
        run_once(runtime)
        with runtime.sessions() as session:
            assert service.identities_of(runtime.settings, session.get(RightsRequest, request_id))
        clock.freeze(clock.utcnow() + timedelta(days=40))  # now past 24 months
        run_once(runtime)
    finally:
        clock.freeze(None)
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None and req.minimised_at is not None and req.status == "completed"
        assert service.identities_of(runtime.settings, req) == {}
        letters = [
            open_letter(runtime.settings, m) for m in list_outbox(session, request_id=request_id)
        ]
        assert letters and all(AVERY["email"] not in x.text + x.to for x in letters)
        assert session.scalars(select(VerificationCode)).all() == []
        timeline = [
            e.action
            for e in service.audit.events_for(
                session, subject_type="rights_request", subject_id=request_id
            )
        ]
    assert "request.completed" in timeline and timeline[-1] == "request.minimised"
    runtime.engine.dispose()
    dispose_all()
