"""REST API v1: bearer tokens, JSON in and out, problem+json errors."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import Body, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import object_session
from starlette.concurrency import run_in_threadpool

from rightful.core.db import single_reads, unit_of_work
from rightful.core.errors import NotAllowedError, VerificationError
from rightful.core.runtime import Runtime
from rightful.inventory import service as inventory
from rightful.inventory.schemas import ApplySummary
from rightful.messaging import staff as outbox_desk
from rightful.notices import service as notices
from rightful.rights import due as clocks
from rightful.rights import intake, partners, service, transfers
from rightful.rights import staff as desk
from rightful.rights.erasure import preview
from rightful.rights.kinds import transfer_types
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn, RequestOut
from rightful.rights.types import Status
from rightful.security.api_tokens import held_actor, token_actor
from rightful.security.permissions import Actor
from rightful.security.vault import Vault
from rightful.web.deps import dispatcher, runtime
from rightful.web.params import RowId
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

_bearer = HTTPBearer(auto_error=False)


async def api_actor(
    creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
    rt: Runtime = Depends(runtime),
) -> Actor:
    """Who signed the call: the token owner's role, narrowed to the token's scopes. A token
    this process holds (`held_actor`: checked within the token cache's bound, its last use
    noted) is answered on the event loop; only the others go to a thread, for the store."""
    if creds is None:
        raise NotAllowedError("Send an API token as 'Authorization: Bearer rf_...'.")
    held = held_actor(creds.credentials) if rt.settings.api_token_cache_seconds else None
    if held is not None:
        return held
    return await run_in_threadpool(_stored_actor, rt, creds.credentials)


def _stored_actor(rt: Runtime, token: str) -> Actor:
    with single_reads(rt.sessions) as session:  # one statement, at most every few seconds
        return token_actor(session, token=token, cache_seconds=rt.settings.api_token_cache_seconds)


router = DeferredRouter(prefix="/api/v1", dependencies=[Depends(api_actor)])


class Reason(BaseModel):
    """Why staff deny or extend."""

    reason: str = Field(min_length=10, max_length=2000)


class Denial(Reason):
    """Why staff deny: the reason the consumer is sent, and the grounds the yearly request
    figures count it under (default: other grounds)."""

    basis: Literal["other", "exempt", "not_by_consumer", "not_verifiable"] | None = Field(
        default=None,
        description="exempt: an exception applies; not_by_consumer: not made by the consumer "
        "or someone allowed to act for them; not_verifiable: identity not verified; other.",
    )


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


def out(rt: Runtime, req: RightsRequest, identities: dict[str, str] | None = None) -> RequestOut:
    """The API view of a request; identities only when the caller read them (rights/staff)."""
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
        requester_role=req.requester_role,
        consumer_confirmation=req.consumer_confirmation,
        identity_method=req.identity_method,
        identity_checked_by=req.identity_checked_by,
        identities=identities,
        # Only a kind that sends copies on can have a transfer: others skip the read.
        transfer=transfers.transfer_out(
            session, rt.settings, req.id, personal=identities is not None
        )
        if req.request_type in transfer_types() and (session := object_session(req))
        else None,
    )


@router.post("/rights-requests", status_code=201, response_model=RequestOut)
def create(
    data: RequestIn,
    request: Request,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Submit a request on a consumer's behalf (e.g. from the company's own site), or one staff
    took by letter or phone: `received_at` (the day it came in: the clocks run from it) and
    `identity_method` (how staff checked who the person is)."""
    if "channel" not in data.model_fields_set:
        data = data.model_copy(update={"channel": "api"})
    with unit_of_work(rt.sessions) as session:
        req = intake.record(session, rt.settings, data, actor=actor, via="api")
        result = out(rt, req)
    disp.mail_queued()
    if result.status == Status.EXECUTING.value:
        disp.request_ready(result.id)
    return result


