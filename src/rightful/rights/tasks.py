"""Manual tasks: the share of a request in a system Rightful cannot reach itself.

A system whose connector kind is handled by hand (`manual`: a paper archive, a spreadsheet)
is never called. Each request that reaches it gives the system's owner (the data map's
`owner`) a task saying what to look up or erase for whom; an API collection that cannot erase
(no delete or update call) gets one too. The request waits, without retrying, until every task
is done or waived with a reason; then what was found goes into the package, labelled as entered
by hand, and the deletion record and the person's e-mail say what the owner confirmed or why a
task was waived — never more.

Who a task is for is sealed and dropped when the task closes; findings are sealed until the
package expires. Staff reach tasks only through the functions below, which check permissions
and audit every read of a person's details.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful import laws
from rightful.connectors.base import Row
from rightful.core.calendar import is_business_day
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError, NotFoundError
from rightful.inventory.keys import key_fields
from rightful.inventory.revision import DataMap, load_map
from rightful.messaging.service import queue_email
from rightful.rights import documents, service
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.planning import Step, build_plan
from rightful.rights.policy import CollectionDecision
from rightful.rights.task_models import ManualTask
from rightful.security import audit
from rightful.security.models import StaffUser
from rightful.security.permissions import Actor, Permission, Role, require
from rightful.security.vault import Vault

LOOKUP, ERASE = "lookup", "erase"
OUTCOMES = {
    LOOKUP: {"found": "Found records (entered below)", "nothing_found": "Nothing found"},
    ERASE: {"deleted": "Deleted as asked", "nothing_held": "Nothing held, nothing to delete"},
}
STATUS_LABELS = {"open": "Open", "done": "Done", "waived": "Waived"}
# A task is due this many business days before the request, so the answer can still go out.
MARGIN_BUSINESS_DAYS = 2
MAX_TEXT = 20_000
# Identity entries that are not a person's details (the correction's own fields).
_NOT_IDENTITIES = ("correction_item", "correction_value", "correction_evidence")
MANAGERS = (Role.APPROVER.value, Role.ADMIN.value)


def _vault(settings: Settings) -> Vault:
    return Vault(settings, "tasks")


# --- opening tasks (the worker) ---------------------------------------------------------------


def _instruction(step: Step, decision: CollectionDecision | None, why: str) -> dict[str, Any]:
    """What to do in one collection: names, fields and the policy's action, never values."""
    coll = step.collection
    return {
        "collection": coll.name,
        "label": coll.label or coll.name.replace("_", " ").capitalize(),
        "fields": [f.name for f in step.collection.fields],
        "action": decision.action if decision else LOOKUP,
        "masks": [m.name for m in decision.masks] if decision else [],
        "legal_basis": decision.legal_basis if decision else None,
        "retain_until": (
            decision.retain_until.isoformat() if decision and decision.retain_until else None
        ),
        "why": why,
    }


def _leads(step: Step, found: Mapping[str, list[Row]], names: Mapping[str, str]) -> list[Any]:
    """Values found elsewhere that point into this collection (a customer number, say)."""
    out = []
    for edge in step.inputs:
        top = edge.source_field.split(".")[0]
        values = sorted({str(r[top]) for r in found.get(edge.source, []) if r.get(top) is not None})
        if values:
            dataset, _, collection = edge.source.partition(":")
            out.append(
                {
                    "collection": step.collection.name,
                    "field": edge.target_field,
                    "values": values,
                    "from": f"{names.get(dataset, dataset)}, {collection}",
                }
            )
    return out


def _rows_to_change(step: Step, rows: list[Row]) -> list[Any]:
    """How to find the rows an API could not change: their keys, else the values found by."""
    names = key_fields(step.collection) or tuple(step.found_by)
    return [
        {
            "collection": step.collection.name,
            "field": name,
            "values": sorted({str(r[name]) for r in rows if r.get(name) is not None}),
            "from": "found in this system",
        }
        for name in names
        if any(r.get(name) is not None for r in rows)
    ]


