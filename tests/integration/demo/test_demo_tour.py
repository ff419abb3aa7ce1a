"""The README's tour on the demo as `rightful demo setup` builds it: a request reaches the three
SQL stores, the help desk and the newsletters over HTTP, and the paper archive handled by hand,
where it waits until the privacy officer does the archive's task from the console."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rightful.connectors.sql import dispose_all
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.demo.estate import demo_urls
from rightful.demo.setup import ADMIN_EMAIL, DemoInfo, reset_demo, setup_demo
from rightful.demo.vendors import connect_vendors
from rightful.demo.vendors.serve import serving_vendors
from rightful.inventory.models import System
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights import partners
from rightful.rights.execution import run_request
from rightful.rights.models import PartnerNotice, RightsRequest
from rightful.rights.package import load
from rightful.rights.packaging import package_vault
from rightful.rights.task_models import ManualTask
from rightful.security.models import StaffUser
from rightful.security.tokens import LinkSigner
from rightful.web.app import create_app
from tests.integration.tasks.conftest import approved
from tests.support.peer_estate import approved_deletion
from tests.support.signin import form_token, post_login, signed_in

JORDAN = {"email": "jordan.lee@example.com", "name": "Jordan Lee"}
SQL_STORES = {"Online store", "Customer support desk", "Marketing and web analytics"}
OVER_HTTP = {"Help center", "E-mail newsletters"}
CARD = "A warranty card for a Lumen Hub, mailed in April 2023, 742 De Haro St, San Francisco."
LETTER = "A letter of June 2024 asking how to reset the thermostat; our answer is stapled to it."
SHREDDED = "Shredded Jordan's letter about the doorbell and its envelope, box 14, on site."


@dataclass
class Demo:
    runtime: Runtime
    info: DemoInfo
    console: TestClient


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """The demo as `rightful demo setup` makes it (40 people), its vendors on a loopback port,
    and the console signed in as the privacy officer with the login the setup printed."""
    from tests.support.app import make_settings

    runtime = build_runtime(make_settings(tmp_path, demo_mode=True))
    try:
        info = setup_demo(runtime, people=40)
        with serving_vendors(tmp_path) as url:
            connect_vendors(runtime, demo_urls(tmp_path), base_url=url)
            with TestClient(create_app(runtime, start_worker=False)) as console:
                assert signed_in(post_login(console, info.admin_email, info.admin_password))
                yield Demo(runtime, info, console)
    finally:
        runtime.engine.dispose()
        dispose_all()


def the_task(runtime: Runtime, request_id: str) -> ManualTask:
    with runtime.sessions() as session:
        (task,) = session.scalars(select(ManualTask).where(ManualTask.request_id == request_id))
        session.expunge(task)
        return task


def complete_on_the_console(demo: Demo, task_id: str, data: dict[str, str]) -> str:
    """Post the task page's form as the officer; the page it leads to."""
    page = f"/admin/tasks/{task_id}"
    token = form_token(demo.console, page)
    answer = demo.console.post(f"{page}/complete", data={"csrf": token, **data})
    assert answer.status_code == 200, answer.text  # redirected back to the task, now done
    return answer.text


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_setup_adds_the_paper_archive_handled_by_hand_owned_by_the_officer(demo: Demo) -> None:
    with demo.runtime.sessions() as session:
        systems = {s.key: s for s in session.scalars(select(System))}
        officer = session.scalars(select(StaffUser).where(StaffUser.email == ADMIN_EMAIL)).one()
    archive = systems["paper_archive"]
    assert (archive.connection_type, archive.owner) == ("manual", ADMIN_EMAIL)
    assert archive.connection_secret is None  # nothing to call
    assert officer.active and officer.role == "admin"
    assert {k: s.connection_type for k, s in systems.items() if k != "paper_archive"} == {
        "storefront": "sql",
        "support_desk": "sql",
        "engagement": "sql",
        "help_center": "http",
        "newsletter": "http",
    }


