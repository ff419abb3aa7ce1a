"""The public privacy center: ask, verify, follow and download. Works without JavaScript."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from rightful import laws
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.errors import (
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    VerificationError,
)
from rightful.core.i18n import N_
from rightful.core.runtime import Runtime
from rightful.identity import service as codes
from rightful.identity.points import DATA_POINTS, configured_points
from rightful.rights import agents, appeal_terms, appeals, flows, partners, service, transfers
from rightful.rights.correction_values import CORRECTABLE
from rightful.rights.intake import Upload
from rightful.rights.kinds import kind_of, labels
from rightful.rights.package import load
from rightful.rights.packaging import download_url, package_vault
from rightful.rights.schemas import RequestIn
from rightful.rights.types import STATUS_LABELS, Status
from rightful.rights.withdrawal import withdrawable
from rightful.web.deps import check_csrf, client_address, dispatcher, runtime
from rightful.web.i18n import language_of
from rightful.web.pages import render
from rightful.web.privacy_center import signing
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()
ATTENTION = N_("Some details need attention.")
FORM_FIELDS = (
    "request_type",
    "email",
    "phone_number",
    "name",
    "postal_code",
    "jurisdiction",
    "date_range",
    "agent_name",
    "requester_role",
    "requester_name",
    "requester_email",
    "declaration_signature",
    "correction_item",
    "correction_value",
    "correction_evidence",
    "transfer_to",
    "transfer_recipient",
)


def _form_page(
    request: Request,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    summary: str = "",
) -> Response:
    return render(
        request,
        "privacy_center/request_form.html",
        http_status=status,
        values=values,
        errors=errors,
        summary=summary,
        types=labels(),
        points=configured_points(request.app.state.runtime.settings),
        states=laws.choices(),
        correctables=CORRECTABLE,
        **signing.page_context(request, values),
        parent_evidence=request.app.state.runtime.settings.parent_evidence,
    )


@router.get("/")
def home(request: Request) -> Response:
    """What you can ask for, in plain words."""
    return render(request, "privacy_center/home.html", types=labels())


@router.get("/requests/new")
def new_request(request: Request, type: str = "") -> Response:
    """The request form; a link from the home page chooses the type, otherwise the person does."""
    chosen = type if type in labels() else ""
    return _form_page(
        request,
        {
            "request_type": chosen,
            "jurisdiction": signing.DEFAULT_STATE,
            "date_range": "last_12_months",
        },
        {},
    )


@router.post("/requests")
async def submit_request(
    request: Request, rt: Runtime = Depends(runtime), disp: Dispatcher = Depends(dispatcher)
) -> Response:
    """Take the form; on any problem show it again with every field's error."""
    form = await request.form()
    uploads = {k: await _upload(form, k) for k in UPLOADS}
    await form.close()  # the uploads are read: their spooled files go
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in FORM_FIELDS}
    values["by_agent"] = form.get("by_agent") == "yes"
    values["relation_attested"] = form.get("relation_attested") == "yes"
    check_csrf(request, str(form.get("csrf", "")))
    payload = {k: (v or None) for k, v in values.items() if k not in ("by_agent",)}
    payload["by_agent"] = values["by_agent"]
    if payload.get("requester_role") == "self":
        payload.pop("requester_role")  # so the older by_agent field still means an agent
    payload = {k: v for k, v in payload.items() if v is not None}
    payload["language"] = language_of(request)  # its e-mails are written in the page's language
    builtin = {p.key for p in DATA_POINTS}
    extras = [p.key for p in configured_points(rt.settings) if p.key not in builtin]
    values.update({k: str(form.get(k, "")).strip() for k in extras})
    payload["other_points"] = {k: values[k] for k in extras if values[k]}
    # Pages from before the text named the state showed California's declaration.
    shown = str(form.get("declaration_jurisdiction") or signing.DEFAULT_STATE)
    resign = signing.sign_again(rt.settings, shown, values, language_of(request))
    try:
        data = RequestIn.model_validate(payload)
        if resign:
            return _form_page(request, values, resign, 422, ATTENTION)
        with unit_of_work(rt.sessions) as session:
            req = agents.submit(
                session,
                rt.settings,
                data,
                uploads={k: v for k, v in uploads.items() if v is not None},
                client=client_address(request),
            )
            target = service.status_url(rt.settings, req.id).removeprefix(rt.settings.base_url)
            request_id, status = req.id, req.status
    except ValidationError as exc:
        errors = {str(e["loc"][0]): _plain(e) for e in exc.errors()} | resign
        return _form_page(request, values, errors, 422, ATTENTION)
    except InvalidInputError as exc:
        errors = {e["field"]: e["message"] for e in exc.errors}
        return _form_page(request, values, errors, 422, exc.detail)
    except RateLimitedError as exc:
        return _form_page(request, values, {}, 429, exc.detail)
    disp.mail_queued()
    if status == Status.EXECUTING.value:
        disp.request_ready(request_id)
    return RedirectResponse(target, status_code=303)


UPLOADS = ("agent_permission", "power_of_attorney", "parent_evidence")


async def _upload(form: FormData, name: str) -> Upload | None:
    """A file sent with the form (an agent's permission, a parent's evidence), if any."""
    item = form.get(name)
    if not isinstance(item, UploadFile) or not item.filename:
        return None
    return Upload(item.filename, item.content_type or "", await item.read())


