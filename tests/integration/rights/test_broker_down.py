"""Approval that tells the truth (issue 12): with the broker unreachable, approving answers
with the request as it really is — executing, kept in the database for the sweep — never a 500
saying nothing changed; the sweep's list holds it, and a worker then finishes it."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.rights import flows
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app
from rightful.worker import jobs
from tests.support.app import AVERY, latest_code, make_settings, prepare
from tests.support.services import _free_port


def test_approving_while_the_broker_is_down_says_executing_and_the_sweep_finishes_it(
    tmp_path: Path,
) -> None:
    closed = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    runtime = prepare(make_settings(tmp_path, broker_url=closed, embedded_worker=False))
    data = RequestIn(request_type="access", declaration_signature="Avery Quinn", **AVERY)  # type: ignore[arg-type]
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with unit_of_work(runtime.sessions) as session:
        code = latest_code(runtime, request_id)
        flows.verify(session, runtime.settings, request_id=request_id, code=code)
        staff = create_staff(
            session,
            email="approver@lumen.example",
            name="Ada Approver",
            password=secrets.token_urlsafe(18),
            role="approver",
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=staff, name="t", actor=system_actor("test"))
    with TestClient(create_app(runtime, start_worker=False)) as client:
        answer = client.post(
            f"/api/v1/rights-requests/{request_id}/approve",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "executing"
    assert request_id in jobs.stranded(runtime)  # what the beat's sweep queues again
    assert jobs.execute(runtime, [request_id]) == 1  # a worker's pass, once the broker is back
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None and req.status == "completed"
    runtime.engine.dispose()
    dispose_all()
