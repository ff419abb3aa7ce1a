"""`rightful rights ...`: the same request actions the console and API offer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.cli.rights_import import import_requests
from rightful.core.db import unit_of_work
from rightful.rights.models import RightsRequest
from rightful.rights.types import RequestType

app = typer.Typer(help="Consumer rights requests.", no_args_is_help=True)


def _row(req: RightsRequest) -> str:
    return (
        f"{req.reference}  {req.id}  {req.request_type:<16} {req.status:<20} "
        f"due {req.respond_due.isoformat()}"
    )


@app.command("submit")
@fail_on_error
def submit(
    request_type: RequestType = typer.Option(..., "--type"),
    email: str | None = typer.Option(None, help="Leave out for someone without e-mail (post)"),
    phone: str | None = None,
    name: str | None = None,
    postal_code: str | None = None,
    jurisdiction: str = typer.Option(
        "US-CA",
        "--jurisdiction",
        "--state",
        help="Where the person lives: US-CA, US-TX, US-NY, GB, IE, DE... (US-OTHER or OTHER "
        "if not listed). Its law sets the clocks; docs/jurisdictions.md lists every code",
    ),
    channel: str = typer.Option("post", help="post, phone, in_person, email, web or api"),
    received: str | None = typer.Option(
        None, help="The day it came in, YYYY-MM-DD (the clocks run from it; default today)"
    ),
    identity_method: str | None = typer.Option(
        None,
        help="How you checked who the person is: data_points_phone, knowledge_questions, "
        "signed_letter, in_person or email_code",
    ),
    identity_note: str | None = typer.Option(None, help="A note on the check (no ID numbers)"),
    address: str | None = typer.Option(None, help="Postal address, for letters"),
    everything: bool = typer.Option(False, help="Since 2022-01-01, not the last 12 months"),
    signature: str | None = typer.Option(None, help="Signed declaration (typed name)"),
    correct: str | None = typer.Option(
        None, help="For --type correct: what is wrong (name, phone_number, date_of_birth)"
    ),
    to: str | None = typer.Option(None, help="For --type correct: the right value"),
    detail: list[str] = typer.Option(
        [], "--detail", help="KEY=VALUE for a detail in RIGHTFUL_EXTRA_DATA_POINTS (repeatable)"
    ),
) -> None:
    """Record a request received by post, phone or in person (or e-mail); with an identity
    check other than a code it is verified by you, else the person gets a code."""
    from rightful.rights.intake import record
    from rightful.rights.schemas import RequestIn

    data = RequestIn.model_validate(
        {
            "request_type": request_type,
            "email": email,
            "phone_number": phone,
            "name": name,
            "postal_code": postal_code,
            "jurisdiction": jurisdiction,
            "channel": channel,
            "date_range": "all" if everything else "last_12_months",
            "declaration_signature": signature,
            "other_points": dict(d.split("=", 1) for d in detail if "=" in d),
            "correction_item": correct,
            "correction_value": to,
            "received_at": received,
            "identity_method": identity_method,
            "identity_note": identity_note,
            "postal_address": address,
        }
    )
    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        req = record(session, rt.settings, data, actor=acting(session), via="cli")
        typer.echo(_row(req))


@app.command("verify")
@fail_on_error
def verify(
    request: str, code: str = typer.Option(..., help="The 6-digit code the consumer read out")
) -> None:
    """Enter the code a consumer gave by phone or letter."""
    from rightful.core.errors import VerificationError
    from rightful.rights.staff import verify as do_verify

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        outcome = do_verify(
            session, rt.settings, actor=acting(session), request_id=request, code=code
        )
        typer.echo(_row(outcome.request))
    if outcome.error:
        raise VerificationError(outcome.error)


@app.command("list")
@fail_on_error
def list_(status: str | None = None) -> None:
    """Requests, soonest due first."""
    from rightful.rights.staff import list_requests

    with unit_of_work(open_runtime().sessions) as session:
        rows = list_requests(session, actor=acting(session), status=status)
        for req in rows:
            typer.echo(_row(req))
        if not rows:
            typer.echo("No requests.")


@app.command("show")
@fail_on_error
def show(request: str = typer.Argument(..., help="Id or reference")) -> None:
    """One request with its timeline."""
    from rightful.rights.staff import timeline, view_request

    with unit_of_work(open_runtime().sessions) as session:
        actor = acting(session)
        req = view_request(session, actor=actor, request_id=request)
        typer.echo(_row(req))
        for e in timeline(session, actor=actor, request_id=req.id):
            typer.echo(
                f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.action:<28} {e.actor}  "
                f"{json.dumps(e.detail) if e.detail else ''}"
            )


def _act(action: str, request: str, **kwargs: str) -> None:
    from rightful.rights import service

    rt = open_runtime()
    actions: dict[str, Callable[..., RightsRequest]] = {
        "approve": service.approve_request,
        "deny": service.deny_request,
        "extend": service.extend_request,
        "complete": service.complete_manually,
    }
    fn = actions[action]
    with unit_of_work(rt.sessions) as session:
        req = fn(session, rt.settings, request_id=request, actor=acting(session), **kwargs)
        typer.echo(_row(req))


@app.command("approve")
@fail_on_error
def approve(request: str) -> None:
    """Approve; a running worker (serve or `rightful worker`) then executes it."""
    _act("approve", request)


@app.command("deny")
@fail_on_error
def deny(
    request: str,
    reason: str = typer.Option(..., help="Told to the consumer"),
    basis: str = typer.Option(
        "other",
        help="Grounds the yearly figures count: other, exempt, not_by_consumer, not_verifiable",
    ),
) -> None:
    """Deny with a reason."""
    _act("deny", request, reason=reason, basis=basis)


@app.command("extend")
@fail_on_error
def extend(request: str, reason: str = typer.Option(..., help="Told to the consumer")) -> None:
    """Use the one 45-day extension."""
    _act("extend", request, reason=reason)


@app.command("complete")
@fail_on_error
def complete(
    request: str, note: str = typer.Option(..., help="What was done; sent to the consumer")
) -> None:
    """Record that staff carried out a request Rightful does not automate yet."""
    _act("complete", request, note=note)


@app.command("policy")
@fail_on_error
def policy(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Apply a policy file (e.g. the erasure policy); it replaces the one for its request type."""
    from rightful.rights.erasure import apply_policy

    with unit_of_work(open_runtime().sessions) as session:
        applied = apply_policy(
            session, text=file.read_text(), actor=acting(session), source=str(file)
        )
    typer.echo(f"Applied '{applied.name}' for {applied.request_type} requests.")


