"""The preference center: see and change marketing and privacy choices. Works without JavaScript.

Personal data never enters a URL or a log: links carry opaque signed tokens, the company site's
assertion arrives by form POST, and once a link is opened the person is remembered in the signed
session cookie and the browser is redirected, so the token leaves the address bar. A link or an
assertion signs in once (security/replay.py), and only a POST does: a GET of the e-mailed link
shows a button, because mail scanners follow links.

One-click unsubscribe and list removal live in unsubscribe.py; what they share with this page
in consent_forms.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from rightful.consent import (
    assertion,
    catalog,
    ledger,
    linked,
    links,
    preferences,
    receipts,
    service,
    subjects,
)
from rightful.consent.banner import DEVICE_COOKIE
from rightful.consent.catalog import Interface, State
from rightful.consent.ledger import Choice, Collected
from rightful.consent.models import ConsentEvent, ConsentSubject
from rightful.consent.propagation import LEGAL_BUSINESS_DAYS, TARGET_HOURS
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError, RateLimitedError, VerificationError
from rightful.core.i18n import N_
from rightful.core.runtime import Runtime
from rightful.web.deps import check_csrf, client_address, dispatcher, runtime
from rightful.web.gpc import gpc_signal
from rightful.web.i18n import language_of
from rightful.web.pages import render
from rightful.web.privacy_center.consent_forms import (
    address_form,
    ask_for_link,
    link_error,
)
from rightful.web.privacy_center.receipt_verify import router as receipt_router
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()
SESSION_SECONDS = 3600  # how long an opened link or site sign-in lets the person change choices
SUBJECT, UNTIL, VIA, SAVED, NOTICE = (
    "consent_subject",
    "consent_until",
    "consent_via",
    "consent_saved",
    "consent_notice",
)
LINKS_PER_CLIENT_PER_HOUR = 10
LINKS_PER_ADDRESS_PER_HOUR = 3
ONE_CLICK_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TIMING = {"target_hours": TARGET_HOURS, "legal_days": LEGAL_BUSINESS_DAYS}


# --- who is signed in ---------------------------------------------------------------------------


def _sign_in(request: Request, subject_id: str, via: str) -> None:
    for key in (SAVED, NOTICE):
        request.session.pop(key, None)
    request.session.update(
        {SUBJECT: subject_id, VIA: via, UNTIL: int(utcnow().timestamp()) + SESSION_SECONDS}
    )


def _subject_id(request: Request) -> str | None:
    subject_id = request.session.get(SUBJECT)
    if not subject_id or int(request.session.get(UNTIL, 0)) < utcnow().timestamp():
        return None
    return str(subject_id)


async def _signed_in_form(request: Request) -> tuple[FormData, str | None]:
    """A form posted from our own page, and who is signed in (None: nobody, or time ran out)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    return form, _subject_id(request)


def _start_page(request: Request, status: int = 200, notice: str = "") -> Response:
    return address_form(request, "preferences/start.html", status, notice=notice)


def _signed_out(request: Request) -> Response:
    return _start_page(
        request,
        401,
        N_(
            "Your time to change your choices has run out, or you have not opened a link yet. "
            "Enter your e-mail address and we will send you a new link."
        ),
    )


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # a person's choices stay out of caches
    return response


def _masked(address: str | None) -> str:
    local, _, domain = (address or "").partition("@")
    return f"{local[:1]}•••@{domain}" if domain else ""


def _collected(request: Request, method: str) -> Collected:
    via = str(request.session.get(VIA, "link"))
    return Collected(
        interface=Interface.PREFERENCE_CENTER, proof={"method": method, "signed_in_by": via}
    )


# --- the preference center ----------------------------------------------------------------------


@router.get("/preferences")
def start(request: Request) -> Response:
    """Ask for a link: the only thing we need is the address."""
    return _start_page(request)


@router.post("/preferences/link")
async def send_link(
    request: Request, rt: Runtime = Depends(runtime), disp: Dispatcher = Depends(dispatcher)
) -> Response:
    """E-mail a magic link to the address given."""
    return await ask_for_link(
        request, rt, disp, page="preferences/start.html", send=service.send_preferences_link
    )


