"""Anyone can check a consent receipt here, pasted or uploaded, without JavaScript; the public
keys it is checked against are published at a well-known address, and the proof of an event
that was still being added when its receipt was made can be fetched by the event's id.

The check uses the receipt's own content and the published keys only (consent/receipt_check.py):
nothing about the person is looked up, so the page says the same whoever asks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from rightful.consent import receipt_check, receipt_proofs, tree
from rightful.consent.log_entry import LOG_NAME
from rightful.core.db import unit_of_work
from rightful.core.i18n import N_, format_date
from rightful.core.runtime import Runtime
from rightful.security import signing_keys
from rightful.web.deps import check_csrf, runtime
from rightful.web.i18n import language_of
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter()
PAGE = "privacy_center/receipt_verify.html"
NOTHING = N_("Paste your receipt or choose its file, then check it again.")
NOT_JSON = N_("This is not a consent receipt: it is not in the JSON format we issue receipts in.")


def _keys(rt: Runtime) -> dict[str, str]:
    with unit_of_work(rt.sessions) as session:
        found = signing_keys.published(session, signing_keys.CONSENT_LOG)
    return {k.key_id: k.public_key for k in found}


@router.get(receipt_proofs.VERIFY_PATH)
def verify_page(request: Request) -> Response:
    """The form: paste a receipt or choose its file."""
    return render(request, PAGE, result=None, problem="", pasted="")


async def _receipt_text(request: Request) -> tuple[str, str]:
    """(the receipt's text, what was pasted) from the form's file or its text box."""
    async with request.form() as form:  # closes the uploaded file's spool
        check_csrf(request, str(form.get("csrf", "")))
        pasted = str(form.get("receipt", "")).strip()
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            return (await upload.read()).decode("utf-8", errors="replace"), pasted
    return pasted, pasted


@router.post(receipt_proofs.VERIFY_PATH)
async def verify_receipt(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Check the receipt and say, in plain words, what was found."""
    text, pasted = await _receipt_text(request)
    if not text:
        return render(request, PAGE, 422, result=None, problem=NOTHING, pasted="")
    try:
        receipt = json.loads(text)
    except ValueError:
        return render(request, PAGE, 422, result=None, problem=NOT_JSON, pasted=pasted)
    found = receipt_check.check(receipt, _keys(rt))
    return render(
        request, PAGE, result=_shown(found, language_of(request)), problem="", pasted=pasted
    )


def _shown(found: receipt_check.ReceiptCheck, lang: str) -> dict[str, Any]:
    """The check as the page words it: entry numbers count from 1, dates as the reader's."""
    signed = (
        datetime.fromtimestamp(found.signed_at_ms / 1000, tz=UTC)
        if found.signed_at_ms is not None
        else None
    )
    refused = [e for e in found.events if e.outcome == receipt_check.REFUSED]
    return {
        "outcome": found.outcome,
        "entries": ", ".join(
            f"{e.position + 1:,}" for e in found.included if e.position is not None
        ),
        "count": len(found.included),
        "pending": sum(1 for e in found.events if e.outcome == receipt_check.PENDING),
        "signed_on": format_date(signed.date(), lang) if signed else "",
        "signed_time": signed.strftime("%H:%M") if signed else "",
        "tree_size": f"{found.tree_size:,}" if found.tree_size is not None else "",
        "reason": found.reason or (refused[0].reason if refused else ""),
        "refused_event": refused[0].event_id if refused else "",
    }


@router.get(receipt_proofs.KEYS_PATH)
def public_keys(rt: Runtime = Depends(runtime)) -> JSONResponse:
    """The keys our consent log's tree heads are signed with, and the newest signed head."""
    with unit_of_work(rt.sessions) as session:
        keys = signing_keys.published(session, signing_keys.CONSENT_LOG)
        head = tree.latest_head(session)
    newest = max((k.created_at for k in keys), default=None)
    body = {
        "log": LOG_NAME,
        "algorithm": "Ed25519",
        "signed": "canonical JSON of {log, v, tree_size, root_hash, timestamp} (docs/consent.md)",
        "keys": [
            {
                "key_id": k.key_id,
                "public_key": k.public_key,
                "status": "current" if k.created_at == newest else "retired",
                "since": k.created_at.isoformat(),
            }
            for k in keys
        ],
        "latest_tree_head": receipt_proofs.signed_head(rt.settings, head) if head else None,
    }
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


@router.get("/consent/receipts/proof/{event_id}")
def event_proof(event_id: str, rt: Runtime = Depends(runtime)) -> JSONResponse:
    """One event's place in the signed log and its proof (or that it is still being added)."""
    with unit_of_work(rt.sessions) as session:
        found = receipt_proofs.proof_of(session, rt.settings, event_id)
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


@router.get("/consent/log/consistency")
def log_consistency(first: int, second: int, rt: Runtime = Depends(runtime)) -> JSONResponse:
    """Proof that our log only grew between two signed heads (RFC 9162 §2.1.4), for anyone
    who kept the earlier one."""
    with unit_of_work(rt.sessions) as session:
        found = receipt_proofs.consistency(session, rt.settings, first, second)
    return JSONResponse(found, headers={"Cache-Control": "public, max-age=300"})
