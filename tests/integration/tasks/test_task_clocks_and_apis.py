"""Manual tasks keep the request's deadline (a reminder once, an escalation once a day), and an
API that cannot erase a collection sends it to a task instead of failing or claiming it done."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from rightful.connectors import registry
from rightful.connectors.base import Changed, Connector, FetchRequest, Row, RowChange
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import demo_urls
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights.erasure import preview
from rightful.rights.execution import run_request
from rightful.rights.models import ErasureStep, RightsRequest
from rightful.rights.task_clocks import remind_task_owners
from rightful.rights.task_models import ManualTask
from rightful.rights.tasks import task_due
from rightful.security.permissions import system_actor
from tests.integration.tasks.conftest import APPROVER, ARCHIVIST, approved


def _subjects(runtime: Runtime, to: str) -> list[str]:
    with runtime.sessions() as session:
        letters = [open_letter(runtime.settings, m) for m in list_outbox(session)]
    return [m.subject for m in letters if m.to == to and m.template == "task_due"]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    clock.freeze(None)


def test_owners_are_reminded_once_and_escalated_once_a_day(
    archive_runtime: Runtime, unfrozen: None
) -> None:
    runtime = archive_runtime
    request_id = approved(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None
        due = task_due(req)
    noon = datetime(due.year, due.month, due.day, 20, 0, tzinfo=clock.utcnow().tzinfo)
    clock.freeze(noon - timedelta(days=1))  # the day before: a reminder, to the owner only
    with runtime.sessions() as session:
        assert remind_task_owners(session, runtime.settings).reminders == 1
        assert remind_task_owners(session, runtime.settings).reminders == 0  # once
    assert len(_subjects(runtime, ARCHIVIST)) == 1 and _subjects(runtime, APPROVER) == []
    clock.freeze(noon + timedelta(days=1))  # overdue: the owner and the approvers hear
    with runtime.sessions() as session:
        assert remind_task_owners(session, runtime.settings).escalations == 1
        assert remind_task_owners(session, runtime.settings).escalations == 0  # once that day
    assert _subjects(runtime, APPROVER)[0].startswith("Overdue: manual task for")
    clock.freeze(noon + timedelta(days=2))
    with runtime.sessions() as session:
        assert remind_task_owners(session, runtime.settings).escalations == 1  # the next day


class NoDeleteForTickets:
    """A real store that, like an API without a delete call, cannot erase support tickets."""

    def __init__(self, inner: Connector) -> None:
        self.inner = inner
        self.applied: list[RowChange] = []

    def refuses(self, collection: str, *, masking: bool) -> str | None:
        return (
            "Help desk has no delete request for 'support_tickets'."
            if (collection == "support_tickets")
            else None
        )

    def test_connection(self) -> None:
        self.inner.test_connection()

    def fetch(self, request: FetchRequest) -> list[Row]:
        return self.inner.fetch(request)

    def apply(self, changes: Sequence[RowChange]) -> Changed:
        self.applied += changes
        return self.inner.apply(changes)

    def close(self) -> None:
        self.inner.close()


def test_a_collection_its_api_cannot_erase_goes_to_a_task_never_reported_done(
    archive_runtime: Runtime,
) -> None:
    runtime = archive_runtime
    url = demo_urls(runtime.settings.data_dir)["support_desk"]
    store = NoDeleteForTickets(registry.kind("sql").connect({"url": url}))
    registry.override("support_desk", store)
    try:
        request_id = approved(runtime, "delete")
        with unit_of_work(runtime.sessions) as session:
            rows = preview(
                session, runtime.settings, request_id=request_id, actor=system_actor("t")
            )
        (tickets,) = [r for r in rows if r.collection == "support_tickets"]
        assert tickets.by_task == (
            "By a manual task: Help desk has no delete request for 'support_tickets'."
        )
        assert tickets.rows > 0
        run_request(runtime.sessions, runtime.settings, request_id)
    finally:
        registry.override("support_desk", None)
    assert all(c.collection != "support_tickets" for c in store.applied)
    with runtime.sessions() as session:
        task = session.scalars(
            select(ManualTask).where(
                ManualTask.request_id == request_id, ManualTask.system == "support_desk"
            )
        ).one()
        assert task.kind == "erase" and task.owner is None  # no owner: approvers are told
        assert [i["collection"] for i in task.instructions] == ["support_tickets"]
        step = session.scalars(
            select(ErasureStep).where(
                ErasureStep.request_id == request_id, ErasureStep.system == "support_desk"
            )
        ).one()
        (line,) = [i for i in step.report if i["collection"] == "support_tickets"]
        assert line["by_task"] and line["planned"] == 0 and not line["changed"]
        req = session.get(RightsRequest, request_id)
        assert req is not None and req.status == "executing"  # waits for the task
    assert _assigned(runtime, APPROVER)


def _assigned(runtime: Runtime, to: str) -> list[str]:
    with runtime.sessions() as session:
        letters = [open_letter(runtime.settings, m) for m in list_outbox(session)]
    return [m.subject for m in letters if m.to == to and m.template == "task_assigned"]
