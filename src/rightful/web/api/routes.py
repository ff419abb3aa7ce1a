"""REST API v1: bearer tokens, JSON in and out, problem+json errors."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from rightful.core.db import single_reads, unit_of_work
from rightful.core.errors import NotAllowedError, NotFoundError, VerificationError
from rightful.core.runtime import Runtime
from rightful.inventory import service as inventory
from rightful.inventory.schemas import ApplySummary
from rightful.messaging.service import list_outbox, staff_view
from rightful.rights import flows, partners, service
from rightful.rights.correction import plan_correction
from rightful.rights.erasure import preview
from rightful.rights.erasure_run import suppressed
from rightful.rights.execution import package_vault
from rightful.rights.models import RightsRequest
from rightful.rights.package import load
from rightful.rights.retention_schedule import preview_retention
from rightful.rights.schemas import RequestIn, RequestOut
from rightful.rights.types import Status
from rightful.security.service import access_token_owner
from rightful.web.deps import dispatcher, runtime
from rightful.worker.dispatch import Dispatcher

_bearer = HTTPBearer(auto_error=False)


def api_actor(
    creds: HTTPAuthorizationCredentials | None = Depends(_bearer), rt: Runtime = Depends(runtime)
) -> str:
    """The e-mail of the staff member whose token signed the call."""
    if creds is None:
        raise NotAllowedError("Send an API token as 'Authorization: Bearer rf_...'.")
    with single_reads(rt.sessions) as session:  # one statement, on every API call
        return access_token_owner(session, token=creds.credentials).email


router = APIRouter(prefix="/api/v1", dependencies=[Depends(api_actor)])


class Reason(BaseModel):
    """Why staff deny or extend."""

    reason: str = Field(min_length=10, max_length=2000)


class Waiver(BaseModel):
    """Why a partner's confirmation cannot be had: for the record, and for the person."""

    reason: str = Field(
        min_length=10, max_length=2000, description="Staff's note; kept in the record only."
    )
    explanation: str = Field(
        min_length=10,
        max_length=2000,
        description="What the person is told in their completion e-mail.",
    )


class Code(BaseModel):
    """The code the consumer received."""

    code: str = Field(pattern=r"^\d{6}$")


class DataMapFile(BaseModel):
    """One data-map YAML file."""

    name: str = Field(max_length=200)
    content: str


def out(rt: Runtime, req: RightsRequest, *, with_identities: bool = False) -> RequestOut:
    """The API view of a request."""
    return RequestOut(
        id=req.id,
        reference=req.reference,
        request_type=req.request_type,
        status=req.status,
        channel=req.channel,
        jurisdiction=req.jurisdiction,
        received_at=req.received_at.isoformat(),
        acknowledge_due=req.acknowledge_due.isoformat(),
        respond_due=req.respond_due.isoformat(),
        extended=bool(req.extension_reason),
        verification_level=req.verification_level,
        required_level=req.required_level,
        denial_reason=req.denial_reason,
        identities=service.identities_of(rt.settings, req) if with_identities else None,
    )


@router.post("/rights-requests", status_code=201, response_model=RequestOut)
def create(
    data: RequestIn,
    request: Request,
    rt: Runtime = Depends(runtime),
    actor: str = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Submit a request on a consumer's behalf (e.g. from the company's own site)."""
    if "channel" not in data.model_fields_set:
        data = data.model_copy(update={"channel": "api"})
    with unit_of_work(rt.sessions) as session:
        req = flows.submit(session, rt.settings, data, client=None, actor=f"api:{actor}")
        result = out(rt, req)
    disp.mail_queued()
    if result.status == Status.EXECUTING.value:
        disp.request_ready(result.id)
    return result


@router.get("/rights-requests", response_model=list[RequestOut])
def list_all(status: str | None = None, rt: Runtime = Depends(runtime)) -> list[RequestOut]:
    """Requests, open ones first (soonest due first among them), then closed ones."""
    with unit_of_work(rt.sessions) as session:
        return [out(rt, r) for r in service.list_requests(session, status=status)]


@router.get("/rights-requests/{request_id}", response_model=RequestOut)
def show(request_id: str, rt: Runtime = Depends(runtime)) -> RequestOut:
    """One request, with its identities (staff only)."""
    with unit_of_work(rt.sessions) as session:
        return out(rt, service.access_request(session, request_id), with_identities=True)


@router.post("/rights-requests/{request_id}/verify", response_model=RequestOut)
def verify(
    request_id: str,
    body: Code,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Pass on the code a consumer gave the company's own site."""
    with unit_of_work(rt.sessions) as session:
        outcome = flows.verify(session, rt.settings, request_id=request_id, code=body.code)
        result = out(rt, outcome.request)
    if outcome.error:
        raise VerificationError(outcome.error)
    disp.mail_queued()
    if result.status == Status.EXECUTING.value:
        disp.request_ready(result.id)
    return result


def _act(rt: Runtime, disp: Dispatcher, fn: Any, **kwargs: Any) -> RequestOut:
    with unit_of_work(rt.sessions) as session:
        result = out(rt, fn(session, rt.settings, **kwargs))
    disp.mail_queued()
    if result.status == Status.EXECUTING.value:
        disp.request_ready(result.id)
    return result