def task_due(req: RightsRequest) -> date:
    """When a task is due: a few business days before the request (follows an extension),
    never before the day the request was received."""
    due, left = req.respond_due, MARGIN_BUSINESS_DAYS
    while left > 0 and due > req.received_at.date():
        due -= timedelta(days=1)
        if is_business_day(due):
            left -= 1
    return due


def manual_steps(session: Session, refused: Mapping[str, str]) -> dict[str, list[Step]]:
    """The steps, by system, that a task does: every collection of a system handled by hand and
    each API collection in `refused` (the same for every request of a batch)."""
    data_map = load_map(session)
    steps = build_plan(
        data_map.datasets, system_of=data_map.every_system_of, identity_types=["email"]
    )
    wanted: dict[str, list[Step]] = {}
    for step in steps:
        if data_map.systems[step.system].by_hand or step.address in refused:
            wanted.setdefault(step.system, []).append(step)
    return wanted


def open_tasks(
    session: Session,
    settings: Settings,
    req: RightsRequest,
    *,
    kind: str,
    found: Mapping[str, list[Row]],
    decide: Any = None,
    refused: Mapping[str, str] | None = None,
    known: list[ManualTask] | None = None,
    wanted: Mapping[str, list[Step]] | None = None,
) -> list[ManualTask]:
    """Give each system handled by hand that this request reaches (and each API collection in
    `refused`: address -> why) a task, once; returns the tasks opened now.

    `found` are the rows read from the other systems (for values that lead into these ones);
    `decide(step)` is the erasure policy's decision for a collection (erasure tasks);
    `known`: the request's tasks when the caller has read them (`tasks_of`); `wanted`: the
    systems' steps (`manual_steps` of the same `refused`) when the caller has them (a batch)."""
    data_map = load_map(session)
    refused = refused or {}
    if wanted is None:
        wanted = manual_steps(session, refused)
    names = {k: s.name for k, s in data_map.system_by_dataset.items()}
    if known is None:
        have = set(
            session.scalars(select(ManualTask.system).where(ManualTask.request_id == req.id))
        )
    else:
        have = {t.system for t in known}
    identities = {
        k: v for k, v in service.identities_of(settings, req).items() if k not in _NOT_IDENTITIES
    }
    opened = []
    for system, mine in sorted(wanted.items()):
        if system in have:
            continue
        instructions, leads = [], []
        for step in mine:
            why = refused.get(step.address) or "This system has no connection Rightful can use."
            instructions.append(_instruction(step, decide(step) if decide else None, why))
            leads += _leads(step, found, names)
            if step.address in refused:
                leads += _rows_to_change(step, found.get(step.address, []))
        task = ManualTask(
            id=uuid.uuid4().hex,
            request_id=req.id,
            system=system,
            kind=kind,
            owner=data_map.systems[system].owner,
            instructions=instructions,
            subject=_vault(settings).encrypt_json({"identities": identities, "leads": leads}),
        )
        session.add(task)
        session.flush()
        audit.record(
            session,
            actor="worker",
            action="task.opened",
            subject_type="rights_request",
            subject_id=req.id,
            detail={"task": task.id, "system": system, "kind": kind, "owner": task.owner},
        )
        _tell(session, settings, data_map, task, req, "task_assigned")
        opened.append(task)
    return opened


def open_for(session: Session, request_id: str) -> list[ManualTask]:
    """A request's tasks still waiting for their owner."""
    return list(
        session.scalars(
            select(ManualTask).where(
                ManualTask.request_id == request_id, ManualTask.status == "open"
            )
        )
    )


def tasks_of(session: Session, request_id: str) -> list[ManualTask]:
    """A request's tasks, in the order they were opened."""
    return list(
        session.scalars(
            select(ManualTask)
            .where(ManualTask.request_id == request_id)
            .order_by(ManualTask.created_at, ManualTask.system)
        )
    )


