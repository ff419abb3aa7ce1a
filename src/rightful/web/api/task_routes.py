"""REST API v1 for manual tasks: list, read, complete and waive (rights/tasks.py)."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from fastapi import Depends
from pydantic import BaseModel, Field

from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError
from rightful.core.runtime import Runtime
from rightful.rights import tasks
from rightful.security.permissions import Actor, Permission
from rightful.web.api.routes import api_actor
from rightful.web.deps import dispatcher, runtime
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/api/v1", dependencies=[Depends(api_actor)], tags=["tasks"])


class TaskOut(BaseModel):
    """A manual task: what to do where, for which request, by when, and what was done.
    `subject` (whom it is for) only for `requests.read_personal`, while the task is open."""

    id: str
    request_id: str
    reference: str
    system: str
    system_name: str
    kind: Literal["lookup", "erase"]
    status: Literal["open", "done", "waived"]
    owner: str | None
    due: str
    overdue: bool
    instructions: list[dict[str, Any]]
    outcome: str | None
    reason: str | None
    completed_by: str | None
    completed_at: str | None
    subject: dict[str, Any] | None = None


class EvidenceIn(BaseModel):
    """A file proving a deletion, base64-encoded."""

    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    content_base64: str


class Completion(BaseModel):
    """What the owner did: `found` with `findings` per collection, `nothing_found`, or for an
    erasure `deleted` / `nothing_held` with a `note` or `evidence`."""

    outcome: Literal["found", "nothing_found", "deleted", "nothing_held"]
    findings: dict[str, str] = Field(default_factory=dict)
    note: str = Field(default="", max_length=20_000)
    evidence: EvidenceIn | None = None


class TaskWaiver(BaseModel):
    """Why a task cannot be done; the person reads it in their answer."""

    reason: str = Field(min_length=10, max_length=2000)


def _out(view: tasks.TaskView, subject: dict[str, Any] | None = None) -> TaskOut:
    t = view.task
    return TaskOut(
        id=t.id,
        request_id=view.request.id,
        reference=view.request.reference,
        system=t.system,
        system_name=view.system_name,
        kind=t.kind,
        status=t.status,
        owner=t.owner,
        due=view.due.isoformat(),
        overdue=view.overdue,
        instructions=t.instructions,
        outcome=t.outcome,
        reason=t.reason,
        completed_by=t.completed_by,
        completed_at=t.completed_at.isoformat() if t.completed_at else None,
        subject=subject,
    )


@router.get("/tasks", response_model=list[TaskOut])
def list_tasks(
    status: Literal["open", "done", "waived"] | None = "open",
    everyone: bool = False,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> list[TaskOut]:
    """Your tasks (`everyone`: all, for `requests.decide`), soonest due first. `requests.view`."""
    with unit_of_work(rt.sessions) as session:
        views = tasks.list_tasks(session, actor=actor, everyone=everyone, status=status)
        return [_out(v) for v in views]


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(
    task_id: str, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> TaskOut:
    """One task; with `requests.read_personal` also whom it is for (the read is audited)."""
    with unit_of_work(rt.sessions) as session:
        view = tasks.access_task(session, actor=actor, task_id=task_id)
        subject = (
            tasks.read_subject(session, rt.settings, actor=actor, view=view)
            if actor.can(Permission.REQUESTS_READ_PERSONAL)
            else None
        )
        return _out(view, subject)


def _evidence(given: EvidenceIn | None) -> tasks.Evidence | None:
    if given is None:
        return None
    try:
        content = base64.b64decode(given.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        message = "The evidence is not valid base64."
        raise InvalidInputError(
            message, errors=[{"field": "evidence", "message": message}]
        ) from exc
    return tasks.Evidence(given.filename, given.content_type, content)


@router.post("/tasks/{task_id}/complete", response_model=TaskOut)
def complete_task(
    task_id: str,
    body: Completion,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> TaskOut:
    """Enter what was found, or confirm the erasure (`requests.read_personal`; the task's owner
    or whoever decides requests)."""
    with unit_of_work(rt.sessions) as session:
        view = tasks.complete(
            session,
            rt.settings,
            actor=actor,
            task_id=task_id,
            outcome=body.outcome,
            findings=body.findings,
            note=body.note,
            evidence=_evidence(body.evidence),
        )
        answer = _out(view)
    disp.request_ready(answer.request_id)
    return answer


@router.post("/tasks/{task_id}/waive", response_model=TaskOut)
def waive_task(
    task_id: str,
    body: TaskWaiver,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> TaskOut:
    """Stop waiting for a task, with the reason the person is told (`requests.decide`)."""
    with unit_of_work(rt.sessions) as session:
        answer = _out(tasks.waive(session, actor=actor, task_id=task_id, reason=body.reason))
    disp.request_ready(answer.request_id)
    return answer