@app.command("preview")
@fail_on_error
def preview(request: str) -> None:
    """What a deletion would do, per system and collection, before anything changes."""
    from rightful.rights.erasure import preview as erasure_preview

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        rows = erasure_preview(session, rt.settings, request_id=request, actor=acting(session))
    for p in rows:
        masks = ", ".join(f"{m.name}:{m.strategy}" for m in p.masks)
        kept = f" kept until {p.retain_until}: {p.legal_basis}" if p.legal_basis else ""
        stuck = f"  {p.cannot_erase} cannot be singled out (no key)" if p.cannot_erase else ""
        by = f"  no key: changed by {', '.join(p.changed_by)}" if p.changed_by else ""
        by += f"  {p.by_task}" if p.by_task else ""
        typer.echo(
            f"{p.system:<28} {p.collection:<24} {p.rows:>4} rows  {p.action:<12}"
            f"{'  mask ' + masks if masks else ''}{kept}{stuck}{by}"
        )


@app.command("waive")
@fail_on_error
def waive(
    request: str,
    partner: str,
    reason: str = typer.Option(
        ..., help="Why the partner's confirmation cannot be had (kept in the record only)"
    ),
    tell_person: str = typer.Option(
        ..., "--tell-person", help="What the person reads about it in their completion e-mail"
    ),
) -> None:
    """Stop waiting for a partner's confirmation, recording why."""
    from rightful.rights.partners import waive as do_waive

    with unit_of_work(open_runtime().sessions) as session:
        do_waive(
            session,
            request_id=request,
            partner_key=partner,
            actor=acting(session),
            reason=reason,
            explanation=tell_person,
        )
    typer.echo(f"Recorded for {partner}. The worker completes the request once no partner is left.")


@app.command("partner-secret")
@fail_on_error
def partner_secret(partner: str) -> None:
    """The secret a partner uses to check the signature of erasure webhooks."""
    from rightful.rights.staff import partner_webhook_secret

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        secret = partner_webhook_secret(rt.settings, actor=acting(session), partner=partner)
    typer.echo(secret)