@router.get("/preferences/open/{token}")
def open_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The e-mailed link asks for a button press; opening it alone signs nobody in."""
    try:
        subject_id = links.preferences_subject(rt.settings, token)
    except VerificationError as exc:
        return link_error(request, exc, again="/preferences")
    if _subject_id(request) == subject_id:  # already signed in here, by this link or another
        return RedirectResponse("/preferences/manage", status_code=303)
    return _private(render(request, "preferences/open.html", token=token))


@router.post("/preferences/open/{token}")
async def open_link(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Spend the e-mailed link, remember the person, and take the token out of the address bar."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    try:
        with unit_of_work(rt.sessions) as session:
            subject_id = links.use_preferences_link(session, rt.settings, token)
            if browser := request.cookies.get(DEVICE_COOKIE):
                person = subjects.by_id(session, subject_id)
                linked.link_browser(session, rt.settings, browser, person, "e-mailed link")
    except VerificationError as exc:
        return link_error(request, exc, again="/preferences")
    _sign_in(request, subject_id, "e-mailed link")
    return RedirectResponse("/preferences/manage", status_code=303)


@router.post("/preferences/sso")
async def sign_in_from_site(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """An account holder arrives from the company's own site with a signed assertion.

    No CSRF token is possible: the form is posted from the company's site, not from our page.
    None is needed, because the short-lived assertion signed for our address is itself the
    proof of who the person is; a forged, late or already used one is refused.
    """
    form = await request.form()
    try:
        with unit_of_work(rt.sessions) as session:
            who = assertion.sign_in(session, rt.settings, str(form.get("assertion", "")))
    except VerificationError as exc:
        return link_error(request, exc, again="/preferences", title=N_("We could not sign you in"))
    # The browser they are in: as the site vouches for it, else consent.js's own cookie when
    # the privacy center shares the site's domain.
    browser = who.device_id or request.cookies.get(DEVICE_COOKIE)
    with unit_of_work(rt.sessions) as session:
        person = subjects.person(session, rt.settings, who.email)
        subject_id = person.id
        if who.phone_number:  # the site vouches for the number: a STOP from it covers them
            try:
                number = subjects.phone_number(session, rt.settings, who.phone_number)
                linked.link(session, rt.settings, number, person, "site assertion")
            except InvalidInputError:
                pass  # a number the site holds badly does not keep the person out
        linked.link_browser(session, rt.settings, browser, person, "site assertion")
    _sign_in(request, subject_id, "site assertion")
    return RedirectResponse("/preferences/manage", status_code=303)


def _saved(session: Session, person: ConsentSubject, uids: list[str]) -> list[ConsentEvent]:
    stmt = select(ConsentEvent).where(
        ConsentEvent.subject_id == person.id, ConsentEvent.uid.in_(uids)
    )
    return list(session.scalars(stmt.order_by(ConsentEvent.id)))


def _manage_ctx(
    request: Request, session: Session, settings: Settings, person: ConsentSubject
) -> dict[str, Any]:
    grid = preferences.grid(session, person)
    saved_uids = request.session.pop(SAVED, None)
    saved = (
        preferences.changes(grid, _saved(session, person, saved_uids))
        if saved_uids is not None
        else None
    )
    return {
        "grid": grid,
        "who": _masked(subjects.email_of(settings, person)),
        "saved": saved,
        "notice": request.session.pop(NOTICE, ""),
        "chosen": {},
        "errors": {},
        **TIMING,
    }


@router.get("/preferences/manage")
def manage(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """The person's choices: topics by channel, all marketing, sale/share and targeted ads."""
    subject_id = _subject_id(request)
    if subject_id is None:
        return _signed_out(request)
    gpc = gpc_signal(request)
    with unit_of_work(rt.sessions) as session:
        person = service.person_for_session(session, subject_id)
        if gpc:  # the browser's Global Privacy Control is an opt-out we honour without asking
            ledger.honour_gpc(session, rt.settings, person, source="Sec-GPC")
        ctx = _manage_ctx(request, session, rt.settings, person)
    return _private(render(request, "preferences/manage.html", gpc=gpc, **ctx))


def _fields(form: FormData) -> tuple[list[str], dict[str, str]]:
    shown = [str(v) for v in form.getlist("shown")]
    return shown, {name: str(form.get(name, "")) for name in shown if name in form}


def _record(
    session: Session,
    settings: Settings,
    person: ConsentSubject,
    choices: list[Choice],
    collected: Collected,
) -> list[ConsentEvent]:
    return ledger.record(session, settings, person, choices, collected) if choices else []


def _remember_saved(request: Request, events: list[ConsentEvent]) -> None:
    request.session[SAVED] = [*request.session.get(SAVED, []), *(e.uid for e in events)]


