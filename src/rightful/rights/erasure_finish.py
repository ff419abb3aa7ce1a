"""Finishing a deletion: erase, tell partners, then say exactly what happened and what is kept.

Everything the person and the record are told comes from what happened: rows the stores
reported changed, partners' answers, and the record this request itself keeps (its e-mail
address only, until the end of the legal record period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful import laws
from rightful.consent.erasure import Erased, after_erasures
from rightful.consent.suppression import remember_all_erased
from rightful.core import i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.inventory.models import Partner
from rightful.inventory.revision import DataMap, load_map
from rightful.rights import service, tasks
from rightful.rights.erasure_run import (
    apply_erasure,
    erasure_summary,
    not_erased,
    plan_erasure,
)
from rightful.rights.models import ErasureStep, PartnerNotice, RightsRequest
from rightful.rights.partners import (
    OPEN_STATUSES,
    disclosed_partners,
    notices_of,
    open_notices_for,
)
from rightful.rights.task_models import ManualTask


@dataclass(frozen=True)
class ErasureOutcome:
    """What a finished deletion did, for the record, the timeline and the person's e-mail."""

    summary: dict[str, Any]
    detail: dict[str, Any]
    context: dict[str, Any]
    partial: bool


def _partners_told(names: dict[str, str], notices: list[PartnerNotice]) -> list[dict[str, Any]]:
    # Staff's internal note never reaches the person: only the explanation written for them.
    return [
        {
            "partner": names.get(n.partner_key, n.partner_key),
            "status": n.status,
            "explanation": n.explanation,
        }
        for n in notices
    ]


def record_kept_until(settings: Settings, req: RightsRequest) -> str:
    """The day this request's record loses the person's address: the end of the legal record
    period counted from today, when the request closes (see `retention.minimise_old_requests`)."""
    end = utcnow() + timedelta(days=settings.records_retention_days)
    return i18n.format_date(laws.local_date(end, req.jurisdiction), req.language or i18n.DEFAULT)


def _readable_dates(item: dict[str, Any], language: str) -> dict[str, Any]:
    """A record line for the e-mail: its date as the person's language writes it (December 4,
    2033; 4 de diciembre de 2033)."""
    until = item.get("retain_until")
    if not until:
        return item
    return {**item, "retain_until": i18n.format_date(date.fromisoformat(until), language)}


def _readable_on(line: dict[str, Any], language: str) -> dict[str, Any]:
    """A task's line for the e-mail: the day it was done as the person's language writes it."""
    on = line.get("on")
    return {**line, "on": i18n.format_date(date.fromisoformat(on), language)} if on else line


def minimise_identities(settings: Settings, req: RightsRequest) -> None:
    """Keep only the e-mail address on the request: enough to answer the person and to show
    the request was handled, nothing of what was used to verify them."""
    email = service.identities_of(settings, req)["email"]
    req.identities = service.identity_vault(settings).encrypt_json({"email": email})


def erase(session: Session, settings: Settings, req: RightsRequest) -> ErasureOutcome | None:
    """Erase in every system, then finish once every partner has answered (None: waiting)."""
    data_map = load_map(session)  # once for the pass, though each step commits
    plan_erasure(session, settings, req, data_map)
    steps = apply_erasure(session, settings, req, data_map)
    return conclude(session, settings, [(req, steps)], data_map)[req.id]


def conclude(
    session: Session,
    settings: Settings,
    erased: list[tuple[RightsRequest, list[ErasureStep]]],
    data_map: DataMap | None = None,
) -> dict[str, ErasureOutcome | None]:
    """After the stores' changes: suppression, consent, the record and partner notices of each
    request (None while partners or manual tasks have not answered). One request or a batch
    (`erasure_batch`) goes through this same code, each read and insert made once for all."""
    reqs = [req for req, _ in erased]
    before = notices_of(session, [req.id for req in reqs])
    # Notices already opened: an earlier pass did the rest in the same transaction. (Without
    # partners there are none, and the steps below, each safe to repeat, run again.)
    first = [req for req in reqs if not before[req.id]]
    emails = {req.id: service.identities_of(settings, req).get("email") for req in first}
    remember_all_erased(session, settings, [(e, rid) for rid, e in emails.items() if e])
    # The consent records keep their proof, lose the address, stop marketing: all at once.
    after_erasures(
        session,
        settings,
        [Erased(e, r.jurisdiction, r.reference) for r in first if (e := emails[r.id])],
    )
    names = {s.key: s.name for s in (data_map or load_map(session)).systems.values()}
    disclosed = disclosed_partners(session)
    notices = open_notices_for(session, reqs, before, disclosed)
    by_request = tasks.tasks_by_request(session, [req.id for req in reqs])
    answered = [r.id for r in reqs if not _waiting(notices[r.id], by_request[r.id])]
    partner_names = {k: p.name for k, p in disclosed.items() if p is not None}
    if any(n.partner_key not in partner_names for r in answered for n in notices[r]):
        # A notice to a partner no longer disclosed to: its name from the partners on file.
        partner_names = {p.key: p.name for p in session.scalars(select(Partner))}
    return {
        req.id: _outcome(
            settings,
            req,
            steps,
            names,
            notices[req.id],
            by_request[req.id],
            partner_names,
        )
        for req, steps in erased
    }


def _waiting(notices: list[PartnerNotice], by_task: list[ManualTask]) -> bool:
    """A partner or a manual task has not answered yet."""
    return any(n.status in OPEN_STATUSES for n in notices) or any(
        t.status == "open" for t in by_task
    )


def _outcome(
    settings: Settings,
    req: RightsRequest,
    steps: list[ErasureStep],
    names: dict[str, str],
    notices: list[PartnerNotice],
    by_task: list[ManualTask],
    partner_names: dict[str, str],
) -> ErasureOutcome | None:
    done, missed = erasure_summary(steps, names), not_erased(steps, names)
    req.summary = {"erasure": done, "not_erased": missed}
    if _waiting(notices, by_task):
        return None
    told = _partners_told(partner_names, notices)
    by_hand = tasks.lines_of(by_task, names)
    waived = [t for t in by_hand if t["status"] == "waived"]
    minimise_identities(settings, req)
    return ErasureOutcome(
        summary={"erasure": done, "not_erased": missed, "partners": told, "tasks": by_hand},
        detail={
            "deleted_rows": sum(i["changed"] for i in done if i["action"] == "delete_rows"),
            "masked_rows": sum(i["changed"] for i in done if i["action"] == "mask_fields"),
            "kept_rows": sum(i["rows"] for i in done if i["action"] == "retain_rows"),
            "not_erased_rows": sum(i["rows"] for i in missed),
            "tasks_done": len(by_hand) - len(waived),
            "tasks_waived": len(waived),
        },
        context={
            "summary": [_readable_dates(i, req.language or i18n.DEFAULT) for i in done],
            "not_erased": missed,
            "partners": told,
            "tasks": [_readable_on(t, req.language or i18n.DEFAULT) for t in by_hand],
            "record_until": record_kept_until(settings, req),
        },
        partial=bool(missed or waived),
    )
