"""A worker killed with SIGKILL in the middle of an HTTP system's pages or deletes: the next
worker finishes without a row twice in the package, without a second delete of anything the
API already deleted, and says exactly what the API deleted."""

from __future__ import annotations

import copy
import io
import json
import signal
import threading
import zipfile
from collections.abc import Callable, Iterator

import pytest
import yaml
from sqlalchemy import select

from rightful.connectors.contract import ROWS
from rightful.connectors.http import complete_dataset, load_config
from rightful.core.db import unit_of_work
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights import flows, service
from rightful.rights.models import RightsRequest
from rightful.rights.package import load
from rightful.rights.packaging import package_vault
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from tests.connectors.apiserver import Answer, Asked, serving
from tests.connectors.users_api import CONFIG, DATASET, UsersAPI
from tests.integration.rights.test_erasure import partners_confirm
from tests.integration.rights.test_erasure_crash import start_worker, wait_for
from tests.support.app import AVERY, App, latest_code

ORDERS = 7  # Avery's, two to a page: four pages

SYSTEM = {
    "fides_key": "users_api",
    "name": "Users API",
    "description": "Accounts and orders kept by a hosted service.",
    "system_type": "Service",
    "connection_type": "http",
    "dataset_references": ["users_api"],
    "privacy_declarations": [
        {
            "name": "Accounts",
            "data_use": "essential.service",
            "data_categories": ["user.contact.email", "user.unique_id"],
            "data_subjects": ["customer"],
        }
    ],
}


class Held:
    """The `nth` request matching a method and path prefix waits in the server until released,
    then answers 503 without having done anything (it never reached the API's work)."""

    def __init__(self, method: str, prefix: str, nth: int, when: Callable[[Asked], bool]) -> None:
        self.method, self.prefix, self.nth, self.when = method, prefix, nth, when
        self.seen = 0
        self.arrived, self.release = threading.Event(), threading.Event()

    def holds(self, asked: Asked) -> bool:
        if asked.method != self.method or not asked.path.startswith(self.prefix):
            return False
        if not self.when(asked):
            return False
        self.seen += 1
        return self.seen == self.nth


class HoldingUsersAPI(UsersAPI):
    """The users API with one request held (see `Held`), and a tally of what it deleted."""

    def __init__(self) -> None:
        super().__init__(orders_per_user=5)
        self.held: Held | None = None
        self.deleted: list[str] = []  # ids, each time the API really deleted something
        self.deletes_of_gone: list[str] = []  # DELETEs for something already deleted

    def answer(self, asked: Asked) -> Answer:
        held = self.held
        if held is not None:
            with self.lock:
                holds = held.holds(asked)
            if holds:
                held.arrived.set()
                assert held.release.wait(120), "the held request was never released"
                return Answer(503, {"error": {"message": "Service unavailable"}})
        if asked.method == "DELETE":
            known = {str(u["id"]) for u in self.users} | {o["id"] for o in self.orders}
            target = asked.path.rsplit("/", 1)[-1]
            answer = super().answer(asked)
            with self.lock:
                if target in known and answer.status < 300:
                    self.deleted.append(target)
                elif target in self.deleted:
                    self.deletes_of_gone.append(target)
            return answer
        return super().answer(asked)


@pytest.fixture
def api(rightful_app: App) -> Iterator[HoldingUsersAPI]:
    """Avery's account and seven orders on a users API connected as a system of the data map."""
    with serving(HoldingUsersAPI()) as server:
        server.users.append({"id": 7, "email": AVERY["email"], "order": "seventh", "select": "s"})
        server.orders += [{"id": f"o7-{n}", "user": 7, "item": f"lamp {n}"} for n in range(ORDERS)]
        dataset = copy.deepcopy(DATASET)
        # What was bought is plain behaviour here (the demo policy keeps purchase history for
        # tax, which would mask rather than delete these orders).
        order = next(c for c in dataset["collections"] if c["name"] == "order")
        next(f for f in order["fields"] if f["name"] == "item")["data_categories"] = [
            "user.behavior"
        ]
        content = yaml.safe_dump(
            {"dataset": [complete_dataset(load_config(CONFIG), dataset)], "system": [SYSTEM]}
        )
        c, auth = rightful_app.client, rightful_app.auth
        r = c.post(
            "/api/v1/inventory", headers=auth, json=[{"name": "users_api.yml", "content": content}]
        )
        assert r.status_code == 200, r.text
        r = c.put(
            "/api/v1/systems/users_api/connection",
            headers=auth,
            json={"kind": "http", "settings": server.settings()},
        )
        assert r.status_code == 204, r.text
        yield server