@app.command("transfer-secret")
@fail_on_error
def transfer_secret(url: str) -> None:
    """The secret an organisation's endpoint checks portability transfers' signatures with."""
    from rightful.rights.transfer_send import endpoint_secret

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        secret = endpoint_secret(rt.settings, actor=acting(session), url=url)
    typer.echo(secret)


@app.command("review")
@fail_on_error
def review(request: str) -> None:
    """What a correction request would change, field by field, before approving it."""
    from rightful.rights.staff import review_correction

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        changes = review_correction(session, rt.settings, actor=acting(session), request_id=request)
    for c in changes:
        typer.echo(
            f"{c.system:<16} {c.collection}.{c.field:<20} {c.current!s:<24} -> {c.corrected}"
        )
    if not changes:
        typer.echo("Nothing to change: the value is already right everywhere.")


@app.command("retention")
@fail_on_error
def retention(
    run_now: bool = typer.Option(False, "--run", help="Apply it now, not only preview"),
) -> None:
    """Preview (or run) the retention schedule: rows past their period, per collection."""
    from rightful.rights.staff import retention_preview, retention_run

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        act_as = acting(session)
        rows = (
            retention_run(session, rt.settings, actor=act_as)
            if run_now
            else retention_preview(session, rt.settings, actor=act_as)
        )
    for c in rows:
        verb = ("deleted" if c.action == "delete" else "masked") if run_now else f"to {c.action}"
        typer.echo(f"{c.system:<16} {c.collection:<24} {c.rows:>6} rows {verb} (before {c.cutoff})")
    if not rows:
        typer.echo("No retention schedule applied yet: `rightful rights policy FILE`.")


@app.command("package")
@fail_on_error
def package(request: str, output: Path = typer.Option(Path("."), "-o", help="Folder")) -> None:
    """Write a completed request's package (zip) for sending by post or secure mail."""
    from rightful.rights.staff import read_package

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        reference, data = read_package(
            session, rt.settings, actor=acting(session), request_id=request
        )
    target = output / f"{reference}.zip"
    target.write_bytes(data)
    typer.echo(f"Wrote {target}")


@app.command("due")
@fail_on_error
def due(
    send: bool = typer.Option(False, help="Send today's reminders, escalations and digest"),
) -> None:
    """What is overdue or due soon (references and dates only); --send runs the daily job now."""
    from rightful.rights import due as clocks

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        soon = clocks.due_soon(session, rt.settings, actor=acting(session))
        if send:
            run = clocks.run_due_daily(session, rt.settings)
            typer.echo(
                f"{run.reminders} reminders, {run.escalations} escalations, "
                f"digest {'queued' if run.digest else 'not due'}."
            )
            return
        for clock in soon:
            typer.echo(f"{clock.reference}  {clock.due.isoformat()}  {clock.label}")


@app.command("appeals")
@fail_on_error
def list_appeals(status: str | None = typer.Option(None, help="open or decided")) -> None:
    """Appeals, open first, soonest due first."""
    from rightful.rights import appeals

    with unit_of_work(open_runtime().sessions) as session:
        for appeal, req in appeals.list_appeals(session, actor=acting(session), status=status):
            typer.echo(
                f"{appeal.id}  {req.reference}  {appeal.status:<8} due {appeal.due.isoformat()}"
                f"  {appeal.outcome or ''}"
            )


@app.command("decide-appeal")
@fail_on_error
def decide_appeal(
    appeal: str = typer.Argument(..., help="The appeal's id, or its request's reference"),
    outcome: str = typer.Option(..., help="upheld, reversed or partly"),
    explanation: str = typer.Option(..., help="The written outcome, e-mailed to the person"),
) -> None:
    """Decide an appeal (never by whoever made the first decision: use --as EMAIL)."""
    from rightful.rights import appeals

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        decided = appeals.decide_appeal(
            session,
            rt.settings,
            appeal_id=appeal,
            actor=acting(session),
            outcome=outcome,
            explanation=explanation,
        )
        typer.echo(f"{decided.id}  {decided.status}  {decided.outcome}")


# Its own module (Rich progress, the CSV report); a command of `rightful rights` all the same.
app.command("import")(import_requests)
