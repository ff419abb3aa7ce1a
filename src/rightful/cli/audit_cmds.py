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
    """Check every event's hash, the log's head and its anchors outside the store; exit 1 and
    say what is wrong, and where, if the chain is broken (an edited, deleted, reordered or added
    event, or fewer events than anchored). An intact log's head is anchored."""
    from rightful.security import audit

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        verdict = audit.verify_as(session, rt.settings, actor=acting(session), anchor=True)
    if as_json:
        typer.echo(json.dumps(verdict.as_dict()))
    elif verdict.intact:
        typer.echo(f"The audit log is intact ({verdict.events} events, as its head counts).")
    else:
        typer.secho(f"The audit log is broken: {verdict.message}", err=True, fg="red")
    if not verdict.intact:
        raise typer.Exit(1)


@app.command("anchor")
@fail_on_error
def anchor() -> None:
    """Verify the audit log and the consent log now and append each intact one's head to the
    anchors outside the store (RIGHTFUL_AUDIT_ANCHOR_DIR); exit 1 if one is broken."""
    from rightful.consent import staff as desk
    from rightful.security import audit

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        actor = acting(session)
        found = {
            "The audit log": audit.verify_as(session, rt.settings, actor=actor, anchor=True),
            "The consent log": desk.verify_ledger(session, rt.settings, actor=actor, anchor=True),
        }
    for title, verdict in found.items():
        if verdict.intact:
            typer.echo(
                f"{title} is intact ({verdict.events} events); its head is anchored in "
                f"{rt.settings.anchor_dir}."
            )
        else:
            typer.secho(f"{title} is broken, not anchored: {verdict.message}", err=True, fg="red")
    if not all(v.intact for v in found.values()):
        raise typer.Exit(1)