def _plain(err: Any) -> str:
    field = str(err["loc"][0])
    if field == "request_type":
        return N_("Choose what you would like us to do.")
    if field == "email" and err["type"] == "missing":
        return N_("Enter your e-mail address.")
    if err["type"] == "string_too_long":
        return N_("Shorten this to %(n)s characters or fewer.", n=err["ctx"]["max_length"])
    return str(err["msg"]).removeprefix("Value error, ")


def _status_ctx(rt: Runtime, token: str) -> dict[str, Any]:
    request_id = service.status_signer(rt.settings).unsign(
        token, max_age_seconds=service.STATUS_LINK_SECONDS
    )
    with unit_of_work(rt.sessions) as session:
        req = service.access_request(session, request_id)
        ready = bool(req.package_file) and req.status == Status.COMPLETED.value
        verifying = req.status == Status.VERIFYING.value
        return {
            "req": req,
            # A locked or expired code gets no field, only a way to ask for a new one.
            "code_state": codes.code_state(session, rt.settings, request_id=req.id).value
            if verifying
            else None,
            "locked": codes.locked_message(rt.settings.code_max_attempts),
            "used_up": codes.used_up_message(rt.settings),
            "token": token,
            "type_label": kind_of(req.request_type).label,
            "status_label": STATUS_LABELS[Status(req.status)],
            "withdrawable": withdrawable(req),
            "appeal": appeals.appeal_of(session, req.id),  # its state, date and outcome
            "appeal_offer": appeal_terms.offer(rt.settings, req),
            "download": download_url(rt.settings, req.id).removeprefix(rt.settings.base_url)
            if ready
            else None,
            "transfer": transfers.view(session, rt.settings, req.id),  # to another organisation
        }


@router.get("/status/{token}")
def status_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Where a consumer follows their request (reached only by the signed link)."""
    return render(request, "privacy_center/status.html", **_status_ctx(rt, token), error=None)


def _check_code(rt: Runtime, request_id: str, code: str) -> tuple[str, str, str | None]:
    """Check a code (a wrong try is committed too); the request's id, status and any error."""
    with unit_of_work(rt.sessions) as session:
        outcome = flows.verify(session, rt.settings, request_id=request_id, code=code)
        return outcome.request.id, outcome.request.status, outcome.error


@router.post("/status/{token}/verify")
async def verify(
    request: Request,
    token: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Check the e-mailed code."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    ctx = _status_ctx(rt, token)
    code = str(form.get("code", "")).strip()
    try:
        if not (code.isdigit() and len(code) == 6):
            raise VerificationError(N_("Enter the 6-digit code from the e-mail."))
        # Off the event loop: the data-point check reads the systems, some over HTTP (the demo's
        # vendors are even served by this very process).
        request_id, status, error = await run_in_threadpool(_check_code, rt, ctx["req"].id, code)
        if error:
            raise VerificationError(error)
    except VerificationError as exc:
        # A wrong try is counted even though the page shows an error.
        return render(
            request, "privacy_center/status.html", 400, **_status_ctx(rt, token), error=exc.detail
        )
    disp.mail_queued()
    if status == Status.EXECUTING.value:
        disp.request_ready(request_id)
    return RedirectResponse(f"/status/{token}", status_code=303)


@router.post("/status/{token}/resend")
async def resend(
    request: Request,
    token: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Send a new code."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    ctx = _status_ctx(rt, token)
    try:
        with unit_of_work(rt.sessions) as session:
            sent = flows.resend_code(
                session, rt.settings, request_id=ctx["req"].id, client=client_address(request)
            )
    except RateLimitedError as exc:
        return render(request, "privacy_center/status.html", 429, **ctx, error=exc.detail)
    if not sent:  # closed meanwhile, or its codes ran out: the page says which
        return RedirectResponse(f"/status/{token}", status_code=303)
    disp.mail_queued()
    return render(
        request,
        "privacy_center/status.html",
        **_status_ctx(rt, token),  # read again: the new code unlocks the field
        error=None,
        notice=N_("We sent a new code. It replaces the one before."),
    )


@router.get("/download/{token}")
def download(token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The package, while the link is valid."""
    days = rt.settings.package_link_days
    request_id = service.package_signer(rt.settings).unsign(token, max_age_seconds=days * 86400)
    with unit_of_work(rt.sessions) as session:
        req = service.access_request(session, request_id)
        if not req.package_file or req.status != Status.COMPLETED.value:
            raise NotFoundError(N_("There is no package to download for this link."))
        if req.package_expires_at and req.package_expires_at < utcnow():
            raise VerificationError(N_("This download link has expired. Contact us for a new one."))
        data = load(package_vault(rt.settings), rt.settings.package_dir, req.package_file)
        name = f"{req.reference}-your-information.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/partners/ack/{token}")
def partner_ack_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The page a partner's link opens: one button to confirm the deletion."""
    partners.notice_from_token(rt.settings, token)  # a bad or old link gets the error page
    return render(request, "privacy_center/partner_ack.html", token=token, done=False)


@router.post("/partners/ack/{token}")
def partner_ack(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Confirm a deletion; the signed link itself is the permission, so no session is needed."""
    with unit_of_work(rt.sessions) as session:
        partners.acknowledge(session, rt.settings, token=token)
    if "application/json" in request.headers.get("accept", ""):
        return Response('{"status": "acknowledged"}', media_type="application/json")
    return render(request, "privacy_center/partner_ack.html", token=token, done=True)
