"""Workers that never repeat a side effect (issue 12): two `rightful worker` processes on one
backlog of deletions tell each business partner once per request, and each answer is audited
once — also when one worker is killed (SIGKILL) in the middle of a webhook."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import demo_urls
from rightful.inventory.models import Partner
from rightful.rights import flows, service
from rightful.rights.models import PartnerNotice, RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from tests.support import workers
from tests.support.app import latest_code, make_settings, prepare

PARTNERS = ("brightads", "helpdesk_cloud", "lumen_services", "parcelgo", "payflow")
PEOPLE = 8  # 40 notices


class CountingPartners:
    """A real HTTP server playing every partner: it counts the notices it accepted, per
    partner and request, and can hold the n-th POST until released (then answers 503, having
    done nothing), the moment a test kills the worker that sent it."""

    def __init__(self, hold_nth: int | None = None) -> None:
        self.accepted: Counter[tuple[str, str]] = Counter()
        self.posts = 0
        self.hold_nth = hold_nth
        self.arrived, self.release = threading.Event(), threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.posts += 1
                    held = outer.posts == outer.hold_nth
                if held:
                    outer.arrived.set()
                    assert outer.release.wait(120)
                    return self._answer(503, {"error": "unavailable"})
                time.sleep(0.05)  # a partner's real work: long enough for workers to overlap
                with outer.lock:
                    outer.accepted[(self.path.strip("/"), body["reference"])] += 1
                self._answer(200, {"status": "deleted"})

            def _answer(self, status: int, answer: dict[str, str]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def partners() -> Iterator[CountingPartners]:
    server = CountingPartners()
    yield server
    server.close()


def backlog(tmp_path: Path, database_url: str, server: CountingPartners) -> tuple[Runtime, list]:
    """A Rightful on PostgreSQL whose partners have webhooks on `server`, and approved
    deletions for the first PEOPLE customers, waiting for a worker."""
    runtime = prepare(
        make_settings(tmp_path, database_url=database_url, allow_http_webhooks=True), people=40
    )
    with unit_of_work(runtime.sessions) as session:
        for key in PARTNERS:
            partner = session.get(Partner, key)
            assert partner is not None
            partner.erasure_webhook = f"{server.url}/{key}"
    store = create_engine(demo_urls(runtime.settings.data_dir)["storefront"])
    with store.connect() as conn:
        people = conn.execute(
            text("SELECT email, phone FROM customers ORDER BY id LIMIT :n"), {"n": PEOPLE}
        ).all()
    store.dispose()
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
    return runtime, ids


def start_worker(runtime: Runtime) -> subprocess.Popen[bytes]:
    return workers.start_worker(runtime, RIGHTFUL_ALLOW_HTTP_WEBHOOKS="true")


def all_completed(runtime: Runtime, ids: list[str]) -> Callable[[], bool]:
    def check() -> bool:
        with runtime.sessions() as session:
            statuses = session.scalars(
                select(RightsRequest.status).where(RightsRequest.id.in_(ids))
            )
            return set(statuses) == {"completed"}

    return check


def assert_each_notice_once(runtime: Runtime, ids: list[str], server: CountingPartners) -> None:
    with runtime.sessions() as session:
        references = list(
            session.scalars(select(RightsRequest.reference).where(RightsRequest.id.in_(ids)))
        )
        notices = session.scalars(
            select(PartnerNotice.status).where(PartnerNotice.request_id.in_(ids))
        ).all()
        acknowledged = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "partner.acknowledged", AuditEvent.subject_id.in_(ids))
        )
    expected = {(partner, ref) for partner in PARTNERS for ref in references}
    assert set(server.accepted) == expected
    assert [k for k, n in server.accepted.items() if n > 1] == []  # no partner told twice
    assert len(notices) == len(expected) and set(notices) == {"acknowledged"}
    assert acknowledged == len(expected)  # one audit event per answer


@pytest.mark.postgres
def test_two_workers_on_one_backlog_tell_each_partner_once(
    tmp_path: Path, postgres_url: str, partners: CountingPartners
) -> None:
    runtime, ids = backlog(tmp_path, postgres_url, partners)
    pair = [start_worker(runtime), start_worker(runtime)]
    try:
        workers.wait_for(all_completed(runtime, ids), "both workers to finish the backlog")
    finally:
        workers.stop(pair)
    assert_each_notice_once(runtime, ids, partners)
    assert partners.posts == len(PARTNERS) * PEOPLE
    runtime.engine.dispose()
    dispose_all()


@pytest.mark.postgres
def test_a_worker_killed_mid_webhook_leaves_its_notices_to_the_others_sent_once(
    tmp_path: Path, postgres_url: str
) -> None:
    server = CountingPartners(hold_nth=7)
    try:
        runtime, ids = backlog(tmp_path, postgres_url, server)
        workers.kill_while_held(start_worker(runtime), server, "the seventh notice")
        pair = [start_worker(runtime), start_worker(runtime)]
        try:
            workers.wait_for(all_completed(runtime, ids), "the other workers to finish the backlog")
        finally:
            workers.stop(pair)
        assert_each_notice_once(runtime, ids, server)
        runtime.engine.dispose()
        dispose_all()
    finally:
        server.close()