def approved(app: App, request_type: str) -> str:
    runtime = app.runtime
    data = RequestIn(
        request_type=request_type,
        declaration_signature="Avery Quinn",  # type: ignore[arg-type]
        date_range="all",
        **AVERY,
    )
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with unit_of_work(runtime.sessions) as session:
        checked = flows.verify(
            session, runtime.settings, request_id=request_id, code=latest_code(runtime, request_id)
        )
        assert checked.error is None
    with unit_of_work(runtime.sessions) as session:
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    return request_id


def status(app: App, request_id: str) -> str:
    with app.runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None
        return req.status


def kill_when_held(app: App, held: Held) -> None:
    """Start a worker, SIGKILL it while the held request waits, then let the request go."""
    worker = start_worker(app.runtime)
    try:
        assert held.arrived.wait(180), "the worker never reached the held request"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
        held.release.set()


def finish(app: App, done: Callable[[], bool], what: str, *, partners: str | None = None) -> None:
    """A new worker carries the request on until `done` (partners confirming when asked)."""
    worker = start_worker(app.runtime)
    try:
        if partners:
            wait_for(lambda: status(app, partners) != "executing" or _notices(app, partners), what)
            partners_confirm(app.runtime, partners)
        wait_for(done, what)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _notices(app: App, request_id: str) -> bool:
    from rightful.rights.models import ErasureStep, PartnerNotice

    with app.runtime.sessions() as session:
        open_steps = session.scalars(
            select(ErasureStep.id).where(
                ErasureStep.request_id == request_id, ErasureStep.done_at.is_(None)
            )
        ).all()
        notices = session.scalars(
            select(PartnerNotice.id).where(PartnerNotice.request_id == request_id)
        ).all()
        return not open_steps and bool(notices)


def test_a_worker_killed_mid_pagination_resumes_without_duplicate_rows(
    rightful_app: App, api: HoldingUsersAPI
) -> None:
    request_id = approved(rightful_app, "access")
    asked_before = len(api.calls("GET", "/orders"))  # verification reads them too
    # The second page of Avery's orders is held: the worker has read page one.
    api.held = Held("GET", "/orders", 1, lambda a: "starting_after" in a.query)
    kill_when_held(rightful_app, api.held)
    assert status(rightful_app, request_id) == "executing"
    api.held = None

    finish(rightful_app, lambda: status(rightful_app, request_id) == "completed", "the package")
    with rightful_app.runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None and req.package_file
        package = load(
            package_vault(rightful_app.runtime.settings),
            rightful_app.runtime.settings.package_dir,
            req.package_file,
        )
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        data = json.loads(archive.read("data.json"))["data"]["Users API"]
    assert sorted(o["id"] for o in data["order"]) == [f"o7-{n}" for n in range(ORDERS)]
    assert [u["id"] for u in data["user"]] == [7]
    # The killed worker read page one (its page two never answered); the next one read every
    # page, once each.
    pages = [a.query.get("starting_after") for a in api.calls("GET", "/orders")]
    assert pages[asked_before:] == [None, None, "o7-1", "o7-3", "o7-5"]


def test_a_deletion_killed_between_delete_calls_resumes_without_a_second_delete(
    rightful_app: App, api: HoldingUsersAPI
) -> None:
    request_id = approved(rightful_app, "delete")
    # Two of Avery's orders are deleted; the worker dies while the third delete waits.
    api.held = Held("DELETE", "/orders/", 3, lambda a: True)
    kill_when_held(rightful_app, api.held)
    assert len(api.deleted) == 2
    api.held = None

    finish(
        rightful_app,
        lambda: status(rightful_app, request_id) == "completed",
        "the deletion to complete",
        partners=request_id,
    )
    mine = [f"o7-{n}" for n in range(ORDERS)] + ["7"]
    assert sorted(api.deleted) == sorted(mine)  # each of Avery's records deleted, once
    assert api.deletes_of_gone == []  # no delete sent again for what was already deleted
    # Nobody else's records were touched.
    assert sorted(u["id"] for u in api.users) == sorted(r["id"] for r in ROWS)
    assert len(api.orders) == 5 * len(ROWS)
    with rightful_app.runtime.sessions() as session:
        letter = next(
            open_letter(rightful_app.runtime.settings, m)
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        ).text
    lines = letter.splitlines()
    # What Avery is told is what the API deleted.
    assert f"- Users API, order: deleted {ORDERS} records." in lines, letter
    assert "- Users API, user: deleted 1 record." in lines, letter