# --- e-mail to owners (no personal data) ------------------------------------------------------


def managers(session: Session, settings: Settings) -> list[str]:
    """Who hears of a task with no owner, and of an overdue one: approvers and administrators,
    else the privacy office's address."""
    found = session.scalars(
        select(StaffUser.email)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(MANAGERS))
        .order_by(StaffUser.id)
    ).all()
    return list(found) or [settings.privacy_email]


def task_url(settings: Settings, task_id: str) -> str:
    """The console page of a task (an id, never a person)."""
    return f"{settings.base_url}/admin/tasks/{task_id}"


def mail_row(
    settings: Settings, data_map: DataMap, task: ManualTask, req: RightsRequest
) -> dict[str, str]:
    """What an e-mail to staff says of a task: reference, system, what to do, when, the link."""
    system = data_map.systems.get(task.system)
    return {
        "reference": req.reference,
        "type": kind_of(req.request_type).label,
        "system": system.name if system else task.system,
        "what": "Look up and enter what is held" if task.kind == LOOKUP else "Erase as instructed",
        "due": task_due(req).isoformat(),
        "url": task_url(settings, task.id),
    }


def _tell(
    session: Session,
    settings: Settings,
    data_map: DataMap,
    task: ManualTask,
    req: RightsRequest,
    template: str,
) -> None:
    row = mail_row(settings, data_map, task, req)
    for to in [task.owner] if task.owner else managers(session, settings):
        queue_email(
            session, settings, to=to, template=template, context={"rows": [row], "total": 1}
        )


# --- staff --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskView:
    """A task with its request and system, as lists and pages show it (no personal data)."""

    task: ManualTask
    request: RightsRequest
    system_name: str
    due: date
    today: date

    @property
    def overdue(self) -> bool:
        """Open past its due date."""
        return self.task.status == "open" and self.due < self.today


def task_view(data_map: DataMap, task: ManualTask, req: RightsRequest) -> TaskView:
    """A task with its request, system name and due date, as lists and pages show it."""
    system = data_map.systems.get(task.system)
    try:
        today = laws.local_date(utcnow(), req.jurisdiction)
    except InvalidInputError:
        today = utcnow().date()
    return TaskView(task, req, system.name if system else task.system, task_due(req), today)


def list_tasks(
    session: Session, *, actor: Actor, everyone: bool = False, status: str | None = "open"
) -> list[TaskView]:
    """The actor's tasks (or, `everyone`, for those who decide requests, all), soonest due
    first; no personal data."""
    require(actor, Permission.REQUESTS_VIEW)
    stmt = select(ManualTask, RightsRequest).join(
        RightsRequest, RightsRequest.id == ManualTask.request_id
    )
    if not (everyone and actor.can(Permission.REQUESTS_DECIDE)):
        stmt = stmt.where(ManualTask.owner == actor.name)
    if status:
        stmt = stmt.where(ManualTask.status == status)
    data_map = load_map(session)
    views = [task_view(data_map, t, r) for t, r in session.execute(stmt)]
    return sorted(views, key=lambda v: (v.task.status != "open", v.due, v.request.reference))


def access_task(session: Session, *, actor: Actor, task_id: str) -> TaskView:
    """One task for its owner or whoever decides requests; the same NotFoundError for a task
    that does not exist and one the actor may not see."""
    require(actor, Permission.REQUESTS_VIEW)
    task = session.get(ManualTask, task_id)
    if task is None or not (actor.can(Permission.REQUESTS_DECIDE) or task.owner == actor.name):
        raise NotFoundError("There is no such task, or it is not yours.")
    req = service.access_request(session, task.request_id)
    return task_view(load_map(session), task, req)


