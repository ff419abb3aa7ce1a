"""The console's consent pages: the ledger at a glance, a person's choices, staff-recorded ones."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from rightful.consent import catalog, deliver, ledger, reports, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentSubject
from rightful.consent.state import current
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError, RightfulError
from rightful.core.runtime import Runtime
from rightful.web.deps import check_csrf, runtime, staff_from_session
from rightful.web.pages import render
from rightful.web.params import RowId

router = APIRouter(prefix="/admin/consent")


@router.get("")
def consent_home(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Counts per purpose, ledger integrity, the newest choices."""
    with unit_of_work(rt.sessions) as session:
        staff_from_session(request, session)
        return render(
            request,
            "admin/consent.html",
            overview=reports.overview(session),
            events=reports.recent_events(session),
            verdict=ledger.verify(session),
            propagation=deliver.delivery_summary(session),
        )


def _subject_page(
    request: Request, session: Session, subject: ConsentSubject | None, **extra: Any
) -> Response:
    return render(
        request,
        "admin/consent_subject.html",
        http_status=extra.pop("http_status", 200),
        subject=subject,
        states=current(session, subject),
        events=ledger.history(session, subject.id) if subject else [],
        purposes=catalog.purposes(session),
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
        staff_from_session(request, session)
        try:
            if "@" in typed or not typed:
                subject = subjects.find_person(session, rt.settings, typed)
            else:
                subject = subjects.resolve(session, rt.settings, phone=typed, create=False)
        except InvalidInputError as exc:
            return _subject_page(request, session, None, error=exc.detail, http_status=422)
        if subject is not None:
            return RedirectResponse(f"/admin/consent/subjects/{subject.id}", status_code=303)
        return _subject_page(request, session, None, error=None)


@router.get("/subjects/{subject_id}")
def subject_page(
    request: Request, subject_id: str, rt: Runtime = Depends(runtime), error: str = ""
) -> Response:
    """One person's or device's choices, and the form to record one for them."""
    with unit_of_work(rt.sessions) as session:
        staff_from_session(request, session)
        subject = subjects.by_id(session, subject_id)
        return _subject_page(request, session, subject, error=error or None)


@router.post("/subjects/{subject_id}/record")
async def record_for(request: Request, subject_id: str, rt: Runtime = Depends(runtime)) -> Response:
    """Record a choice the person made by post, phone or e-mail, with how they made it."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:
        staff = staff_from_session(request, session)
        subject = subjects.by_id(session, subject_id)
        note = str(form.get("proof", "")).strip()
        purpose, _, channel = str(form.get("choice", "")).partition("|")
        try:
            if len(note) < 5:
                raise InvalidInputError(
                    "Say how the person told you (e.g. 'letter of 3 May').",
                    errors=[{"field": "proof", "message": "Describe the request."}],
                )
            ledger.record(
                session,
                rt.settings,
                subject,
                [ledger.Choice(purpose, channel, State(str(form.get("state", "withdrawn"))))],
                ledger.Collected(
                    interface=Interface.STAFF, proof={"note": note[:500]}, actor=staff.email
                ),
            )
        except (RightfulError, ValueError) as exc:
            session.rollback()
            detail = exc.detail if isinstance(exc, RightfulError) else "Choose a valid state."
            return _subject_page(request, session, subject, error=detail, http_status=422)
    return RedirectResponse(f"/admin/consent/subjects/{subject_id}", status_code=303)


@router.post("/deliveries/{delivery_id}/retry")
async def retry_delivery(
    request: Request, delivery_id: RowId, rt: Runtime = Depends(runtime)
) -> Response:
    """Send a failed or overdue delivery again now."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:
        staff = staff_from_session(request, session)
        deliver.redeliver(session, delivery_id, actor=staff.email)
    return RedirectResponse("/admin/consent#propagation-h", status_code=303)
