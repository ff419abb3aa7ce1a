"""`rightful reports ...`: the request records (11 CCR § 7101) and a year's metrics (§ 7102)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work

app = typer.Typer(
    help="Reports regulators ask for: records and yearly metrics.", no_args_is_help=True
)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("write the date as YYYY-MM-DD", param_hint=option) from None


@app.command("records")
@fail_on_error
def records_cmd(
    out: Path = typer.Option(..., "--out", help="The CSV file to write"),
    first: str | None = typer.Option(
        None, "--from", help="First day received (default: 24 months ago)"
    ),
    last: str | None = typer.Option(None, "--to", help="Last day received (default: today)"),
) -> None:
    """Write the request records of a period as CSV: no identities, a reference per request."""
    from rightful.reports import records

    default_from, default_to = records.default_period(utcnow().date())
    start, end = _day(first, "--from") or default_from, _day(last, "--to") or default_to
    with unit_of_work(open_runtime().sessions) as session:
        rows = records.request_records(session, actor=acting(session), first=start, last=end)
    out.write_text(records.to_csv(rows), encoding="utf-8", newline="")
    typer.echo(f"{len(rows)} requests received {start} to {end} written to {out}.")


@app.command("metrics")
@fail_on_error
def metrics_cmd(
    year: int = typer.Option(
        utcnow().year - 1, "--year", help="The calendar year (default: last year)"
    ),
    scope: str = typer.Option("US-CA", help='"US-CA" (California consumers) or "all"'),
    csv_out: Path | None = typer.Option(None, "--csv", help="Also write the figures as CSV here"),
) -> None:
    """A calendar year's metrics per kind of request, as the public page shows them."""
    from rightful.reports import metrics

    with unit_of_work(open_runtime().sessions) as session:
        m = metrics.metrics_for_staff(
            session, actor=acting(session), year=year, scope=scope, today=utcnow().date()
        )
    typer.echo(f"{m.year}, {m.scope_label} (counted {m.counted_on}):")
    for r in m.rows:
        days = "-" if r.median_days is None else f"median {r.median_days}, mean {r.mean_days}"
        split = ", ".join(f"{b.value} {n}" for b, n in r.denied.items())
        typer.echo(
            f"  {r.key:<8} received {r.received}, complied {r.complied} "
            f"({r.complied_in_part} in part), denied {r.denied_total} ({split}), "
            f"withdrawn {r.withdrawn}, open {r.open}; days {days}"
        )
    if csv_out is not None:
        csv_out.write_text(metrics.to_csv(m), encoding="utf-8", newline="")
        typer.echo(f"Written to {csv_out}.")
