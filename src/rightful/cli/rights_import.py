"""`rightful rights import FILE.csv`: many requests from an agent service or a previous tool."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work
from rightful.rights.bulk_schemas import BatchReport

SHOWN = 50  # lines of each kind listed on the terminal; --report has them all


@fail_on_error
def import_requests(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="CSV file, UTF-8, header first"
    ),
    source: str | None = typer.Option(
        None,
        help="Where the requests came from (an agent service, a previous tool), for lines "
        "without a `source` column; with `external_id` it recognises lines imported before",
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid lines and report the others"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every line; import nothing"),
    report: Path | None = typer.Option(
        None, "--report", dir_okay=False, help="Also write every line's outcome to this CSV"
    ),
) -> None:
    """Import requests from a CSV file whose columns are the API's fields (docs/bulk-intake.md).
    One bad line and nothing is imported, unless --skip-invalid; lines imported before (same
    source and external_id) are reported, not filed again. Exit 1 when lines were rejected."""
    from rightful.rights import bulk, bulk_csv

    if report is not None and not report.resolve().parent.is_dir():
        raise typer.BadParameter(
            f"There is no folder {report.parent} to write it in.", param_hint="--report"
        )
    lines = bulk_csv.read_csv(file.read_bytes())
    rt = open_runtime()
    console = Console(stderr=True)
    outcome: BatchReport
    with _progress(console) as bar, unit_of_work(rt.sessions) as session:
        task = bar.add_task("Importing" if not dry_run else "Checking", total=len(lines))
        try:
            outcome = bulk.import_lines(
                session,
                rt.settings,
                lines,
                actor=acting(session),
                via="cli",
                source=source,
                mode="valid_only" if skip_invalid else "all_or_nothing",
                dry_run=dry_run,
                progress=lambda done: bar.update(task, completed=done),
            )
        except bulk.BatchRejectedError as exc:
            outcome = exc.report
        if not outcome.saved:
            session.rollback()
    _show(Console(), outcome, file)
    if report is not None:
        bulk_csv.write_report(outcome, report)
        typer.echo(f"Every line's outcome is in {report}.")
    if outcome.rejected:
        raise typer.Exit(1)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _show(console: Console, report: BatchReport, file: Path) -> None:
    """The report, as a person reads it: what happened, then the lines that need attention."""
    if report.rejected:
        table = Table(title=f"Rejected lines of {file.name}", title_justify="left")
        for column in ("Line", "external_id", "Field", "What is wrong"):
            table.add_column(column, overflow="fold")
        for bad in report.rejected[:SHOWN]:
            for err in bad.errors:
                table.add_row(str(bad.line), bad.external_id or "", err.field, err.message)
        console.print(table)
        if len(report.rejected) > SHOWN:
            console.print(f"... and {len(report.rejected) - SHOWN} more (see --report).")
    if report.duplicates:
        console.print(
            f"{len(report.duplicates)} lines were imported before and were not filed again "
            f"(line {report.duplicates[0].line}: {report.duplicates[0].reference}"
            + (", ..." if len(report.duplicates) > 1 else "")
            + ")."
        )
    if report.imported and report.saved and len(report.imported) <= SHOWN:
        for ok in report.imported:
            console.print(f"line {ok.line}  {ok.external_id}  ->  {ok.reference}  {ok.status}")
    console.print(_verdict(report))


def _verdict(report: BatchReport) -> str:
    valid, before, bad = len(report.imported), len(report.duplicates), len(report.rejected)
    if report.dry_run:
        return (
            f"Dry run, nothing imported: of {report.lines} lines, {valid} are valid, "
            f"{before} were imported before and {bad} need attention."
        )
    if bad and not report.saved and report.mode == "all_or_nothing":
        return (
            f"Nothing was imported: {bad} of {report.lines} lines need attention. Correct "
            "them and run the import again, or add --skip-invalid to import the valid lines only."
        )
    return (
        f"Imported {valid} of {report.lines} lines; {before} were imported before; {bad} rejected."
    )
