"""`rightful audit ...`: the audit log's integrity."""

from __future__ import annotations

import json

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
@fail_on_error
def verify(as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON")) -> None:
    """Check every event's hash and the log's head; exit 1 and say what is wrong, and where, if
    the chain is broken (an edited, deleted, reordered or added event)."""
    from rightful.security import audit

    with unit_of_work(open_runtime().sessions) as session:
        verdict = audit.verify_as(session, actor=acting(session))
    if as_json:
        typer.echo(json.dumps(verdict.as_dict()))
    elif verdict.intact:
        typer.echo(f"The audit log is intact ({verdict.events} events, as its head counts).")
    else:
        typer.secho(f"The audit log is broken: {verdict.message}", err=True, fg="red")
    if not verdict.intact:
        raise typer.Exit(1)
