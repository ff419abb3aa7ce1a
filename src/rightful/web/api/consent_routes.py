"""REST API v1 for consent: state, checks, history, recording, suppression, unsubscribe headers.

Subjects are named in request bodies (e-mail, device id or pseudonymous subject id), never in
URLs, so addresses stay out of access logs.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Any, Literal

from anyio import from_thread
from fastapi import Depends, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, model_validator
from starlette.concurrency import run_in_threadpool

from rightful.consent import catalog, event_groups, ledger, suppression
from rightful.consent import staff as desk
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentEvent
from rightful.core.db import single_reads, unit_of_work
from rightful.core.errors import InvalidInputError
from rightful.core.runtime import Runtime
from rightful.security.permissions import Actor
from rightful.web import event_groups as grouped
from rightful.web.api.routes import api_actor
from rightful.web.deps import runtime
from rightful.web.params import RowId
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/api/v1", dependencies=[Depends(api_actor)], tags=["consent"])


class SubjectRef(BaseModel):
    """Exactly one of: an e-mail address, a phone number (for texts), a device id (from
    consent.js), a subject id."""

    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    device_id: str | None = Field(default=None, max_length=64)
    subject_id: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _exactly_one(self) -> SubjectRef:
        if sum(bool(v) for v in (self.email, self.phone, self.device_id, self.subject_id)) != 1:
            raise ValueError(
                "Name the subject by exactly one of email, phone, device_id or subject_id."
            )
        return self


class CheckIn(SubjectRef):
    """Whether a purpose may be used on a channel."""

    purpose: str = Field(max_length=80)
    channel: str = Field(max_length=20)


class ChoiceIn(BaseModel):
    """One choice."""

    purpose: str = Field(max_length=80)
    channel: str = Field(max_length=20)
    state: State


class EventsIn(SubjectRef):
    """Choices a company system (or staff, on the consumer's behalf) records."""

    choices: list[ChoiceIn] = Field(min_length=1, max_length=100)
    interface: Literal["api", "staff"] = "api"
    jurisdiction: str | None = Field(default=None, max_length=10)
    notice_version: str | None = Field(default=None, max_length=40)
    proof: dict[str, str] = Field(default_factory=dict, max_length=20)


class HeadersIn(BaseModel):
    """The recipient and topic of a marketing e-mail."""

    email: str = Field(max_length=254)
    topic: str = Field(max_length=80)


class BulkIn(BaseModel):
    """Addresses, or SHA-256 digests of normalised (trimmed, lower-cased) addresses."""

    emails: list[str] | None = Field(default=None, max_length=100_000)
    sha256: list[str] | None = None
    topic: str | None = Field(default=None, max_length=80)

    @model_validator(mode="after")
    def _one_list(self) -> BulkIn:
        if (self.emails is None) == (self.sha256 is None):
            raise ValueError("Send either `emails` or `sha256`.")
        return self


class MarketingIn(BaseModel):
    """A marketing e-mail Rightful checks, stamps with unsubscribe headers and sends."""

    to: str = Field(max_length=254)
    topic: str = Field(max_length=80)
    subject: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=100_000)
    html: str = Field(default="", max_length=200_000)


def event_out(e: ConsentEvent) -> dict[str, Any]:
    """An event as the API shows it."""
    return {
        "id": e.uid,
        "subject_id": e.subject_id,
        "purpose": e.purpose,
        "channel": e.channel,
        "state": e.state,
        "interface": e.interface,
        "notice_version": e.notice_version,
        "jurisdiction": e.jurisdiction,
        "proof": e.proof,
        "actor": e.actor,
        "at": e.at.isoformat(),
        "position": e.position,  # None until the sequencer has put it in the signed log
    }


