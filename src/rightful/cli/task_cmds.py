"""`rightful tasks ...`: manual tasks for systems with no API, as the console and API offer."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError

app = typer.Typer(
    help="Manual tasks for systems Rightful cannot reach itself.", no_args_is_help=True
)


@app.command("list")
@fail_on_error
def list_tasks(
    everyone: bool = typer.Option(False, "--all", help="Everyone's tasks (requests.decide)"),
    status: str = typer.Option("open", help="open, done, waived or all"),
) -> None:
    """Your tasks (or everyone's), soonest due first; no personal data."""
    from rightful.rights import tasks

    with unit_of_work(open_runtime().sessions) as session:
        rows = tasks.list_tasks(
            session,
            actor=acting(session),
            everyone=everyone,
            status=None if status == "all" else status,
        )
        for v in rows:
            late = "  OVERDUE" if v.overdue else ""
            typer.echo(
                f"{v.task.id}  {v.request.reference}  {v.task.kind:<6} {v.task.status:<6} "
                f"{v.system_name}  due {v.due.isoformat()}{late}  {v.task.owner or '-'}"
            )


@app.command("show")
@fail_on_error
def show(task: str) -> None:
    """One task: what to do where and, for roles that read personal data, for whom (audited)."""
    from rightful.rights import tasks
    from rightful.security.permissions import Permission

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        actor = acting(session)
        view = tasks.access_task(session, actor=actor, task_id=task)
        typer.echo(f"{view.request.reference}  {view.system_name}  {view.task.kind}  ")
        typer.echo(f"status {view.task.status}, due {view.due.isoformat()}")
        for i in view.task.instructions:
            masks = f" ({', '.join(i['masks'])})" if i["masks"] else ""
            typer.echo(f"  {i['collection']}: {i['action']}{masks}; holds {', '.join(i['fields'])}")
        if actor.can(Permission.REQUESTS_READ_PERSONAL):
            subject = tasks.read_subject(session, rt.settings, actor=actor, view=view)
            if subject:
                typer.echo(f"for: {tasks.subject_summary(subject)}")


def _findings(given: list[str]) -> dict[str, str]:
    out = {}
    for item in given:
        collection, sep, text = item.partition("=")
        if not sep:
            raise InvalidInputError("Give each finding as COLLECTION=TEXT.")
        out[collection.strip()] = text
    return out


@app.command("complete")
@fail_on_error
def complete(
    task: str,
    outcome: str = typer.Option(..., help="found, nothing_found (look-ups); deleted, nothing_held"),
    finding: list[str] = typer.Option([], help="COLLECTION=TEXT, what was found (repeatable)"),
    note: str = typer.Option("", help="What was done, for the record (erasures)"),
    evidence: Path | None = typer.Option(None, exists=True, dir_okay=False, help="A proof file"),
) -> None:
    """Enter what was found, or confirm an erasure with a note or an evidence file."""
    from rightful.rights import tasks

    proof = None
    if evidence is not None:
        kind = mimetypes.guess_type(evidence.name)[0] or "application/octet-stream"
        proof = tasks.Evidence(evidence.name, kind, evidence.read_bytes())
    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        view = tasks.complete(
            session,
            rt.settings,
            actor=acting(session),
            task_id=task,
            outcome=outcome,
            findings=_findings(finding),
            note=note,
            evidence=proof,
        )
        typer.echo(f"{view.task.id}  {view.task.status}  {view.task.outcome}")


@app.command("waive")
@fail_on_error
def waive(
    task: str, reason: str = typer.Option(..., help="Why it cannot be done; the person reads it")
) -> None:
    """Stop waiting for a task, with the reason the person is told."""
    from rightful.rights import tasks

    with unit_of_work(open_runtime().sessions) as session:
        view = tasks.waive(session, actor=acting(session), task_id=task, reason=reason)
        typer.echo(f"{view.task.id}  {view.task.status}")
