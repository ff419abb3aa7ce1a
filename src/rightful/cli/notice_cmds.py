"""`rightful notices ...`: draft, publish, read, compare and check the privacy notice."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work

if TYPE_CHECKING:
    from rightful.notices.mismatch import Mismatch

app = typer.Typer(
    help="The privacy notice: versions, publishing, and its check against the data map.",
    no_args_is_help=True,
)


@app.command("draft")
@fail_on_error
def draft(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
) -> None:
    """Save a Markdown notice as the draft (replacing an earlier draft) and check it."""
    from rightful.notices import service

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        actor = acting(session)
        row = service.draft(session, rt.settings, source=file.read_text(), actor=actor)
        report = service.check_version(session, rt.settings, actor=actor, number=row.number)
    typer.echo(f"Draft version {row.number} saved.")
    _print_report(report.mismatches, report.stale)


@app.command("publish")
@fail_on_error
def publish(
    material: bool = typer.Option(
        False, "--material", help="A change that matters: moves last-updated, tells people"
    ),
    summary: str = typer.Option("", help="What changed, in a sentence (needed if material)"),
    effective: str = typer.Option("", help="The day it takes effect, YYYY-MM-DD (default today)"),
) -> None:
    """Publish the draft, if it is true to the data map; it never changes after."""
    from rightful.notices import service

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        row = service.publish(
            session,
            rt.settings,
            actor=acting(session),
            material=material,
            summary=summary,
            effective_on=date.fromisoformat(effective) if effective else None,
        )
        number, updated, told = row.number, row.last_updated_on, row.told
    typer.echo(f"Published version {number}; last updated {updated}.")
    if told:
        typer.echo(f"{told} person(s) who asked to hear of changes have an e-mail in the outbox.")


@app.command("list")
@fail_on_error
def list_versions() -> None:
    """Every version, newest first."""
    from rightful.notices import service

    with unit_of_work(open_runtime().sessions) as session:
        for v in service.versions(session, actor=acting(session)):
            kind = "material" if v.material else "minor"
            when = f"effective {v.effective_on}, last updated {v.last_updated_on}, {kind}"
            typer.echo(f"{v.number:>3}  {v.status:<9}  {when if v.effective_on else ''}")


@app.command("show")
@fail_on_error
def show(
    version: int = typer.Argument(None, help="A version number (default: the one in force)"),
    as_json: bool = typer.Option(False, "--json", help="The blocks as JSON"),
) -> None:
    """Print a version's text, as published (or as the draft reads now)."""
    from rightful.notices import service

    with unit_of_work(open_runtime().sessions) as session:
        actor = acting(session)
        row = service.get(session, version, actor=actor) if version else service.current(session)
        if row is None:
            raise typer.BadParameter("No notice is published yet.")
        typer.echo(json.dumps(row.blocks, indent=2) if as_json else row.rendered)


@app.command("diff")
@fail_on_error
def diff(old: int, new: int) -> None:
    """What changed from one version to another, line by line."""
    from rightful.notices import service

    with unit_of_work(open_runtime().sessions) as session:
        typer.echo(service.diff(session, old, new, actor=acting(session)) or "No difference.")


@app.command("check")
@fail_on_error
def check(
    version: int = typer.Argument(None, help="A version number (default: the one in force)"),
    draft: bool = typer.Option(False, "--draft", help="Check the draft"),
) -> None:
    """Compare the notice with the data map, disclosures, consent catalogue and retention
    rules; exit 1 on any mismatch."""
    from rightful.notices import service

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        actor = acting(session)
        number = version
        if draft:
            found = [v for v in service.versions(session, actor=actor) if v.status == "draft"]
            if not found:
                raise typer.BadParameter("There is no draft.")
            number = found[0].number
        report = service.check_version(session, rt.settings, actor=actor, number=number)
        label = f"Version {report.version.number} ({report.version.status})"
    typer.echo(f"{label}: {'true to the data map' if report.passed else 'NOT true'}.")
    _print_report(report.mismatches, report.stale)
    if report.mismatches:
        raise typer.Exit(1)


def _print_report(mismatches: list[Mismatch], stale: str | None) -> None:
    for m in mismatches:
        typer.echo(f"- [{m.block}] {m.direction}: {m.message}\n    Fix: {m.fix}")
    if stale:
        typer.echo(f"Warning: {stale}")
