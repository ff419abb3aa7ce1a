"""Lanes (issue 12): a business partner whose webhook hangs holds up only the propagation lane;
the embedded worker's execution lane runs access requests to completion meanwhile."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, text

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import demo_urls
from rightful.inventory.models import Partner
from rightful.rights import flows, service
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.worker.loop import EmbeddedWorker
from tests.integration.rights.test_worker_claims import PARTNERS, CountingPartners
from tests.support.app import AVERY, latest_code, make_settings, prepare


def approved(runtime: Runtime, data: RequestIn) -> str:
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with unit_of_work(runtime.sessions) as session:
        code = latest_code(runtime, request_id)
        flows.verify(session, runtime.settings, request_id=request_id, code=code)
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    return request_id


def status(runtime: Runtime, request_id: str) -> str:
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None
        return req.status


def test_a_partner_that_hangs_never_holds_up_access_requests(tmp_path: Path) -> None:
    server = CountingPartners(hold_nth=1)  # the first notice hangs until the test lets it go
    worker: EmbeddedWorker | None = None
    try:
        # The partner's timeout is two minutes: only a lane of its own keeps requests moving.
        settings = make_settings(tmp_path, allow_http_webhooks=True, partner_timeout_seconds=120)
        runtime = prepare(settings, people=40)
        with unit_of_work(runtime.sessions) as session:
            for key in PARTNERS:
                partner = session.get(Partner, key)
                assert partner is not None
                partner.erasure_webhook = f"{server.url}/{key}"
        store = create_engine(demo_urls(settings.data_dir)["storefront"])
        with store.connect() as conn:
            email, phone = conn.execute(
                text("SELECT email, phone FROM customers WHERE email != :a ORDER BY id LIMIT 1"),
                {"a": AVERY["email"]},
            ).one()
        store.dispose()
        deletion = approved(
            runtime,
            RequestIn(request_type="delete", email=email, phone_number=phone),  # type: ignore[arg-type]
        )
        worker = EmbeddedWorker(runtime, interval=0.2)
        worker.start()
        assert server.arrived.wait(120), "the deletion's first partner notice never went out"
        access = approved(
            runtime,
            RequestIn(
                request_type="access",
                declaration_signature="Avery Quinn",  # type: ignore[arg-type]
                **AVERY,
            ),
        )
        worker.wake()
        deadline = time.monotonic() + 120
        while status(runtime, access) != "completed":
            assert time.monotonic() < deadline, "the access request never completed"
            time.sleep(0.2)
        assert server.posts == 1 and not server.release.is_set()  # the partner still hangs
        assert status(runtime, deletion) == "executing"  # waiting for its partners
    finally:
        server.release.set()
        if worker is not None:
            worker.stop()
        server.close()
    runtime.engine.dispose()
    dispose_all()
