"""`rightful mail`: the outbox's messages that the mail server did not take."""

from __future__ import annotations

import json

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError

app = typer.Typer(help="E-mail in the outbox.", no_args_is_help=True)


@app.command("resend")
@fail_on_error
def resend(
    message: int | None = typer.Argument(None, help="The outbox message's number"),
    failed: bool = typer.Option(False, "--failed", help="Every failed message"),
) -> None:
    """Queue one message (or every failed one) again; the worker sends it on its next pass."""
    from rightful.messaging import staff as outbox_desk

    if (message is None) == (not failed):
        raise InvalidInputError("Name one message, or say --failed for all failed ones.")
    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        actor = acting(session)
        if message is not None:
            outbox_desk.resend(session, rt.settings, actor=actor, message_id=message)
            queued = 1
        else:
            queued = outbox_desk.resend_failed(session, rt.settings, actor=actor)
    typer.echo(json.dumps({"queued": queued}))
