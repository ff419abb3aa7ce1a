"""The console's morning view: each count on a seeded desk, and the list behind it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.drop.models import DropCycle
from rightful.notices import service as notices
from rightful.rights import service
from rightful.rights.appeals import appeal_vault
from rightful.rights.clock_models import Appeal
from rightful.rights.models import PartnerNotice
from rightful.rights.schemas import RequestIn
from rightful.rights.task_models import ManualTask
from rightful.rights.types import Status
from rightful.security.permissions import system_actor
from tests.integration.notices.conftest import SOURCE, lumen
from tests.support.app import App
from tests.web.test_admin import sign_in

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # a Monday morning in California
OFFICER = system_actor("officer@lumen.example")
__all__ = ["lumen"]  # the notices tests' Rightful, with the demo's whole data map


@pytest.fixture
def desk(rightful_app: App) -> Iterator[dict[str, str]]:
    """Four open requests (California overdue, due soon and later; Texas later), a closed one,
    partner notices, manual tasks and appeals; the clock stays at NOW."""
    clock.freeze(NOW)
    refs: dict[str, str] = {}
    with unit_of_work(rightful_app.runtime.sessions) as session:
        settings = rightful_app.runtime.settings

        def request(name: str, kind: str, place: str, days_ago: int) -> str:
            data = RequestIn(
                request_type=kind,
                email=f"{name}@example.com",
                jurisdiction=place,
            )
            req = service.create_request(
                session, settings, data, received_at=NOW - timedelta(days=days_ago)
            )
            refs[name] = req.reference
            return req.id

        late = request("late", "know_categories", "US-CA", 60)
        request("soon", "know_categories", "US-CA", 40)
        erase = request("erase", "delete", "US-CA", 0)
        request("texas", "delete", "US-TX", 0)
        closed = request("closed", "delete", "US-CA", 50)
        req = service.access_request(session, closed)
        service.move(session, req, Status.DENIED, actor="system", reason="unable_to_verify")
        session.add_all(
            [
                PartnerNotice(
                    request_id=erase, partner_key="late-partner", channel="email",
                    status="sent", due=date(2026, 2, 20),
                ),
                PartnerNotice(
                    request_id=erase, partner_key="waiting-partner", channel="webhook",
                    status="pending", due=date(2026, 3, 16),
                ),
                PartnerNotice(
                    request_id=erase, partner_key="answered-partner", channel="email",
                    status="acknowledged", due=date(2026, 2, 20),
                ),
                ManualTask(id="t-open", request_id=late, system="archive", kind="lookup"),
                ManualTask(
                    id="t-done", request_id=erase, system="archive", kind="erase", status="done"
                ),
                Appeal(
                    id="a-late", request_id=closed, status="open", due=date(2026, 2, 27),
                    reason=appeal_vault(settings).encrypt_json("Look again."),
                ),
            ]
        )  # fmt: skip
    yield refs
    clock.freeze(None)


def figures(page: str) -> dict[str, int]:
    found = re.findall(r'<span class="count">(\d+)</span> <span class="what">([^<]+)</span>', page)
    return {label: int(count) for count, label in found}


def test_each_count_of_the_morning_view_matches_the_desk(
    rightful_app: App, desk: dict[str, str]
) -> None:
    sign_in(rightful_app)
    page = rightful_app.client.get("/admin/today")
    assert page.status_code == 200
    assert figures(page.text) == {
        "Open requests": 4,
        "Overdue": 2,  # the 60-day-old answer, and the 40-day-old one's acknowledgement
        "Not acknowledged in time": 2,
        "Due within 7 days": 1,
        "Partner confirmations outstanding": 2,
        "Past their date": 1,
        "Choices waiting to reach a system": 0,
        "Past the 48-hour aim": 0,
        "Past the 10-business-day deadline": 0,
        "Manual tasks waiting": 1,
        "Manual tasks past their date": 1,
        "Appeals to decide": 1,
        "Appeals overdue": 1,
    }
    rows = re.findall(r'<th scope="row" data-label="Law">([^<]+) <span', page.text)
    assert rows == ["California", "Texas"]
    assert "No privacy notice is published yet." in page.text
    assert "Not in use: the 45-day DROP clock applies to registered data brokers" in page.text
    for name in desk:
        assert desk[name] not in page.text  # counts only


def test_a_place_s_overdue_figure_opens_the_list_of_those_requests(
    rightful_app: App, desk: dict[str, str]
) -> None:
    sign_in(rightful_app)
    page = rightful_app.client.get("/admin/today/requests?place=US-CA&when=overdue").text
    assert desk["late"] in page
    assert all(desk[n] not in page for n in ("soon", "erase", "texas", "closed"))
    page = rightful_app.client.get("/admin/today/requests?place=all&when=later").text
    assert desk["erase"] in page and desk["texas"] in page and desk["late"] not in page


def test_the_partner_figures_open_the_outstanding_confirmations(
    rightful_app: App, desk: dict[str, str]
) -> None:
    sign_in(rightful_app)
    outstanding = rightful_app.client.get("/admin/today/partners").text
    assert "late-partner" in outstanding and "waiting-partner" in outstanding
    assert "answered-partner" not in outstanding
    late = rightful_app.client.get("/admin/today/partners?late=1").text
    assert "late-partner" in late and "waiting-partner" not in late


def test_the_drop_panel_says_when_the_next_list_is_due_and_warns_once_it_is_late(
    rightful_app: App, desk: dict[str, str]
) -> None:
    sign_in(rightful_app)
    assert "Not in use: the 45-day DROP clock" in rightful_app.client.get("/admin/today").text
    with unit_of_work(rightful_app.runtime.sessions) as session:
        session.add(
            DropCycle(
                name="drop-2026-01-05", source="file", imported_by="officer@lumen.example",
                downloaded_at=NOW - timedelta(days=50), lines=3, bad_lines=1,
            )
        )  # fmt: skip
    page = rightful_app.client.get("/admin/today").text
    assert (
        "Last list downloaded on 2026-01-11; the next download is due 2026-02-25 (5 days ago)"
        in page
    )
    assert "Needs attention" in page
    assert "Lines of the list that could not be read: 1" in page


@pytest.mark.parametrize(
    ("days_in_force", "state", "says"),
    [
        (0, "In order", "Its check against the data map passes."),
        (30, "In order", "Its check against the data map passes."),
        (400, "Needs attention", "more than 12 months ago"),
    ],
)
def test_the_notice_panel_gives_the_notice_s_age_and_its_check(
    lumen: App, days_in_force: int, state: str, says: str
) -> None:
    today = datetime.now(UTC).date()
    since = today - timedelta(days=days_in_force)
    with unit_of_work(lumen.runtime.sessions) as session:
        notices.draft(session, lumen.runtime.settings, source=SOURCE, actor=OFFICER)
        notices.publish(
            session, lumen.runtime.settings, actor=OFFICER, material=True, effective_on=since
        )
    sign_in(lumen)
    page = lumen.client.get("/admin/today").text
    age = f"{days_in_force} days" if days_in_force else "today"  # published today: no "0 days"
    assert f"Version 1 is in force since {since.isoformat()} ({age})." in page
    assert state in page and says in page