@router.post("/rights-requests/{request_id}/approve", response_model=RequestOut)
def approve(
    request_id: str,
    rt: Runtime = Depends(runtime),
    actor: str = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Approve; execution starts in the background."""
    return _act(rt, disp, service.approve_request, request_id=request_id, actor=actor)


@router.post("/rights-requests/{request_id}/deny", response_model=RequestOut)
def deny(
    request_id: str,
    body: Reason,
    rt: Runtime = Depends(runtime),
    actor: str = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Deny with a reason the consumer is sent."""
    return _act(
        rt, disp, service.deny_request, request_id=request_id, actor=actor, reason=body.reason
    )


@router.post("/rights-requests/{request_id}/extend", response_model=RequestOut)
def extend(
    request_id: str,
    body: Reason,
    rt: Runtime = Depends(runtime),
    actor: str = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Use the one 45-day extension, with notice and reason."""
    return _act(
        rt, disp, service.extend_request, request_id=request_id, actor=actor, reason=body.reason
    )


class Note(BaseModel):
    """What staff did, told to the consumer."""

    note: str = Field(min_length=10, max_length=2000)


@router.post("/rights-requests/{request_id}/complete", response_model=RequestOut)
def complete(
    request_id: str,
    body: Note,
    rt: Runtime = Depends(runtime),
    actor: str = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Record that staff carried out a request type Rightful does not automate yet."""
    return _act(
        rt, disp, service.complete_manually, request_id=request_id, actor=actor, note=body.note
    )


@router.post(
    "/rights-requests/{request_id}/partners/{partner_key}/waive", response_model=RequestOut
)
def waive_partner(
    request_id: str,
    partner_key: str,
    body: Waiver,
    rt: Runtime = Depends(runtime),
    actor: str = Depends(api_actor),
) -> RequestOut:
    """Record why a partner's confirmation cannot be had; the request can then complete."""
    with unit_of_work(rt.sessions) as session:
        partners.waive(
            session,
            request_id=request_id,
            partner_key=partner_key,
            actor=actor,
            reason=body.reason,
            explanation=body.explanation,
        )
        return out(rt, service.access_request(session, request_id))


@router.get("/rights-requests/{request_id}/correction-preview")
def correction_preview(request_id: str, rt: Runtime = Depends(runtime)) -> list[dict[str, Any]]:
    """Each field the correction would change, from its current value to the corrected one."""
    with unit_of_work(rt.sessions) as session:
        return [asdict(c) for c in plan_correction(session, rt.settings, request_id=request_id)]


class Addresses(BaseModel):
    """E-mail addresses to check against the suppression list."""

    emails: list[str] = Field(max_length=10_000)


@router.post("/suppressions/check")
def suppression_check(body: Addresses, rt: Runtime = Depends(runtime)) -> dict[str, list[str]]:
    """Which addresses were erased: check an import or a restored backup before loading it."""
    with unit_of_work(rt.sessions) as session:
        return {"suppressed": suppressed(session, rt.settings, body.emails)}


@router.get("/retention/preview")
def retention_preview(rt: Runtime = Depends(runtime)) -> list[dict[str, Any]]:
    """What the retention schedule would destroy or mask now, per collection."""
    with unit_of_work(rt.sessions) as session:
        return [asdict(c) for c in preview_retention(session, rt.settings)]


@router.get("/rights-requests/{request_id}/erasure-preview")
def erasure_preview(request_id: str, rt: Runtime = Depends(runtime)) -> list[dict[str, Any]]:
    """What a deletion would do per system and collection, before anything changes."""
    with unit_of_work(rt.sessions) as session:
        return [asdict(p) for p in preview(session, rt.settings, request_id=request_id)]


@router.get("/rights-requests/{request_id}/package")
def package(request_id: str, rt: Runtime = Depends(runtime)) -> Response:
    """The zipped package of a completed request."""
    with unit_of_work(rt.sessions) as session:
        req = service.access_request(session, request_id)
        if not req.package_file:
            raise NotFoundError("This request has no package (yet).")
        data = load(package_vault(rt.settings), rt.settings.package_dir, req.package_file)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{req.reference}.zip"'},
    )


@router.get("/inventory")
def inventory_show(rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    """The data map (no secrets)."""
    with unit_of_work(rt.sessions) as session:
        return inventory.summary(session)


@router.post("/inventory", response_model=ApplySummary)
def inventory_apply(
    files: list[DataMapFile] = Body(...),
    strict: bool = Query(False, description="Refuse datasets that break a card or password rule"),
    rt: Runtime = Depends(runtime),
    actor: str = Depends(api_actor),
) -> ApplySummary:
    """Apply data-map files: all valid and saved, or nothing saved and every problem named."""
    with unit_of_work(rt.sessions) as session:
        return inventory.apply_files(
            session,
            files=[(f.name, f.content) for f in files],
            actor=actor,
            strict=strict,
            http_webhooks=rt.settings.http_webhooks_allowed,
        )


@router.get("/inventory/export", response_class=PlainTextResponse)
def inventory_export(rt: Runtime = Depends(runtime)) -> str:
    """The data map as fideslang YAML."""
    with unit_of_work(rt.sessions) as session:
        return inventory.export_yaml(session)


@router.get("/outbox")
def outbox(rt: Runtime = Depends(runtime)) -> list[dict[str, Any]]:
    """Every e-mail sent or recorded, newest first."""
    with unit_of_work(rt.sessions) as session:
        return [staff_view(rt.settings, m).__dict__ for m in list_outbox(session)]