@router.post("/preferences/manage")
async def save(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Record opt-outs at once; send re-opt-ins of withdrawn choices to a confirming step."""
    form, subject_id = await _signed_in_form(request)
    if subject_id is None:
        return _signed_out(request)
    shown, values = _fields(form)
    with unit_of_work(rt.sessions) as session:
        person = service.person_for_session(session, subject_id)
        grid = preferences.grid(session, person)
        try:
            todo = preferences.plan(grid, preferences.read_form(grid, shown, values))
        except InvalidInputError as exc:
            ctx = _manage_ctx(request, session, rt.settings, person)
            ctx.update(errors={"choices": exc.detail}, chosen=values, gpc=gpc_signal(request))
            return _private(render(request, "preferences/manage.html", 422, **ctx))
        collected = _collected(request, "preference center form")
        events = _record(session, rt.settings, person, todo.now, collected)
        if events or not todo.to_confirm:
            _remember_saved(request, events)
        confirm = preferences.labels(grid, todo.to_confirm)
        done = preferences.changes(grid, events)
    if not todo.to_confirm:
        return RedirectResponse("/preferences/manage", status_code=303)
    fields = [f"{c.purpose}:{c.channel}" for c in todo.to_confirm]
    page = render(request, "preferences/confirm.html", confirm=confirm, fields=fields, done=done)
    return _private(page)


@router.post("/preferences/manage/confirm")
async def confirm_opt_in(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """The second step: turn back on exactly what the confirmation page listed."""
    form, subject_id = await _signed_in_form(request)
    if subject_id is None:
        return _signed_out(request)
    with unit_of_work(rt.sessions) as session:
        person = service.person_for_session(session, subject_id)
        grid = preferences.grid(session, person)
        choices = preferences.confirmed(grid, [str(v) for v in form.getlist("choice")])
        collected = _collected(request, "preference center form, opt-in confirmed on a 2nd page")
        events = _record(session, rt.settings, person, choices, collected)
        _remember_saved(request, events)
    return RedirectResponse("/preferences/manage", status_code=303)


@router.post("/preferences/unsubscribe-all")
async def unsubscribe_all(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """One click: no marketing on any channel."""
    _, subject_id = await _signed_in_form(request)
    if subject_id is None:
        return _signed_out(request)
    with unit_of_work(rt.sessions) as session:
        person = service.person_for_session(session, subject_id)
        channels = preferences.grid(session, person).all_marketing.options
        choices = [Choice(catalog.ALL_MARKETING, o.channel, State.WITHDRAWN) for o in channels]
        collected = _collected(request, "preference center, unsubscribe from all marketing")
        _remember_saved(request, ledger.record(session, rt.settings, person, choices, collected))
    return RedirectResponse("/preferences/manage", status_code=303)


@router.get("/preferences/receipt")
def download_receipt(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """The person's consent record as a JSON file."""
    subject_id = _subject_id(request)
    if subject_id is None:
        return _signed_out(request)
    with unit_of_work(rt.sessions) as session:
        person = service.person_for_session(session, subject_id)
        record = receipts.receipt(session, rt.settings, person)
    name = f"consent-record-{record['record_id'][:12]}.json"
    return JSONResponse(
        record,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/preferences/receipt/email")
async def email_receipt(
    request: Request, rt: Runtime = Depends(runtime), disp: Dispatcher = Depends(dispatcher)
) -> Response:
    """Send the consent record to the person's own address."""
    _, subject_id = await _signed_in_form(request)
    if subject_id is None:
        return _signed_out(request)
    try:
        with unit_of_work(rt.sessions) as session:
            person = service.person_for_session(session, subject_id)
            receipts.email_receipt(
                session,
                rt.settings,
                person,
                client=client_address(request),
                language=language_of(request),
            )
    except RateLimitedError as exc:
        request.session[NOTICE] = exc.detail
        return RedirectResponse("/preferences/manage", status_code=303)
    disp.mail_queued()
    request.session[NOTICE] = N_("We have e-mailed you a record of your choices.")
    return RedirectResponse("/preferences/manage", status_code=303)


@router.post("/preferences/sign-out")
async def sign_out(request: Request) -> Response:
    """Forget the person in this browser."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    for key in (SUBJECT, UNTIL, VIA, SAVED, NOTICE):
        request.session.pop(key, None)
    return _start_page(request, notice=N_("You have signed out. Your choices are saved."))


# Checking a receipt, the published keys and an event's proof (receipt_verify.py) are served
# with the preference center, where receipts are given out.
router.include_router(receipt_router)
