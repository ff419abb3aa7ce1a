"""`rightful mailbox`: read the privacy mailbox now (the worker also does, every minute)."""

from __future__ import annotations

import json

import typer

from rightful.cli.common import fail_on_error, open_runtime

app = typer.Typer(help="The privacy mailbox.", no_args_is_help=True)


@app.command("poll")
@fail_on_error
def poll(limit: int = typer.Option(200, help="Read at most this many new messages")) -> None:
    """Read new messages into cases and send the acknowledgements (counts only are printed)."""
    from rightful.casework.mailbox import poll as read_mailbox
    from rightful.messaging.service import deliver_pending

    rt = open_runtime()
    result = read_mailbox(rt.sessions, rt.settings, limit=limit)
    with rt.sessions() as session:
        sent = deliver_pending(session, rt.settings)
    typer.echo(json.dumps({**result.outcomes, "failed": result.failed, "e-mails_sent": sent}))