@router.get("/consent/purposes")
def purposes(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> list[dict[str, Any]]:
    """Everything that can be consented to, in display order."""
    with unit_of_work(rt.sessions) as session:
        translations = desk.purpose_translations(session, actor=actor)
        return [
            {
                "key": p.key,
                "kind": p.kind,
                "title": p.title,
                "description": p.description,
                "channels": p.channels,
                "default": p.default,
                "data_use": p.data_use,
                "translations": translations.get(p.key, {}),
            }
            for p in desk.purposes(session, actor=actor)
        ]


@router.put("/consent/purposes")
def apply_purposes(
    body: catalog.CatalogFile, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> list[dict[str, Any]]:
    """Add or update purposes (built-in ones always stay; none is ever deleted), and the
    banner's texts when the body has `banner`."""
    with unit_of_work(rt.sessions) as session:
        desk.apply_catalog(session, actor=actor, parsed=body)
    return purposes(rt, actor)


@router.get("/consent/banner")
def banner_texts(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """The catalogue's `banner:` section: the banner texts in the company's own words."""
    with unit_of_work(rt.sessions) as session:
        return {"texts": desk.banner_texts(session, actor=actor)}


@router.post("/consent/state")
def consent_state(
    body: SubjectRef, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Every purpose and channel for a subject: their choice, or the default (audited)."""
    with unit_of_work(rt.sessions) as session:
        found = desk.find(session, rt.settings, actor=actor, **body.model_dump())
        return {
            "subject_id": found.subject.id if found.subject else None,
            "states": [
                {
                    "purpose": c.purpose,
                    "channel": c.channel,
                    "state": c.state,
                    "explicit": c.explicit,
                    "since": c.since.isoformat() if c.since else None,
                    "event_uid": c.event_uid,
                }
                for c in found.states
            ],
        }


@router.post("/consent/check")
def consent_check(
    body: CheckIn, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """May this purpose be used on this channel for this subject? Creates nothing."""
    with single_reads(rt.sessions) as session:  # one statement, as a rule
        decision = desk.check(
            session,
            rt.settings,
            actor=actor,
            purpose=body.purpose,
            channel=body.channel,
            email=body.email,
            device_id=body.device_id,
            subject_id=body.subject_id,
            phone=body.phone,
        )
    return decision.__dict__


@router.post("/consent/history")
def consent_history(
    body: SubjectRef, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """A subject's choices as they were made, newest first (audited)."""
    with unit_of_work(rt.sessions) as session:
        found = desk.find(session, rt.settings, actor=actor, **body.model_dump())
        subject_id = found.subject.id if found.subject else None
        return {"subject_id": subject_id, "events": map_events(found.events)}


def map_events(events: list[ConsentEvent]) -> list[dict[str, Any]]:
    """Events as the API shows them."""
    return [event_out(e) for e in events]


@router.post("/consent/events", status_code=201)
async def record_events(
    request: Request,
    body: EventsIn,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> dict[str, Any]:
    """Record choices made elsewhere (a sign-up form, a call centre). Unchanged ones are skipped."""
    record = event_groups.ApiRecord(
        actor=actor,
        subject=body.model_dump(include={"email", "phone", "device_id", "subject_id"}),
        choices=[ledger.Choice(c.purpose, c.channel, c.state) for c in body.choices],
        collected=ledger.Collected(
            interface=Interface(body.interface),
            jurisdiction=body.jurisdiction,
            notice_version=body.notice_version,
            proof=body.proof,
            actor=actor.name,
        ),
    )
    # Answered after the commit of the group the request was written in (group_commit.py).
    subject, events = await grouped.api(request, rt).submit(record)
    return {"subject_id": subject.id, "events": map_events(events)}


@router.get("/consent/verify")
def verify_ledger(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Whether the log holds against its signed tree heads: the first problem (edited,
    reordered, deleted, inserted, missing_at_end, head_mismatch, bad_signature; unlinked or
    unrecorded in the chain kept from before the tree) and where (position and event)."""
    with unit_of_work(rt.sessions) as session:
        verdict = desk.verify_ledger(session, rt.settings, actor=actor)
    return {**verdict.as_dict(), "first_broken_event": verdict.broken_at}


@router.post("/consent/unsubscribe-headers")
def unsubscribe_headers(
    body: HeadersIn, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers to put on one marketing e-mail."""
    with unit_of_work(rt.sessions) as session:
        return desk.unsubscribe_headers(
            session, rt.settings, actor=actor, email=body.email, topic=body.topic
        )


@router.post("/marketing/messages", status_code=202)
def send_marketing(
    body: MarketingIn, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Send a marketing e-mail if the person may get it; it carries one-click unsubscribe."""
    with unit_of_work(rt.sessions) as session:
        msg = desk.send_marketing(session, rt.settings, actor=actor, **body.model_dump())
    if msg is None:
        return {"status": "suppressed", "message_id": None}
    return {"status": msg.status, "message_id": msg.id}


def _bulk_json(session: Any, rt: Runtime, actor: Actor, body: BulkIn) -> dict[str, Any]:
    if body.emails is not None:
        hits = desk.suppressed_addresses(
            session, rt.settings, actor=actor, emails=body.emails, topic=body.topic
        )
        return {"checked": len(body.emails), "suppressed": hits}
    digests = suppression.parse_hashes(body.sha256 or [])
    found = desk.suppressed_hashes(session, actor=actor, digests=digests, topic=body.topic)
    return {"checked": len(digests), "suppressed": [d for d in digests if d in found]}


@router.post("/suppressions/bulk", response_model=None)
async def bulk_check(
    request: Request,
    topic: str | None = None,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> dict[str, Any] | Response:
    """Which of these may not be sent marketing. JSON (`emails` or `sha256`, up to 100,000) or
    text/plain with one SHA-256 digest per line (any number; answers the suppressed lines)."""
    # The check itself blocks on the database: off the event loop, so other calls go on.
    if request.headers.get("content-type", "").startswith("text/plain"):
        return await run_in_threadpool(_bulk_text, rt, actor, request.stream(), topic)
    return await run_in_threadpool(_bulk, rt, actor, await request.body())


HANDOFF_BYTES = 1 << 20  # body taken a hand-off: a few dozen socket reads, still streamed


def _chunks(body: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The body as it arrives, pulled from the event loop by the worker thread about a
    megabyte a hand-off (each costs a thread switch both ways, so not one a socket read): a
    million-line list is never held whole."""
    while received := from_thread.run(_next_chunks, body):
        yield from received


async def _next_chunks(body: AsyncIterator[bytes]) -> list[bytes]:
    """The next chunks of the body, about `HANDOFF_BYTES` together; none at its end."""
    received: list[bytes] = []
    size = 0
    async for chunk in body:
        if chunk:
            received.append(chunk)
            size += len(chunk)
            if size >= HANDOFF_BYTES:
                break
    return received


def _bulk_text(
    rt: Runtime, actor: Actor, body: AsyncIterator[bytes], topic: str | None
) -> Response:
    # The answer (up to the whole list, when all of it is suppressed) waits in a spool that
    # goes to disk past a megabyte, so the transaction ends before the answer is sent.
    found = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed once sent, or on error
        max_size=1_000_000, mode="w+", encoding="ascii"
    )
    try:
        with unit_of_work(rt.sessions) as session:
            checked = desk.suppressed_lines(
                session, actor=actor, chunks=_chunks(body), out=found, topic=topic
            )
    except BaseException:
        found.close()
        raise
    found.seek(0)

    def chunks() -> Iterator[str]:
        with found:
            while block := found.read(256_000):
                yield block

    return StreamingResponse(chunks(), media_type="text/plain", headers={"X-Checked": str(checked)})


def _bulk(rt: Runtime, actor: Actor, raw: bytes) -> dict[str, Any]:
    try:
        body = BulkIn.model_validate_json(raw)
    except ValueError as exc:
        raise InvalidInputError(
            "Send JSON with `emails` or `sha256` (a list), or text/plain digests one per line.",
            errors=[{"field": "body", "message": str(exc).splitlines()[0][:200]}],
        ) from exc
    with unit_of_work(rt.sessions) as session:
        return _bulk_json(session, rt, actor, body)


@router.get("/suppressions/export")
def export_suppressions(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> StreamingResponse:
    """The whole list as CSV: email_sha256, topic (`*` = all marketing), reason, since."""
    with unit_of_work(rt.sessions) as session:
        desk.export_suppressions(session, actor=actor)  # refused here, before the stream starts

    def rows() -> Iterator[str]:
        with unit_of_work(rt.sessions) as session:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["email_sha256", "topic", "reason", "since"])
            for entry in desk.export_suppressions(session, actor=actor):
                writer.writerow([entry.email_sha256, entry.topic, entry.reason, entry.since])
                if out.tell() > 64_000:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
            yield out.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="suppressions.csv"'},
    )


@router.get("/consent/destinations")
def consent_destinations(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> list[dict[str, Any]]:
    """The systems told of every change (webhook URLs and store targets; no secrets)."""
    with unit_of_work(rt.sessions) as session:
        return [
            {
                "key": d.key,
                "name": d.name,
                "kind": d.kind,
                "url": d.url,
                "purposes": d.purposes,
                "target": d.target,
                "active": d.active,
            }
            for d in desk.list_destinations(session, actor=actor)
        ]


@router.get("/consent/deliveries")
def consent_deliveries(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Propagation at a glance: per destination by status, and the late and overdue ones."""
    with unit_of_work(rt.sessions) as session:
        return asdict(desk.delivery_summary(session, actor=actor))


@router.post("/consent/deliveries/{delivery_id}/retry", status_code=202)
def retry_delivery(
    delivery_id: RowId, rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Send a failed or overdue delivery again now."""
    with unit_of_work(rt.sessions) as session:
        delivery = desk.redeliver(session, actor=actor, delivery_id=delivery_id)
        return {"id": delivery.id, "status": delivery.status}