def read_subject(
    session: Session, settings: Settings, *, actor: Actor, view: TaskView
) -> dict[str, Any] | None:
    """Who the task is for (their details and values that lead to their records), for staff
    who read personal data; recorded as a read. None once the task is closed."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    if view.task.subject is None:
        return None
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type="rights_request",
        subject_id=view.request.id,
        detail={"what": "task", "task": view.task.id},
    )
    subject: dict[str, Any] = _vault(settings).decrypt_json(view.task.subject)
    return subject


def read_findings(
    session: Session, settings: Settings, *, actor: Actor, view: TaskView
) -> list[dict[str, str]]:
    """What the owner entered, for staff who read personal data; recorded as a read."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    if view.task.findings is None:
        return []
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type="rights_request",
        subject_id=view.request.id,
        detail={"what": "task_findings", "task": view.task.id},
    )
    found: list[dict[str, str]] = _vault(settings).decrypt_json(view.task.findings)
    return found


@dataclass(frozen=True)
class Evidence:
    """A file the owner attaches to a deletion (a photo of shredding, a vendor's receipt)."""

    filename: str
    content_type: str
    content: bytes


def _check(
    task: ManualTask, outcome: str, findings: Mapping[str, str], note: str, has_file: bool
) -> list[dict[str, str]]:
    errors = []
    if outcome not in OUTCOMES[task.kind]:
        choices = " or ".join(OUTCOMES[task.kind])
        errors.append({"field": "outcome", "message": f"Choose what you did: {choices}."})
    collections = {i["collection"] for i in task.instructions}
    unknown = sorted(set(findings) - collections)
    if unknown:
        errors.append(
            {"field": "findings", "message": f"Not a collection of this task: {unknown[0]}."}
        )
    if any(len(t) > MAX_TEXT for t in findings.values()) or len(note) > MAX_TEXT:
        errors.append({"field": "findings", "message": "Keep each entry under 20,000 characters."})
    if outcome == "found" and not any(t.strip() for t in findings.values()):
        errors.append(
            {"field": "findings", "message": "Enter what you found, or choose Nothing found."}
        )
    if (
        task.kind == ERASE
        and outcome in OUTCOMES[ERASE]
        and len(note.strip()) < 10
        and not has_file
    ):
        errors.append(
            {
                "field": "note",
                "message": "Say in a full sentence what you did, or attach evidence.",
            }
        )
    return errors


