"""Manual tasks through the REST API: listed, read (whom for, audited), completed with
problem+json for bad input, and the request finishes."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights.execution import run_request
from rightful.security.permissions import system_actor
from rightful.security.service import access_staff, create_api_token
from rightful.web.app import create_app
from tests.integration.tasks.conftest import ARCHIVIST, add_archive, add_people, approved
from tests.support.app import make_settings, prepare


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient, dict[str, str]]]:
    runtime = prepare(make_settings(tmp_path), people=10)
    add_archive(runtime)
    add_people(runtime)
    with unit_of_work(runtime.sessions) as session:
        staff = access_staff(session, email=ARCHIVIST)
        token = create_api_token(session, staff=staff, name="t", actor=system_actor("t"))
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield runtime, client, {"Authorization": f"Bearer {token}"}
    runtime.engine.dispose()
    dispose_all()


def test_the_owner_lists_reads_and_completes_a_task_through_the_api(
    api: tuple[Runtime, TestClient, dict[str, str]],
) -> None:
    runtime, client, auth = api
    request_id = approved(runtime, "delete")
    run_request(runtime.sessions, runtime.settings, request_id)
    (listed,) = client.get("/api/v1/tasks", headers=auth).json()
    assert (listed["kind"], listed["system_name"], listed["subject"]) == (
        "erase",
        "Paper archive",
        None,  # a list never carries anyone's details
    )
    one = client.get(f"/api/v1/tasks/{listed['id']}", headers=auth).json()
    assert one["subject"]["identities"]["email"] == "avery.quinn@example.com"
    bad = client.post(
        f"/api/v1/tasks/{listed['id']}/complete", headers=auth, json={"outcome": "deleted"}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "note"
    proof = base64.b64encode(b"shredded 3 cards").decode()
    done = client.post(
        f"/api/v1/tasks/{listed['id']}/complete",
        headers=auth,
        json={
            "outcome": "deleted",
            "evidence": {
                "filename": "r.txt",
                "content_type": "text/plain",
                "content_base64": proof,
            },
        },
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["outcome"]) == ("done", "deleted")
    again = client.post(
        f"/api/v1/tasks/{listed['id']}/complete", headers=auth, json={"outcome": "nothing_held"}
    )
    assert again.status_code == 409
    assert client.get("/api/v1/tasks", headers=auth).json() == []
    assert client.get("/api/v1/tasks/nothing", headers=auth).status_code == 404
