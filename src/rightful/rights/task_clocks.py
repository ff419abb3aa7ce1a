"""Manual tasks keep the request's deadline: a reminder to the owner before a task falls due,
and each day it is overdue an escalation to the owner and the approvers.

Each is claimed in `due_notices` (unique per task, kind, due date and day) in the transaction
that queues its e-mail and writes its audit event, as rights/due.py does for the requests'
own clocks; a task's due date follows its request's (an extension moves both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rightful.core.calendar import add_business_days
from rightful.core.config import Settings
from rightful.inventory.revision import load_map
from rightful.messaging.service import queue_email
from rightful.rights.clock_models import DueNotice
from rightful.rights.models import RightsRequest
from rightful.rights.task_models import ManualTask
from rightful.rights.tasks import TaskView, mail_row, managers, task_view
from rightful.security import audit


@dataclass(frozen=True)
class TaskRun:
    """What one run sent."""

    reminders: int
    escalations: int


def _claim(session: Session, subject: str, kind: str, due: date, day: date) -> bool:
    """Take one notice; False when another worker (or an earlier run) took it."""
    if session.scalar(
        select(DueNotice.id).where(
            DueNotice.subject == subject,
            DueNotice.kind == kind,
            DueNotice.due == due,
            DueNotice.day == day,
        )
    ):
        return False
    try:
        with session.begin_nested():
            session.add(DueNotice(subject=subject, kind=kind, due=due, day=day))
    except IntegrityError:
        return False
    return True


def _send(session: Session, settings: Settings, views: list[TaskView], *, overdue: bool) -> None:
    data_map = load_map(session)
    by_recipient: dict[str, list[dict[str, str]]] = {}
    for view in views:
        row = mail_row(settings, data_map, view.task, view.request)
        owners = [view.task.owner] if view.task.owner else []
        to = owners + managers(session, settings) if overdue or not owners else owners
        for address in dict.fromkeys(to):
            by_recipient.setdefault(address, []).append(row)
        audit.record(
            session,
            actor="system",
            action="task.overdue" if overdue else "task.due_reminder",
            subject_type="rights_request",
            subject_id=view.request.id,
            detail={"task": view.task.id, "due": view.due.isoformat()},
        )
    for address, rows in by_recipient.items():
        context = {"rows": rows, "total": len(rows), "overdue": overdue}
        queue_email(session, settings, to=address, template="task_due", context=context)


def remind_task_owners(session: Session, settings: Settings) -> TaskRun:
    """Remind owners of open tasks due within the reminder window (once per due date) and
    escalate overdue ones (once a day); commits (a worker job)."""
    data_map = load_map(session)
    stmt = (
        select(ManualTask, RightsRequest)
        .join(RightsRequest, RightsRequest.id == ManualTask.request_id)
        .where(ManualTask.status == "open")
    )
    views = [task_view(data_map, t, r) for t, r in session.execute(stmt)]
    soon, late = [], []
    for view in views:
        window_end = add_business_days(view.today, settings.due_reminder_business_days)
        if view.overdue:
            if _claim(session, view.task.id, "task_overdue", view.due, view.today):
                late.append(view)
        elif view.due <= window_end and _claim(
            session, view.task.id, "task_reminder", view.due, view.due
        ):
            soon.append(view)
    if soon:
        _send(session, settings, soon, overdue=False)
    if late:
        _send(session, settings, late, overdue=True)
    session.commit()
    return TaskRun(reminders=len(soon), escalations=len(late))
