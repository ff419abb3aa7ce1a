"""`rightful consent ...`: purposes, choices, the ledger and the suppression list."""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work

app = typer.Typer(help="Consent and marketing choices.", no_args_is_help=True)
suppressions = typer.Typer(help="The marketing suppression list.", no_args_is_help=True)
app.add_typer(suppressions, name="suppressions")
READ_BYTES = 1 << 20  # what `suppressions check` reads of its file at a time
ADDRESSES_AT_ONCE = 10_000


@app.command("apply")
@fail_on_error
def apply(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Add or update purposes, and set the destinations, from a catalogue file."""
    from rightful.consent import catalog
    from rightful.consent import staff as desk

    text = file.read_text()
    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        actor = acting(session)
        parsed = catalog.parse(text, name=file.name)
        rows = desk.apply_catalog(session, actor=actor, parsed=parsed)
        sent_to = desk.apply_destinations(
            session,
            actor=actor,
            text=text,
            name=file.name,
            http_webhooks=rt.settings.http_webhooks_allowed,
        )
    typer.echo(f"{len(rows)} purpose(s) in the catalogue.")
    if parsed.banner is not None:
        own = ", ".join(f"{lang} ({len(words)})" for lang, words in parsed.banner.texts.items())
        typer.echo(f"Banner texts in your own words: {own or 'none, all built in'}.")
    if sent_to is not None:
        active = [d.key for d in sent_to if d.active]
        typer.echo(f"{len(active)} destination(s) told of changes: {', '.join(active) or 'none'}.")
        _import_now(None)  # a store just added: what it already holds comes in now


def _import_now(key: str | None) -> None:
    """Run the store imports that are due (or `key`'s) and say what each did."""
    from rightful.consent import staff as desk

    rt = open_runtime()
    with rt.sessions() as session:
        for row in desk.import_stores(session, rt.settings, actor=acting(session), key=key):
            outcome = (
                f"failed ({row.last_error}), retried at the next pass"
                if row.last_error
                else f"{row.rows_read} row(s) read, {row.imported} choice(s) imported, "
                f"{row.kept} kept as the person chose later"
            )
            typer.echo(f"Import from {row.destination_key}: {outcome}.")


@app.command("import")
@fail_on_error
def import_from_stores(
    destination: str | None = typer.Option(
        None, help="A store destination's key; default: every store whose import is due"
    ),
) -> None:
    """Import the choices connected stores hold that the ledger does not (store destinations)."""
    _import_now(destination)


@app.command("purposes")
@fail_on_error
def purposes() -> None:
    """List what people can consent to."""
    from rightful.consent import staff as desk

    with unit_of_work(open_runtime().sessions) as session:
        for p in desk.purposes(session, actor=acting(session)):
            channels = ",".join(p.channels)
            typer.echo(f"{p.key:<28} {p.kind:<11} {channels:<22} default {p.default:<9} {p.title}")


@app.command("record")
@fail_on_error
def record(
    email: str | None = typer.Option(None, help="The person's e-mail address"),
    phone: str | None = typer.Option(None, help="Or a phone number (for texts)"),
    purpose: str = typer.Option(..., help="Purpose key, e.g. marketing.offers"),
    channel: str = typer.Option(..., help="email, sms, phone, post, web or all"),
    withdraw: bool = typer.Option(
        True, "--withdraw/--give", help="Withdraw (default) or give consent"
    ),
    proof: str = typer.Option(..., help="How the person told you, e.g. 'letter of 3 May, ref 12'"),
) -> None:
    """Record a choice a person made by post or phone, as staff on their behalf."""
    from rightful.consent import ledger
    from rightful.consent import staff as desk
    from rightful.consent.catalog import Interface, State

    rt = open_runtime()
    state = State.WITHDRAWN if withdraw else State.GIVEN
    with unit_of_work(rt.sessions) as session:
        actor = acting(session)
        subject = desk.subject_for_record(
            session, rt.settings, actor=actor, email=email, phone=phone
        )
        events = desk.record(
            session,
            rt.settings,
            actor=actor,
            subject=subject,
            choices=[ledger.Choice(purpose, channel, state)],
            collected=ledger.Collected(
                interface=Interface.STAFF, proof={"note": proof}, actor=actor.name
            ),
        )
    typer.echo(f"Recorded {state.value} for {purpose} on {channel}." if events else "No change.")


@app.command("show")
@fail_on_error
def show(
    email: str | None = typer.Option(None, help="The person's e-mail address"),
    phone: str | None = typer.Option(None, help="Or a phone number (for texts)"),
) -> None:
    """A person's (or a number's) current choices and their history."""
    from rightful.consent import staff as desk

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        found = desk.find(session, rt.settings, actor=acting(session), email=email, phone=phone)
        for c in found.states:
            how = f"since {c.since:%Y-%m-%d %H:%M}" if c.since else "default"
            typer.echo(f"{c.purpose:<28} {c.channel:<6} {c.state:<9} {how}")
        events = found.events
    typer.echo(f"\n{len(events)} recorded choice(s).")
    for e in events:
        typer.echo(f"{e.at:%Y-%m-%d %H:%M} {e.purpose}/{e.channel} {e.state} via {e.interface}")


@app.command("check")
@fail_on_error
def check(
    purpose: str = typer.Option(...),
    channel: str = typer.Option(...),
    email: str | None = typer.Option(None, help="The person's e-mail address"),
    phone: str | None = typer.Option(None, help="Or a phone number (for texts)"),
) -> None:
    """May this purpose be used on this channel for this person or number? Exit 0 yes, 3 no."""
    from rightful.consent import staff as desk

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        decision = desk.check(
            session,
            rt.settings,
            actor=acting(session),
            purpose=purpose,
            channel=channel,
            email=email,
            phone=phone,
        )
    typer.echo(f"{'allowed' if decision.allowed else 'not allowed'}: {decision.reason}")
    if not decision.allowed:
        raise typer.Exit(3)


@app.command("verify")
@fail_on_error
def verify() -> None:
    """Check the whole consent log against its signed tree heads and those anchored outside the
    store; exit 1 and say what is wrong, and where (position and event), if it does not hold.
    An intact log's newest head is anchored."""
    from rightful.consent import staff as desk

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        verdict = desk.verify_ledger(session, rt.settings, actor=acting(session), anchor=True)
    if not verdict.intact:
        typer.secho(f"The consent ledger is broken: {verdict.message}", err=True, fg="red")
        raise typer.Exit(1)
    typer.echo(f"The consent ledger is intact: {verdict.message.removeprefix('Intact: ')}")


@app.command("rebuild")
@fail_on_error
def rebuild() -> None:
    """Derive the current state again from the ledger alone."""
    from rightful.consent import staff as desk

    with unit_of_work(open_runtime().sessions) as session:
        count = desk.rebuild(session, actor=acting(session))
    typer.echo(f"Rebuilt {count} current choice(s) from the ledger.")


@suppressions.command("export")
@fail_on_error
def export(output: Path = typer.Option(None, help="CSV file (default: standard output)")) -> None:
    """Write the list as CSV: email_sha256, topic (* = all marketing), reason, since."""
    from rightful.consent import staff as desk

    with unit_of_work(open_runtime().sessions) as session:
        desk.export_suppressions(session, actor=acting(session))  # refused before any output
    stream = output.open("w", newline="") if output else sys.stdout
    writer = csv.writer(stream)
    writer.writerow(["email_sha256", "topic", "reason", "since"])
    with unit_of_work(open_runtime().sessions) as session:
        for entry in desk.export_suppressions(session, actor=acting(session)):
            writer.writerow([entry.email_sha256, entry.topic, entry.reason, entry.since])
    if output:
        stream.close()


@suppressions.command("check")
@fail_on_error
def check_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    topic: str = typer.Option(None, help="Also a topic's own opt-outs"),
) -> None:
    """Print which lines of FILE (SHA-256 digests or addresses, one per line, as its first line
    is) are suppressed. FILE is read as it comes, never whole: a named pipe will do."""
    from rightful.consent import bulk_check
    from rightful.consent import staff as desk

    rt = open_runtime()
    # Answers wait in a spool (on disk past a megabyte): a refusal prints none of them.
    with (
        file.open("rb", buffering=0) as stream,
        tempfile.SpooledTemporaryFile(max_size=1_000_000, mode="w+") as found,
        unit_of_work(rt.sessions) as session,
    ):
        actor = acting(session)
        first, chunks = bulk_check.first_line(iter(lambda: stream.read(READ_BYTES), b""))
        if bulk_check.is_digest(first):
            checked = desk.suppressed_lines(
                session, actor=actor, chunks=chunks, out=found, topic=topic
            )
        else:
            checked = 0
            for emails in bulk_check.text_lines(chunks, ADDRESSES_AT_ONCE):
                checked += len(emails)
                hits = desk.suppressed_addresses(
                    session, rt.settings, actor=actor, emails=emails, topic=topic
                )
                found.writelines(f"{hit}\n" for hit in hits)
        found.seek(0)
        suppressed = 0
        for hit in found:
            typer.echo(hit, nl=False)
            suppressed += 1
    rt.engine.dispose()
    typer.secho(f"{suppressed} of {checked} suppressed.", err=True)


@app.command("destinations")
@fail_on_error
def destinations_status() -> None:
    """Each destination with its deliveries by status, and any late or overdue ones."""
    from rightful.consent import staff as desk

    with unit_of_work(open_runtime().sessions) as session:
        summary = desk.delivery_summary(session, actor=acting(session))
    for d in summary.destinations:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(d.counts.items())) or "nothing yet"
        state = "" if d.active else " (switched off)"
        typer.echo(f"{d.key:<28} {d.kind:<8} {counts}; late {d.late}, overdue {d.overdue}{state}")
    for item in summary.overdue:
        typer.echo(
            f"overdue  delivery {item.id} to {item.destination_key}: {item.purpose}/"
            f"{item.channel}, due {item.due_at:%Y-%m-%d}, {item.attempts} attempt(s), "
            f"{item.last_error or 'no answer'}"
        )


@app.command("destination-secret")
@fail_on_error
def destination_secret(key: str) -> None:
    """Print the secret a webhook destination uses to check Rightful's signatures."""
    from rightful.consent import staff as desk

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        secret = desk.destination_secret(rt.settings, actor=acting(session), key=key)
    typer.echo(secret)


@app.command("redeliver")
@fail_on_error
def redeliver(delivery_id: int) -> None:
    """Try a failed or overdue delivery again now (e.g. once the destination is fixed)."""
    from rightful.consent import staff as desk

    with unit_of_work(open_runtime().sessions) as session:
        delivery = desk.redeliver(session, actor=acting(session), delivery_id=delivery_id)
    typer.echo(f"Delivery {delivery.id} to {delivery.destination_key} will be sent again now.")


@app.command("replay")
@fail_on_error
def replay(destination: str) -> None:
    """Send a destination everyone's current choices (e.g. a system connected after they chose)."""
    from rightful.consent import staff as desk

    with unit_of_work(open_runtime().sessions) as session:
        queued = desk.replay(session, actor=acting(session), destination=destination)
    typer.echo(f"Queued {queued} choice(s) for {destination}; the worker sends them.")