def test_avery_s_access_request_waits_on_the_archive_then_holds_every_system(
    demo: Demo,
) -> None:
    runtime = demo.runtime
    request_id = approved(runtime)
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    task = the_task(runtime, request_id)
    assert (task.kind, task.status, task.owner) == ("lookup", "open", ADMIN_EMAIL)
    assert [i["collection"] for i in task.instructions] == ["warranty_cards", "letters"]
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None and req.package_file is None
        reference = req.reference
        assigned = [
            open_letter(runtime.settings, m)
            for m in list_outbox(session)
            if m.template == "task_assigned"
        ]
    assert [m.to for m in assigned] == [ADMIN_EMAIL]
    assert f"/admin/tasks/{task.id}" in assigned[0].text and "avery" not in assigned[0].text

    # The officer's Tasks: the request's task, then its page with whom it is for and the
    # customer number the online store gave, as a lead into both collections.
    # The request's page says what it waits on, and links the task.
    waiting = demo.console.get(f"/admin/requests/{request_id}").text
    assert f'<a href="/admin/tasks/{task.id}">Paper archive</a>' in waiting
    assert "The request waits until each task is done or waived" in waiting
    queue = words(demo.console.get("/admin/tasks").text)
    assert reference in queue and "Paper archive" in queue
    page = words(demo.console.get(f"/admin/tasks/{task.id}").text)
    assert "Look up in Paper archive" in page and "avery.quinn@example.com" in page
    leads = re.findall(r"(warranty_cards|letters)\.customer_number : (\d+) \(Online store", page)
    assert sorted(leads) == [
        ("letters", avery_number(runtime)),
        ("warranty_cards", avery_number(runtime)),
    ]

    done = words(
        complete_on_the_console(
            demo,
            task.id,
            {"outcome": "found", "finding-warranty_cards": CARD, "finding-letters": LETTER},
        )
    )
    assert "Done" in done and CARD in done and LETTER in done
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"

    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None and req.package_file
        package = load(
            package_vault(runtime.settings), runtime.settings.package_dir, req.package_file
        )
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        data = json.loads(archive.read("data.json"))
        html = words(archive.read("index.html").decode())
    assert set(data["data"]) == SQL_STORES | OVER_HTTP
    assert data["data"]["Online store"]["customers"][0]["email"] == "avery.quinn@example.com"
    assert [t["subject"] for t in data["data"]["Help center"]["ticket"]] == [
        "Return label for an indoor cam"
    ]
    assert data["data"]["E-mail newsletters"]["member"]
    (entry,) = data["entered_by_hand"]
    assert entry == {
        "system": "Paper archive",
        "entered_by": demo_officer_name(runtime),
        "entered_on": utcnow().date().isoformat(),
        "outcome": "found",
        "findings": [
            {"collection": "letters", "text": LETTER},
            {"collection": "warranty_cards", "text": CARD},
        ],
        "reason": None,
    }
    assert "Entered by hand" in html and CARD in html and LETTER in html


