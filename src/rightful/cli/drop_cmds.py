"""`rightful drop ...`: California's Delete Request and Opt-out Platform (docs/drop.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work

app = typer.Typer(
    help="California's DROP: import deletion lists, run them, write the status file.",
    no_args_is_help=True,
)


@app.command("import")
@fail_on_error
def import_list(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The ZIP or CSV downloaded"),
) -> None:
    """Import a downloaded list: match it, start the deletions and opt-outs it calls for."""
    from rightful.drop import service

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        done = service.import_list(session, rt.settings, path=file, actor=acting(session))
        _say_imported(done)


def _say_imported(done: object) -> None:
    from rightful.drop.service import Imported

    assert isinstance(done, Imported)
    typer.echo(
        f"Cycle {done.cycle.id} ({done.cycle.name}): {done.lines} work items, "
        f"{done.matched} matched, {done.removed} withdrawn, {done.bad_lines} bad line(s)."
    )
    for problem in done.cycle.problems:
        typer.echo(f"  {problem['file']} line {problem['line']}: {problem['reason']}")


@app.command("status")
@fail_on_error
def status() -> None:
    """The 45-day clock and the latest cycle, in counts."""
    from rightful.drop import service

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        s = service.view_summary(session, rt.settings, actor=acting(session))
        if s.last_download_at is None:
            typer.echo(
                "No DROP list imported yet: the first download is due now."
                if s.in_use
                else "No DROP list imported yet. DROP is not in use: its 45-day clock applies "
                "to registered data brokers (RIGHTFUL_DROP_REGISTERED=true)."
            )
            _say_index(s.index)
            return
        late = "  OVERDUE" if s.overdue else f"  ({s.days_left} days left)"
        typer.echo(f"Last download {s.last_download_at:%Y-%m-%d %H:%M} UTC; "
                   f"next due {s.next_due}{late}")  # fmt: skip
        typer.echo(f"Cycle {s.cycle_id} ({s.cycle_name}), {s.bad_lines} bad line(s):")
        for label, n in sorted(s.counts.items()):
            typer.echo(f"  {label:<10} {n}")
        if s.status_file_at:
            typer.echo(f"Status file written {s.status_file_at:%Y-%m-%d %H:%M} UTC")
        if s.uploaded_at:
            typer.echo(f"Uploaded {s.uploaded_at:%Y-%m-%d %H:%M} UTC")
        _say_index(s.index)


def _say_index(index: object) -> None:
    from rightful.drop.refresh import IndexStatus

    if not isinstance(index, IndexStatus):
        return
    if index.built_at is None or index.refreshed_at is None:
        typer.echo("Index: never built (the next import builds it).")
        return
    typer.echo(
        f"Index: built {index.built_at:%Y-%m-%d %H:%M} UTC, refreshed "
        f"{index.refreshed_at:%Y-%m-%d %H:%M} UTC; {index.entries} entries from "
        f"{index.rows} rows in {index.collections} collection(s); "
        f"{index.rewritten} rewritten by the last refresh"
    )
    if index.stale:
        typer.echo(f"  STALE: {index.why_stale} (the next import refreshes it first)")


@app.command("status-file")
@fail_on_error
def status_file(
    out: Path = typer.Option(Path("."), "--out", help="The folder to write the files in"),
) -> None:
    """Write the latest cycle's status files (Id,Status) for upload to DROP."""
    from rightful.drop import service

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        written = service.write_status_files(
            session, rt.settings, actor=acting(session), folder=out
        )
        if not written:
            typer.echo("No work item has a status yet.")
        for path in written:
            typer.echo(str(path))


@app.command("download")
@fail_on_error
def download() -> None:
    """Download the next lists through DROP's API and import them (RIGHTFUL_DROP_API_*)."""
    from rightful.drop import sync

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        done = sync.download(session, rt.settings, actor=acting(session))
        if done is None:
            typer.echo("DROP has nothing new since the last completed download.")
        else:
            _say_imported(done)


@app.command("upload")
@fail_on_error
def upload(
    amend: bool = typer.Option(False, help="Correct statuses uploaded before (/data/amend)"),
) -> None:
    """Write the latest cycle's status files and upload them through DROP's API."""
    from rightful.drop import sync

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        result = sync.upload(session, rt.settings, actor=acting(session), amend=amend)
        for name in result.accepted:
            typer.echo(f"accepted  {name}")
        for item in result.rejected:
            typer.echo(f"rejected  {item['file']}: {item['why']}")
        if result.rejected and not result.accepted:
            raise typer.Exit(1)