def complete(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    task_id: str,
    outcome: str,
    findings: Mapping[str, str] | None = None,
    note: str = "",
    evidence: Evidence | None = None,
) -> TaskView:
    """The owner says what they found (a lookup) or confirms the erasure (with a note or an
    evidence file); the request then finishes once its other tasks are closed."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    view = access_task(session, actor=actor, task_id=task_id)
    task = view.task
    if task.status != "open":
        raise ConflictError("This task is already closed.")
    entries = {k: v.strip() for k, v in (findings or {}).items() if v and v.strip()}
    errors = _check(
        task, outcome, entries if outcome == "found" else {}, note, evidence is not None
    )
    if errors:
        raise InvalidInputError(" ".join(e["message"] for e in errors), errors=errors)
    if evidence is not None:
        doc = documents.store(
            session,
            settings,
            kind="task_evidence",
            filename=evidence.filename,
            content_type=evidence.content_type,
            content=evidence.content,
            uploaded_by=actor.name,
            request_id=task.request_id,
        )
        task.evidence_id = doc.id
    vault = _vault(settings)
    if outcome == "found":
        task.findings = vault.encrypt_json(
            [{"collection": c, "text": t} for c, t in sorted(entries.items())]
        )
    task.note = vault.encrypt(note.strip().encode()).decode() if note.strip() else None
    _close(session, task, view.request, "done", actor, {"outcome": outcome})
    task.outcome = outcome
    return view


def waive(session: Session, *, actor: Actor, task_id: str, reason: str) -> TaskView:
    """Stop waiting for a task, with a reason the person reads in their answer (who decides
    requests only)."""
    require(actor, Permission.REQUESTS_DECIDE)
    view = access_task(session, actor=actor, task_id=task_id)
    if view.task.status != "open":
        raise ConflictError("This task is already closed.")
    if len(reason.strip()) < 10:
        message = "Write the reason in a full sentence: the person reads it."
        raise InvalidInputError(message, errors=[{"field": "reason", "message": message}])
    view.task.reason = reason.strip()
    _close(session, view.task, view.request, "waived", actor, {"reason": reason.strip()})
    return view


def _close(
    session: Session,
    task: ManualTask,
    req: RightsRequest,
    status: str,
    actor: Actor,
    detail: dict[str, Any],
) -> None:
    task.status, task.completed_by, task.completed_at = status, actor.name, utcnow()
    task.subject = None  # who it was for is no longer needed
    req.lease_until = None  # let the worker finish the request now
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action=f"task.{status}",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"task": task.id, "system": task.system, **detail},
    )


# --- what the package, the record and the person are told -------------------------------------


def _staff_names(session: Session, emails: set[str]) -> dict[str, str]:
    if not emails:  # no task closed by a named person: nothing to ask the store
        return {}
    rows = session.execute(
        select(StaffUser.email, StaffUser.name).where(StaffUser.email.in_(emails))
    )
    return {email: name for email, name in rows}


def package_entries(
    session: Session, settings: Settings, request_id: str, known: list[ManualTask] | None = None
) -> list[dict[str, Any]]:
    """Each lookup task's result for the package, labelled: the system, who entered it and
    when; or that nothing was found; or why it was not searched. `known`: the request's tasks
    when the caller has read them."""
    every = tasks_of(session, request_id) if known is None else known
    tasks = [t for t in every if t.kind == LOOKUP and t.status != "open"]
    names = {s.key: s.name for s in load_map(session).systems.values()}
    people = _staff_names(session, {t.completed_by for t in tasks if t.completed_by})
    vault = _vault(settings)
    return [
        {
            "system": names.get(t.system, t.system),
            "entered_by": people.get(t.completed_by or "", "Our privacy team"),
            "entered_on": t.completed_at.date().isoformat() if t.completed_at else None,
            "outcome": t.outcome if t.status == "done" else "waived",
            "findings": vault.decrypt_json(t.findings) if t.findings else [],
            "reason": t.reason,
        }
        for t in tasks
    ]


def tasks_by_request(session: Session, request_ids: list[str]) -> dict[str, list[ManualTask]]:
    """`tasks_of` for many requests in one read (an erasure batch's)."""
    found: dict[str, list[ManualTask]] = {rid: [] for rid in request_ids}
    for task in session.scalars(
        select(ManualTask)
        .where(ManualTask.request_id.in_(request_ids))
        .order_by(ManualTask.created_at, ManualTask.system)
    ):
        found[task.request_id].append(task)
    return found


def lines_of(tasks: list[ManualTask], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """What each closed task did, for the record and the person's e-mail: confirmed (and how),
    nothing held, or waived with its reason (no one's data); `names`: system key -> name."""
    return [
        {
            "system": names.get(t.system, t.system),
            "kind": t.kind,
            "status": t.status,
            "outcome": t.outcome,
            "collections": [i["collection"] for i in t.instructions],
            "all_deleted": all(i["action"] == "delete_rows" for i in t.instructions),
            "reason": t.reason,
            "evidence": t.evidence_id is not None,
            "on": t.completed_at.date().isoformat() if t.completed_at else None,
        }
        for t in tasks
        if t.status != "open"
    ]


def forget_findings(session: Session, request_id: str) -> int:
    """Drop what owners entered for a request (with its package); returns how many tasks."""
    count = 0
    for task in tasks_of(session, request_id):
        if task.findings is not None:
            task.findings = None
            count += 1
    session.flush()
    return count


def subject_summary(subject: Mapping[str, Any]) -> str:
    """The subject as one line of JSON (the CLI prints it)."""
    return json.dumps(subject, ensure_ascii=False, sort_keys=True)