@router.get("/rights-requests", response_model=list[RequestOut])
def list_all(
    status: str | None = None,
    due: Literal["soon", "overdue", "due"] | None = Query(
        default=None,
        description="Only requests with a clock (acknowledgement, response, appeal decision) "
        "overdue, due within RIGHTFUL_DUE_DIGEST_DAYS days (soon), or either (due): the "
        "console's Deadlines filter.",
    ),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> list[RequestOut]:
    """Requests, open ones first (soonest due first among them), then closed ones."""
    with unit_of_work(rt.sessions) as session:
        rows = desk.list_requests(session, actor=actor, status=status)
        if due is not None:
            rows = clocks.due_filtered(session, rt.settings, actor=actor, requests=rows, which=due)
        return [out(rt, r) for r in rows]


@router.get("/rights-requests/{request_id}", response_model=RequestOut)
def show(
    request_id: str, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> RequestOut:
    """One request with its identities (needs requests.read_personal; each read is audited)."""
    with unit_of_work(rt.sessions) as session:
        req = desk.view_request(session, actor=actor, request_id=request_id)
        return out(rt, req, desk.read_identities(session, rt.settings, actor=actor, req=req))


@router.post("/rights-requests/{request_id}/verify", response_model=RequestOut)
def verify(
    request_id: str,
    body: Code,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Pass on the code a consumer gave the company's own site."""
    with unit_of_work(rt.sessions) as session:
        outcome = desk.verify(
            session, rt.settings, actor=actor, request_id=request_id, code=body.code
        )
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
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Approve; execution starts in the background."""
    return _act(rt, disp, service.approve_request, request_id=request_id, actor=actor)


@router.post("/rights-requests/{request_id}/deny", response_model=RequestOut)
def deny(
    request_id: str,
    body: Denial,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Deny with a reason the consumer is sent, and the grounds the figures count."""
    return _act(
        rt,
        disp,
        service.deny_request,
        request_id=request_id,
        actor=actor,
        reason=body.reason,
        basis=body.basis,
    )


@router.post("/rights-requests/{request_id}/extend", response_model=RequestOut)
def extend(
    request_id: str,
    body: Reason,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> RequestOut:
    """Use the one extension the request's law allows (45 days in most US states, two more
    months under the GDPR), with notice and reason; refused where the law allows none."""
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
    actor: Actor = Depends(api_actor),
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
    actor: Actor = Depends(api_actor),
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
def correction_preview(
    request_id: str, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> list[dict[str, Any]]:
    """Each field the correction would change, from its current value to the corrected one."""
    with unit_of_work(rt.sessions) as session:
        changes = desk.review_correction(session, rt.settings, actor=actor, request_id=request_id)
        return [asdict(c) for c in changes]


class Addresses(BaseModel):
    """E-mail addresses to check against the suppression list."""

    emails: list[str] = Field(max_length=10_000)


@router.post("/suppressions/check")
def suppression_check(
    body: Addresses, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, list[str]]:
    """Which addresses were erased: check an import or a restored backup before loading it."""
    with unit_of_work(rt.sessions) as session:
        return {
            "suppressed": desk.erased_addresses(
                session, rt.settings, actor=actor, emails=body.emails
            )
        }


@router.get("/retention/preview")
def retention_preview(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> list[dict[str, Any]]:
    """What the retention schedule would destroy or mask now, per collection."""
    with unit_of_work(rt.sessions) as session:
        return [asdict(c) for c in desk.retention_preview(session, rt.settings, actor=actor)]


@router.get("/rights-requests/{request_id}/erasure-preview")
def erasure_preview(
    request_id: str, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> list[dict[str, Any]]:
    """What a deletion would do per system and collection, before anything changes."""
    with unit_of_work(rt.sessions) as session:
        rows = preview(session, rt.settings, request_id=request_id, actor=actor)
        return [asdict(p) for p in rows]


@router.get("/rights-requests/{request_id}/package")
def package(
    request_id: str, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> Response:
    """The zipped package of a completed request (each download is audited)."""
    with unit_of_work(rt.sessions) as session:
        reference, data = desk.read_package(
            session, rt.settings, actor=actor, request_id=request_id
        )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{reference}.zip"'},
    )


@router.get("/inventory")
def inventory_show(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """The data map (no secrets)."""
    with unit_of_work(rt.sessions) as session:
        return inventory.summary(session, actor=actor)


@router.post("/inventory", response_model=ApplySummary)
def inventory_apply(
    files: list[DataMapFile] = Body(...),
    strict: bool = Query(False, description="Refuse datasets that break a card or password rule"),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> ApplySummary:
    """Apply data-map files: all valid and saved, or nothing saved and every problem named."""
    with unit_of_work(rt.sessions) as session:
        summary = inventory.apply_files(
            session,
            files=[(f.name, f.content) for f in files],
            actor=actor,
            strict=strict,
            http_webhooks=rt.settings.http_webhooks_allowed,
        )
        summary.notice_warnings = notices.drift(session, rt.settings)
        return summary


@router.get("/inventory/export", response_class=PlainTextResponse)
def inventory_export(rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)) -> str:
    """The data map as fideslang YAML."""
    with unit_of_work(rt.sessions) as session:
        return inventory.export_yaml(session, actor=actor)


class ConnectionIn(BaseModel):
    """A system's connection: a connector kind and its settings (sealed, never shown back)."""

    kind: str = Field(default="sql", examples=["sql", "http"])
    settings: dict[str, Any] = Field(
        default_factory=dict, examples=[{"shipped": "stripe", "params": {"api_key": "sk_..."}}]
    )


@router.put("/systems/{system_key}/connection", status_code=204)
def connection_set(
    system_key: str,
    body: ConnectionIn,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> Response:
    """Store a system's connection, encrypted; its settings are checked by its kind first."""
    with unit_of_work(rt.sessions) as session:
        inventory.set_connection(
            session,
            Vault(rt.settings, "connections"),
            system_key=system_key,
            kind=body.kind,
            settings=body.settings,
            actor=actor,
        )
    return Response(status_code=204)


@router.post("/systems/{system_key}/connection/test", status_code=204)
def connection_test(
    system_key: str, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> Response:
    """Check that Rightful reaches the system (a 502 problem names what failed)."""
    with unit_of_work(rt.sessions) as session:
        desk.check_connection(session, rt.settings, actor=actor, system=system_key)
    return Response(status_code=204)


@router.get("/outbox")
def outbox(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> list[dict[str, Any]]:
    """Every e-mail sent or recorded, newest first (each read is audited)."""
    with unit_of_work(rt.sessions) as session:
        letters = outbox_desk.outbox_letters(session, rt.settings, actor=actor)
        return [letter.__dict__ for letter in letters]


@router.post("/outbox/{message_id}/resend", status_code=202)
def outbox_resend(
    message_id: RowId,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> dict[str, Any]:
    """Queue a failed or waiting e-mail again; 409 if it was delivered (never sent twice)."""
    with unit_of_work(rt.sessions) as session:
        msg = outbox_desk.resend(session, rt.settings, actor=actor, message_id=message_id)
        result = {"id": msg.id, "status": msg.status, "attempts": msg.attempts}
    disp.mail_queued()
    return result
