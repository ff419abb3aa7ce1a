"""Celery on Redis without empty work: a burst of approvals leaves one mail pass waiting, not
one per call, and every message still goes out once; a task whose store connection is killed
gives its requests back and retries, instead of holding them until the lease ends."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import demo_urls
from rightful.messaging.models import OutboxMessage
from rightful.rights import flows, service
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from rightful.worker.celery_app import QUEUES
from rightful.worker.dispatch import Dispatcher
from tests.support.app import latest_code, make_settings, prepare
from tests.support.services import SmtpTestServer
from tests.support.workers import start_celery_worker, stop, wait_for

BURST = 20


def people(runtime: Runtime, n: int) -> list[tuple[str, str, str]]:
    store = create_engine(demo_urls(runtime.settings.data_dir)["storefront"])
    with store.connect() as conn:
        rows = conn.execute(
            text("SELECT email, phone, first_name || ' ' || last_name FROM customers LIMIT :n"),
            {"n": n},
        ).all()
    store.dispose()
    return [(str(e), str(p), str(name)) for e, p, name in rows]


def approve_as_the_api_does(runtime: Runtime, n: int) -> list[str]:
    """Submit, verify and approve access requests, telling the dispatcher after each call as
    the routes do (mail_queued after every call, request_ready after the approval)."""
    dispatcher, ids = Dispatcher(runtime, None), []
    for email, phone, name in people(runtime, n):
        data = RequestIn(
            request_type="access", email=email, phone_number=phone, name=name,
            declaration_signature=name,
        )  # fmt: skip
        with unit_of_work(runtime.sessions) as session:
            request_id = flows.submit(session, runtime.settings, data, client=None).id
        dispatcher.mail_queued()
        with unit_of_work(runtime.sessions) as session:
            code = latest_code(runtime, request_id)
            flows.verify(session, runtime.settings, request_id=request_id, code=code)
        dispatcher.mail_queued()
        with unit_of_work(runtime.sessions) as session:
            service.approve_request(
                session, runtime.settings, request_id=request_id, actor=system_actor("test")
            )
        dispatcher.mail_queued()
        assert dispatcher.request_ready(request_id)
        ids.append(request_id)
    return ids


def statuses(runtime: Runtime, ids: list[str]) -> set[str]:
    with runtime.sessions() as session:
        return set(session.scalars(select(RightsRequest.status).where(RightsRequest.id.in_(ids))))


def settings_for(tmp_path: Path, postgres_url: str, redis_url: str, **more: object) -> Settings:
    return make_settings(
        tmp_path,
        database_url=postgres_url,
        broker_url=redis_url,
        embedded_worker=False,
        codes_per_client_per_hour=1000,
        requests_per_client_per_hour=1000,
        **more,
    )


@pytest.mark.postgres
@pytest.mark.redis
def test_a_burst_of_approvals_leaves_one_mail_pass_waiting_and_every_message_goes_out_once(
    tmp_path: Path, postgres_url: str, redis_url: str, smtp_server: SmtpTestServer
) -> None:
    runtime = prepare(settings_for(tmp_path, postgres_url, redis_url, smtp_url=smtp_server.url))
    ids = approve_as_the_api_does(runtime, BURST)
    broker = redis.Redis.from_url(redis_url)
    # 60 calls told the dispatcher of mail; passes waiting for the mail lane: one (a second
    # only if a worker had taken the first, and none runs yet). Before: one per call.
    assert broker.llen(QUEUES["mail"]) == 1
    assert broker.llen(QUEUES["propagation"]) == 0  # access requests give partners nothing
    assert broker.llen(QUEUES["execution"]) == BURST
    worker = start_celery_worker(runtime)
    try:
        wait_for(lambda: statuses(runtime, ids) == {"completed"}, "every request to complete")

        def outbox_sent() -> bool:
            with runtime.sessions() as session:
                waiting = session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status != "sent")
                )
            return waiting == 0

        wait_for(outbox_sent, "every message to be sent")
    finally:
        stop([worker])
    with runtime.sessions() as session:
        outbox = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert outbox is not None and outbox >= 2 * BURST  # acknowledgement and completion each
    assert len(smtp_server.messages) == outbox  # each once
    assert broker.llen(QUEUES["mail"]) <= 1
    runtime.engine.dispose()
    dispose_all()


FAULT = """
CREATE SEQUENCE u3_fault_once;
CREATE FUNCTION u3_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('u3_fault_once') = 1 THEN  -- a sequence is not rolled back: once only
        PERFORM pg_terminate_backend(pg_backend_pid());
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER u3_fault AFTER INSERT ON execution_steps
    FOR EACH STATEMENT EXECUTE FUNCTION u3_fault();
"""


@pytest.mark.postgres
@pytest.mark.redis
def test_a_task_whose_store_connection_is_killed_finishes_its_requests_without_the_lease(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    runtime = prepare(settings_for(tmp_path, postgres_url, redis_url))
    ids = approve_as_the_api_does(runtime, 3)
    url = make_url(postgres_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(FAULT)  # the worker's first write of steps loses its connection
    worker = start_celery_worker(runtime)
    try:
        # The leases last 600 s: only a retry of the task, its leases given back, finishes
        # them within the wait.
        wait_for(lambda: statuses(runtime, ids) == {"completed"}, "every request", 120)
    finally:
        stop([worker])
    with runtime.sessions() as session:
        fired = session.scalar(select(func.nextval("u3_fault_once")))
        assert fired is not None and fired > 2  # the trigger ran: the fault fired once
        done = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "request.completed", AuditEvent.subject_id.in_(ids))
        )
    assert done == 3  # each once
    runtime.engine.dispose()
    dispose_all()
