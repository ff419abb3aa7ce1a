"""Redis killed with SIGKILL while a Celery backlog waits in it (issue 12): the queued messages
are gone, yet one tick of beat's sweep queues the stranded requests again and each finishes, once.

The kill comes before a worker starts: a running task drains every runnable request in batches
(`jobs.drain`), so a backlog a worker has begun on is finished without the broker; requests are
stranded only when their messages are lost and no task is running.

The test runs its own redis-server on a free port (no persistence, so the kill loses every
queued message), never the machine's Redis that other tests share; it is killed and restarted
on the same port, and stopped whatever happens.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, func, select, text

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import demo_urls
from rightful.rights import flows, service
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from rightful.worker.celery_app import configure
from rightful.worker.dispatch import Dispatcher
from tests.support.app import latest_code, make_settings, prepare
from tests.support.services import _free_port, running_in_ci

BACKLOG = 30  # more than the 20 one sweep used to queue again


class OwnRedis:
    """A redis-server of the test's own on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder = _free_port(), folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, "redis-server to listen", 20)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        if running_in_ci():
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    redis = OwnRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def wait_for(check: Callable[[], bool], what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def celery(runtime: Runtime, *args: str) -> subprocess.Popen[bytes]:
    settings = runtime.settings
    env = {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(settings.data_dir),
        "RIGHTFUL_SECRET_KEY": settings.secret_key,
        "RIGHTFUL_DATABASE_URL": settings.resolved_database_url,
        "RIGHTFUL_BROKER_URL": settings.broker_url,
        "RIGHTFUL_BASE_URL": settings.base_url,
    }
    command = Path(sys.executable).parent / "celery"
    return subprocess.Popen(
        [str(command), "-A", "rightful.worker.celery_app:app", *args, "--loglevel=warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def approve_backlog(runtime: Runtime) -> list[str]:
    """Access requests of BACKLOG customers, approved and handed to Celery."""
    store = create_engine(demo_urls(runtime.settings.data_dir)["storefront"])
    with store.connect() as conn:
        people = conn.execute(
            text("SELECT email, phone, first_name, last_name FROM customers ORDER BY id LIMIT :n"),
            {"n": BACKLOG},
        ).all()
    store.dispose()
    ids = []
    for email, phone, first, last in people:
        name = f"{first} {last}"
        data = RequestIn(
            request_type="access",
            email=email,
            phone_number=phone,
            name=name,
            declaration_signature=name,
        )  # type: ignore[call-arg]
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


def redis_client(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=5)


def completed(runtime: Runtime, ids: list[str]) -> int:
    with runtime.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(RightsRequest)
                .where(RightsRequest.id.in_(ids), RightsRequest.status == "completed")
            )
            or 0
        )


@pytest.mark.postgres
def test_redis_killed_under_a_celery_backlog_and_every_request_finishes_once(
    tmp_path: Path, postgres_url: str, own_redis: OwnRedis
) -> None:
    settings = make_settings(
        tmp_path,
        database_url=postgres_url,
        broker_url=own_redis.url,
        embedded_worker=False,
    )
    runtime = prepare(settings)
    ids = approve_backlog(runtime)
    dispatcher = Dispatcher(runtime, None)
    for request_id in ids:
        assert dispatcher.request_ready(request_id)
    assert redis_client(own_redis.url).dbsize() > 0  # the backlog's messages wait in Redis
    own_redis.kill()  # every queued message is lost
    own_redis.start()  # empty: only the database knows what is left
    assert redis_client(own_redis.url).dbsize() == 0
    assert completed(runtime, ids) == 0
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(celery(runtime, "worker", "--pool=solo", "--without-heartbeat"))
        configure(settings).send_task("rightful.sweep")  # one tick of beat's sweep
        wait_for(lambda: completed(runtime, ids) == BACKLOG, "every request to finish")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    with runtime.sessions() as session:
        done = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "request.completed", AuditEvent.subject_id.in_(ids))
        )
    assert done == BACKLOG  # each finished once
    runtime.engine.dispose()
    dispose_all()
