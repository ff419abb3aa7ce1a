"""A system with no API gets manual tasks: the request waits for its owner, without retrying,
and finishes with what the owner entered or confirmed (or why a task was waived)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from rightful.core.runtime import Runtime
from rightful.inventory.models import Partner
from rightful.messaging.service import Letter, list_outbox, open_letter
from rightful.rights import tasks
from rightful.rights.documents import Document
from rightful.rights.erasure import preview
from rightful.rights.execution import run_request
from rightful.rights.models import PartnerNotice, RightsRequest
from rightful.rights.package import load
from rightful.rights.packaging import package_vault
from rightful.rights.partners import waive as waive_partner
from rightful.rights.task_models import ManualTask
from rightful.security.models import AuditEvent
from rightful.security.permissions import Actor, staff_actor, system_actor
from tests.integration.tasks.conftest import ANALYST, APPROVER, ARCHIVIST, VIEWER, approved

FINDING = "Warranty card for a Lumen Hub, registered 2023-04-02, 1 Market St, San Francisco."


def staff(email: str, role: str) -> Actor:
    return staff_actor(name=email, staff_id=0, role=role)


ARCHIE = staff(ARCHIVIST, "analyst")


def the_task(runtime: Runtime, request_id: str) -> ManualTask:
    with runtime.sessions() as session:
        found = session.scalars(select(ManualTask).where(ManualTask.request_id == request_id))
        (task,) = list(found)
        session.expunge(task)
        return task


def request_of(runtime: Runtime, request_id: str) -> RightsRequest:
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None
        session.expunge(req)
        return req


def package_of(runtime: Runtime, request_id: str) -> dict[str, bytes]:
    req = request_of(runtime, request_id)
    assert req.package_file
    data = load(package_vault(runtime.settings), runtime.settings.package_dir, req.package_file)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def mails_to(runtime: Runtime, address: str) -> list[Letter]:
    with runtime.sessions() as session:
        letters = [open_letter(runtime.settings, m) for m in list_outbox(session)]
    return [m for m in letters if m.to == address]


def test_an_access_request_waits_for_the_owner_without_retrying(
    archive_runtime: Runtime,
) -> None:
    runtime = archive_runtime
    request_id = approved(runtime)
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    req = request_of(runtime, request_id)
    assert req.package_file is None
    assert req.lease_until is not None and req.lease_until > utcnow() + timedelta(minutes=5)
    assert "last_error" not in req.summary  # waiting is not a failure
    task = the_task(runtime, request_id)
    assert (task.kind, task.status, task.owner) == ("lookup", "open", ARCHIVIST)
    # The owner is told, with a link to the console and no one's data.
    (letter,) = mails_to(runtime, ARCHIVIST)
    assert f"/admin/tasks/{task.id}" in letter.text
    assert req.reference in letter.text
    assert "avery" not in letter.text.lower() and "avery" not in letter.subject.lower()
    # Running again opens no second task and sends no second e-mail.
    with unit_of_work(runtime.sessions) as session:
        session.get(RightsRequest, request_id).lease_until = None  # type: ignore[union-attr]
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    assert the_task(runtime, request_id).id == task.id
    assert len(mails_to(runtime, ARCHIVIST)) == 1


def test_the_owner_sees_whom_for_and_what_leads_there_and_the_read_is_recorded(
    archive_runtime: Runtime,
) -> None:
    runtime = archive_runtime
    request_id = approved(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    task = the_task(runtime, request_id)
    with unit_of_work(runtime.sessions) as session:
        view = tasks.access_task(session, actor=ARCHIE, task_id=task.id)
        subject = tasks.read_subject(session, runtime.settings, actor=ARCHIE, view=view)
    assert subject is not None
    assert subject["identities"]["email"] == "avery.quinn@example.com"
    assert subject["identities"]["name"] == "Avery Quinn"
    (lead,) = subject["leads"]  # her customer number, found in the online store
    assert lead["field"] == "customer_number" and lead["from"] == "Online store, customers"
    assert lead["values"] and all(v.isdigit() for v in lead["values"])
    with runtime.sessions() as session:
        reads = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "staff.read_personal", AuditEvent.subject_id == request_id
            )
        ).all()
    assert [(r.actor, r.detail["what"]) for r in reads] == [(ARCHIVIST, "task")]


def test_findings_go_into_the_package_labelled_and_the_request_completes(
    archive_runtime: Runtime,
) -> None:
    runtime = archive_runtime
    request_id = approved(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    task = the_task(runtime, request_id)
    with unit_of_work(runtime.sessions) as session:
        tasks.complete(
            session,
            runtime.settings,
            actor=ARCHIE,
            task_id=task.id,
            outcome="found",
            findings={"warranty_cards": FINDING},
        )
    # Completing wakes the request at once: no wait for the recheck.
    assert request_of(runtime, request_id).lease_until is None
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    files = package_of(runtime, request_id)
    data = json.loads(files["data.json"])
    (entry,) = data["entered_by_hand"]
    assert entry["system"] == "Paper archive"
    assert entry["entered_by"] == "Archie Archivist"
    assert entry["entered_on"] == utcnow().date().isoformat()
    assert entry["findings"] == [{"collection": "warranty_cards", "text": FINDING}]
    page = files["index.html"].decode()
    assert FINDING in page and "Entered by hand" in page and "Archie Archivist" in page
    assert data["data"]["Online store"]["customers"][0]["email"] == "avery.quinn@example.com"
    closed = the_task(runtime, request_id)
    assert closed.status == "done" and closed.subject is None  # whom it was for: dropped


def test_nothing_found_completes_with_the_system_said_searched(archive_runtime: Runtime) -> None:
    runtime = archive_runtime
    request_id = approved(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    with unit_of_work(runtime.sessions) as session:
        tasks.complete(
            session,
            runtime.settings,
            actor=ARCHIE,
            task_id=the_task(runtime, request_id).id,
            outcome="nothing_found",
        )
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    (entry,) = json.loads(package_of(runtime, request_id)["data.json"])["entered_by_hand"]
    assert entry["outcome"] == "nothing_found" and entry["findings"] == []


def test_a_waived_lookup_completes_partly_and_the_person_reads_why(
    archive_runtime: Runtime,
) -> None:
    runtime = archive_runtime
    request_id = approved(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    reason = "The archive room is closed after a flood; its boxes cannot be reached this year."
    with unit_of_work(runtime.sessions) as session:
        tasks.waive(
            session,
            actor=staff(APPROVER, "approver"),
            task_id=the_task(runtime, request_id).id,
            reason=reason,
        )
    assert run_request(runtime.sessions, runtime.settings, request_id) == "partially_completed"
    completed = [
        m for m in mails_to(runtime, "avery.quinn@example.com") if m.template == "completed"
    ]
    assert reason in completed[0].text and "Paper archive" in completed[0].text
    assert reason in package_of(runtime, request_id)["index.html"].decode()


def test_who_may_do_what_with_a_task(archive_runtime: Runtime) -> None:
    runtime = archive_runtime
    request_id = approved(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    task_id = the_task(runtime, request_id).id
    with unit_of_work(runtime.sessions) as session:
        with pytest.raises(NotFoundError):  # another analyst's task looks like none at all
            tasks.access_task(session, actor=staff(ANALYST, "analyst"), task_id=task_id)
        with pytest.raises(ForbiddenError):  # a viewer reads no one's data
            tasks.complete(
                session,
                runtime.settings,
                actor=staff(VIEWER, "viewer"),
                task_id=task_id,
                outcome="nothing_found",
            )
        with pytest.raises(ForbiddenError):  # only who decides requests waives
            tasks.waive(session, actor=ARCHIE, task_id=task_id, reason="Cannot be done at all.")
        assert [v.task.id for v in tasks.list_tasks(session, actor=ARCHIE)] == [task_id]
        assert tasks.list_tasks(session, actor=staff(ANALYST, "analyst")) == []
        everyone = tasks.list_tasks(session, actor=staff(APPROVER, "approver"), everyone=True)
        assert [v.task.id for v in everyone] == [task_id]
        with pytest.raises(InvalidInputError) as bad:
            tasks.complete(
                session, runtime.settings, actor=ARCHIE, task_id=task_id, outcome="found"
            )
        assert bad.value.errors[0]["field"] == "findings"
    with unit_of_work(runtime.sessions) as session:
        tasks.complete(
            session, runtime.settings, actor=ARCHIE, task_id=task_id, outcome="nothing_found"
        )
    with unit_of_work(runtime.sessions) as session, pytest.raises(ConflictError):
        tasks.complete(
            session, runtime.settings, actor=ARCHIE, task_id=task_id, outcome="nothing_found"
        )


def test_a_deletion_previews_the_archive_as_a_manual_task(archive_runtime: Runtime) -> None:
    runtime = archive_runtime
    request_id = approved(runtime, "delete")
    with unit_of_work(runtime.sessions) as session:
        rows = preview(session, runtime.settings, request_id=request_id, actor=system_actor("t"))
    (archive,) = [r for r in rows if r.system == "Paper archive"]
    assert archive.by_task == f"No API: by a manual task for {ARCHIVIST}."
    assert all(r.by_task is None for r in rows if r.system != "Paper archive")


def test_a_deletion_waits_for_the_owner_and_the_record_says_what_they_confirmed(
    archive_runtime: Runtime,
) -> None:
    runtime = archive_runtime
    request_id = approved(runtime, "delete")
    with unit_of_work(runtime.sessions) as session:  # partners answered, to isolate the task
        for partner in session.scalars(select(Partner)):
            partner.contact_email, partner.erasure_webhook = None, None
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    task = the_task(runtime, request_id)
    assert task.kind == "erase"
    assert task.instructions[0]["action"] == "delete_rows"
    with unit_of_work(runtime.sessions) as session:
        for notice in session.scalars(
            select(PartnerNotice).where(PartnerNotice.request_id == request_id)
        ):
            waive_partner(
                session,
                request_id=request_id,
                partner_key=notice.partner_key,
                actor=system_actor("t"),
                reason="No way to reach them in this test.",
                explanation="We could not reach this partner.",
            )
    # Partners done, the task not: still waiting, nothing reported as done for the archive.
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    with unit_of_work(runtime.sessions) as session:
        tasks.complete(
            session,
            runtime.settings,
            actor=ARCHIE,
            task_id=task.id,
            outcome="deleted",
            evidence=tasks.Evidence("shredded.png", "image/png", b"\x89PNG shredder receipt"),
        )
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    req = request_of(runtime, request_id)
    (line,) = req.summary["tasks"]
    assert line["system"] == "Paper archive"
    assert (line["status"], line["outcome"], line["evidence"]) == ("done", "deleted", True)
    assert all(i["system"] != "Paper archive" for i in req.summary["erasure"])
    with runtime.sessions() as session:
        doc = session.scalars(select(Document).where(Document.kind == "task_evidence")).one()
        assert doc.request_id == request_id
        assert b"shredder" not in (doc.sealed_content or "").encode()  # sealed
    (erased,) = [m for m in mails_to(runtime, "avery.quinn@example.com") if m.template == "erased"]
    assert "Paper archive" in erased.text


def test_a_deletion_note_or_evidence_is_required(archive_runtime: Runtime) -> None:
    runtime = archive_runtime
    request_id = approved(runtime, "delete")
    run_request(runtime.sessions, runtime.settings, request_id)
    with unit_of_work(runtime.sessions) as session, pytest.raises(InvalidInputError) as bad:
        tasks.complete(
            session,
            runtime.settings,
            actor=ARCHIE,
            task_id=the_task(runtime, request_id).id,
            outcome="deleted",
            note="done",
        )
    assert bad.value.errors[0]["field"] == "note"