def avery_number(runtime: Runtime) -> str:
    """Avery's customer number in the online store's own database."""
    path = demo_urls(runtime.settings.data_dir)["storefront"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as db:
        (number,) = db.execute(
            "SELECT id FROM customers WHERE email = ?", ("avery.quinn@example.com",)
        ).fetchone()
    return str(number)


def demo_officer_name(runtime: Runtime) -> str:
    with runtime.sessions() as session:
        return session.scalars(select(StaffUser.name).where(StaffUser.email == ADMIN_EMAIL)).one()


def test_jordan_s_deletion_reaches_every_system_and_the_email_says_what_was_done(
    demo: Demo,
) -> None:
    runtime = demo.runtime
    request_id = approved_deletion(runtime, JORDAN)
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    task = the_task(runtime, request_id)
    assert (task.kind, task.owner) == ("erase", ADMIN_EMAIL)
    assert {i["action"] for i in task.instructions} == {"delete_rows"}
    signer = LinkSigner(runtime.settings.secret_key, "partner-ack")
    with unit_of_work(runtime.sessions) as session:
        notices = list(
            session.scalars(select(PartnerNotice.id).where(PartnerNotice.request_id == request_id))
        )
        for notice_id in notices:
            partners.acknowledge(session, runtime.settings, token=signer.sign(str(notice_id)))
    # Every partner confirmed and the stores erased; the archive's task still open: waiting.
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    with runtime.sessions() as session:
        assert not any(m.template == "erased" for m in list_outbox(session, request_id=request_id))

    short = demo.console.post(
        f"/admin/tasks/{task.id}/complete",
        data={"csrf": form_token(demo.console, f"/admin/tasks/{task.id}"), "outcome": "deleted"},
    )
    assert short.status_code == 422 and "Say in a full sentence" in short.text
    complete_on_the_console(demo, task.id, {"outcome": "deleted", "note": SHREDDED})
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"

    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None
        (line,) = req.summary["tasks"]
        letter = next(
            open_letter(runtime.settings, m).text
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        )
    assert (line["system"], line["status"], line["outcome"]) == ("Paper archive", "done", "deleted")
    lines, today = letter.splitlines(), utcnow().date()
    erased_systems = {
        m.group(1) for m in (re.match(r"- ([^,:]+), \w", x) for x in lines) if m is not None
    }
    assert erased_systems >= SQL_STORES | OVER_HTTP
    for expected in (
        "- Help center, user: deleted 1 record.",
        "- Help center, ticket: deleted 1 record.",
        "- E-mail newsletters, member: deleted 1 record.",
        "- E-mail newsletters, note: deleted 1 record.",
        "- Online store, customers: deleted 1 record.",
        "- Paper archive: deleted by hand, as a member of our staff confirmed on "
        f"{today:%B} {today.day}, {today.year}.",
    ):
        assert expected in lines, letter
    assert SHREDDED not in letter  # the note is for the record, never sent
    assert "Paper archive," not in letter  # nothing claimed per collection for the archive


def test_a_fresh_start_takes_the_archive_s_tasks_with_the_store(demo: Demo) -> None:
    runtime = demo.runtime
    request_id = approved(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    assert the_task(runtime, request_id).status == "open"
    runtime.engine.dispose()
    reset_demo(runtime.settings)
    again = build_runtime(runtime.settings)
    try:
        setup_demo(again, people=40)
        with again.sessions() as session:
            assert session.scalars(select(ManualTask)).all() == []
            archive = session.get(System, "paper_archive")
            assert archive is not None and archive.owner == ADMIN_EMAIL
    finally:
        again.engine.dispose()


def test_served_on_another_port_the_demo_reaches_its_vendors_there(demo: Demo) -> None:
    from rightful.demo.vendors import follow_base_url
    from rightful.inventory import service as inventory
    from rightful.security.permissions import system_actor
    from rightful.security.vault import Vault

    runtime = demo.runtime
    moved = build_runtime(runtime.settings.model_copy(update={"base_url": "http://127.0.0.1:8765"}))
    vault = Vault(runtime.settings, "connections")

    def base_urls() -> dict[str, str]:
        with runtime.sessions() as session:
            return {
                key: (inventory.connection_settings(vault, session.get(System, key)) or {})[
                    "base_url"
                ]
                for key in ("help_center", "newsletter")
            }

    try:
        assert follow_base_url(moved) == ["help_center", "newsletter"]
        assert base_urls() == {
            "help_center": "http://127.0.0.1:8765/demo/vendors/helpdesk",
            "newsletter": "http://127.0.0.1:8765/demo/vendors/mailchimp",
        }
        assert follow_base_url(moved) == []  # already there
        with unit_of_work(runtime.sessions) as session:  # someone connects their real account
            inventory.set_connection(
                session,
                vault,
                system_key="newsletter",
                kind="http",
                settings={
                    "shipped": "mailchimp",
                    "base_url": "https://us21.api.mailchimp.com",
                    "params": {
                        "domain": "us21.api.mailchimp.com",
                        "api_key": "k-us21",
                        "list_id": "l",
                    },
                },
                actor=system_actor("t"),
            )
        assert follow_base_url(runtime) == ["help_center"]  # back to http://testserver
        assert base_urls()["newsletter"] == "https://us21.api.mailchimp.com"
    finally:
        moved.engine.dispose()
