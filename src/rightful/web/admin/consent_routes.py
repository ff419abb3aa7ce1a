"""The console's consent pages: the ledger at a glance, a person's choices, staff-recorded ones."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from rightful.consent import ledger
from rightful.consent import staff as desk
from rightful.consent.catalog import Interface, State
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError, RightfulError
from rightful.core.runtime import Runtime
from rightful.security.permissions import Actor, Permission
from rightful.web.admin.access import console_actor
from rightful.web.deps import check_csrf, runtime
from rightful.web.pages import render
from rightful.web.params import RowId
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin/consent")


@router.get("")
def consent_home(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Counts per purpose, ledger integrity, the newest choices (for roles that read them)."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        personal = actor.can(Permission.CONSENT_READ_PERSONAL)
        return render(
            request,
            "admin/consent.html",
            overview=desk.overview(session, actor=actor),
            events=desk.recent_events(session, actor=actor) if personal else [],
            verdict=desk.verify_ledger(session, rt.settings, actor=actor),
            propagation=desk.delivery_summary(session, actor=actor),
        )


def _subject_page(
    request: Request, session: Session, actor: Actor, found: desk.Choices, **extra: Any
) -> Response:
    return render(
        request,
        "admin/consent_subject.html",
        http_status=extra.pop("http_status", 200),
        subject=found.subject,
        states=found.states,
        events=found.events,
        purposes=desk.purposes(session, actor=actor),
        **extra,
    )


@router.post("/lookup")
async def lookup(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Find a person by e-mail address, or a phone number (posted, so it stays out of URLs and
    logs)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    typed = str(form.get("email", "")).strip()[:254]
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        nobody = desk.read(session, actor=actor, subject=None)
        by_email = "@" in typed or not typed
        try:
            subject = desk.locate(
                session,
                rt.settings,
                actor=actor,
                email=typed if by_email else None,
                phone=None if by_email else typed,
            )
        except InvalidInputError as exc:
            return _subject_page(request, session, actor, nobody, error=exc.detail, http_status=422)
        if subject is not None:
            return RedirectResponse(f"/admin/consent/subjects/{subject.id}", status_code=303)
        return _subject_page(request, session, actor, nobody, error=None)


@router.get("/subjects/{subject_id}")
def subject_page(
    request: Request, subject_id: str, rt: Runtime = Depends(runtime), error: str = ""
) -> Response:
    """One person's or device's choices, and the form to record one for them."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        subject = desk.subject_by_id(session, actor=actor, subject_id=subject_id)
        found = desk.read(session, actor=actor, subject=subject)
        return _subject_page(request, session, actor, found, error=error or None)


@router.post("/subjects/{subject_id}/record")
async def record_for(request: Request, subject_id: str, rt: Runtime = Depends(runtime)) -> Response:
    """Record a choice the person made by post, phone or e-mail, with how they made it."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        subject = desk.subject_by_id(session, actor=actor, subject_id=subject_id)
        note = str(form.get("proof", "")).strip()
        purpose, _, channel = str(form.get("choice", "")).partition("|")
        try:
            if len(note) < 5:
                raise InvalidInputError(
                    "Say how the person told you (e.g. 'letter of 3 May').",
                    errors=[{"field": "proof", "message": "Describe the request."}],
                )
            desk.record(
                session,
                rt.settings,
                actor=actor,
                subject=subject,
                choices=[
                    ledger.Choice(purpose, channel, State(str(form.get("state", "withdrawn"))))
                ],
                collected=ledger.Collected(
                    interface=Interface.STAFF, proof={"note": note[:500]}, actor=actor.name
                ),
            )
        except (RightfulError, ValueError) as exc:
            if isinstance(exc, RightfulError) and exc.status == 403:
                raise
            session.rollback()
            detail = exc.detail if isinstance(exc, RightfulError) else "Choose a valid state."
            found = desk.read(session, actor=actor, subject=subject)
            return _subject_page(request, session, actor, found, error=detail, http_status=422)
    return RedirectResponse(f"/admin/consent/subjects/{subject_id}", status_code=303)


@router.post("/deliveries/{delivery_id}/retry")
async def retry_delivery(
    request: Request, delivery_id: RowId, rt: Runtime = Depends(runtime)
) -> Response:
    """Send a failed or overdue delivery again now."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        desk.redeliver(session, actor=actor, delivery_id=delivery_id)
    return RedirectResponse("/admin/consent#propagation-h", status_code=303)
