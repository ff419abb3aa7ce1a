"""Run approved requests off the web request; every step is recorded so a crash resumes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.connectors.base import Row
from rightful.consent.opt_out import record_opt_out
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConnectorError, NotFoundError
from rightful.inventory.revision import DataMap, load_map
from rightful.inventory.stores import Connectors
from rightful.rights import package, service
from rightful.rights.correction import apply_correction
from rightful.rights.correction_values import CORRECTABLE
from rightful.rights.erasure_finish import erase
from rightful.rights.erasure_run import apply_erasures, plan_erasures
from rightful.rights.know import categories_report
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.planning import build_plan, fetch_request
from rightful.rights.types import AUTOMATED, TYPE_LABELS, RequestType, Status
from rightful.security.vault import Vault

log = logging.getLogger(__name__)
# Steps are committed in batches: small requests cost one commit, long ones lose little work.
CHECKPOINT_SECONDS = 2.0
PARTNER_RECHECK = timedelta(minutes=10)


PACKAGE_PURPOSE = "packages"  # the vault of the files in settings.package_dir


def package_vault(settings: Settings) -> Vault:
    """The vault sealing access packages."""
    return Vault(settings, PACKAGE_PURPOSE)


def claim(session: Session, request_id: str, lease: timedelta) -> datetime | None:
    """Take a lease on an executing request so one worker runs it at a time; returns the lease's
    end, which identifies this claim, or None when another worker holds it.

    A worker that dies keeps its lease until it runs out; then another takes the work over.
    """
    now = utcnow()
    until = now + lease
    result = session.execute(
        update(RightsRequest)
        .where(
            RightsRequest.id == request_id,
            RightsRequest.status == Status.EXECUTING.value,
            or_(RightsRequest.lease_until.is_(None), RightsRequest.lease_until < now),
        )
        .values(lease_until=until)
    )
    session.commit()
    return until if result.rowcount else None  # type: ignore[attr-defined]


def runnable_ids(session: Session, limit: int = 20) -> list[str]:
    """Executing, automated requests whose lease is free."""
    stmt = (
        select(RightsRequest.id)
        .where(
            RightsRequest.status == Status.EXECUTING.value,
            RightsRequest.request_type.in_([t.value for t in AUTOMATED]),
            or_(RightsRequest.lease_until.is_(None), RightsRequest.lease_until < utcnow()),
        )
        .order_by(RightsRequest.updated_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _save_steps(session: Session, pending: list[dict[str, Any]]) -> None:
    # One multi-row statement per checkpoint, committed with whatever the caller commits next.
    if pending:
        session.execute(insert(ExecutionStep), pending)
        pending.clear()


def _collect(
    session: Session, settings: Settings, req: RightsRequest, data_map: DataMap
) -> dict[str, list[Row]]:
    vault = Vault(settings, "execution")
    done = {
        s.address: s.result
        for s in session.scalars(select(ExecutionStep).where(ExecutionStep.request_id == req.id))
    }
    identities = service.identities_of(settings, req)
    steps = build_plan(
        data_map.datasets,
        system_of=data_map.system_of,
        # Only the identity the person proved (the e-mail, by its code) may find records: a
        # phone number is matched as a data point, never used to find others who share it.
        identity_types=["email"],
    )
    found: dict[str, list[Row]] = {}
    pending: list[dict[str, Any]] = []
    last_checkpoint = time.monotonic()
    with Connectors(settings, data_map.systems) as connectors:
        try:
            for step in steps:
                if done.get(step.address) is not None:
                    found[step.address] = vault.decrypt_json(done[step.address] or "[]")
                    continue
                rows = connectors(step.system).fetch(fetch_request(step, identities, found))
                found[step.address] = rows
                pending.append(
                    {
                        "request_id": req.id,
                        "address": step.address,
                        "row_count": len(rows),
                        "result": vault.encrypt_json(rows),
                        "finished_at": utcnow(),
                    }
                )
                if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                    # Finished reads are kept: after a crash at most this much work is redone.
                    _save_steps(session, pending)
                    session.commit()
                    last_checkpoint = time.monotonic()
        finally:
            # Also when a store fails: what was read is kept for the retry.
            _save_steps(session, pending)
    return found


def _build_package(session: Session, settings: Settings, req: RightsRequest) -> dict[str, int]:
    meta = {
        "reference": req.reference,
        "type": TYPE_LABELS[RequestType(req.request_type)],
        "received": req.received_at.date().isoformat(),
        "date_from": req.date_from.isoformat() if req.date_from else None,
        "date_to": req.date_to.isoformat() if req.date_to else None,
        "company": settings.company_name,
        "privacy_email": settings.privacy_email,
    }
    if req.request_type == RequestType.KNOW_CATEGORIES.value:
        report = categories_report(session)
        data = package.render_zip(
            package.PackageContent(),
            meta=meta,
            template="categories.html",
            extra={"categories_report": report},
        )
        counts: dict[str, int] = {}
    else:
        data_map = load_map(session)
        found = _collect(session, settings, req, data_map)
        content = package.assemble(
            found,
            data_map.collections,
            system_names={k: s.name for k, s in data_map.system_by_dataset.items()},
            category_names=data_map.category_names,
            date_from=req.date_from,
            date_to=req.date_to,
        )
        data = package.render_zip(content, meta=meta)
        counts = content.counts
    req.package_file = package.store(package_vault(settings), settings.package_dir, req.id, data)
    req.package_expires_at = utcnow() + timedelta(days=settings.package_link_days)
    return counts


def run_request(factory: sessionmaker[Session], settings: Settings, request_id: str) -> str:
    """Execute one request to completion; safe to call again after any crash. Returns status."""
    with factory() as session:
        leased = claim(session, request_id, timedelta(seconds=settings.lease_seconds))
        if leased is None:
            req = session.get(RightsRequest, request_id)
            return req.status if req else "missing"
        req = service.access_request(session, request_id)
        try:
            if req.request_type == RequestType.DELETE.value:
                outcome = _erase(session, settings, req)
            elif req.request_type == RequestType.CORRECT.value:
                outcome = _correct(session, settings, req)
            elif req.request_type == RequestType.OPT_OUT_SALE.value:
                outcome = _opt_out(session, settings, req)
            else:
                outcome = _package(session, settings, req)
            if outcome is None:  # waiting for business partners; an answer wakes it sooner
                _recheck_later(session, req.id, leased)
                return req.status
        except (ConnectorError, NotFoundError) as exc:
            # Kept executing with the lease released, so a later run retries it.
            log.warning("request %s: cannot finish yet (%s); will retry", req.reference, exc.code)
            req.lease_until = utcnow() + timedelta(minutes=1)
            req.summary = {**req.summary, "last_error": exc.detail}
            session.commit()
            return req.status
        req.summary, req.lease_until = outcome.summary, None
        service.move(session, req, outcome.status, actor="worker", detail=outcome.detail)
        service.notify_consumer(session, settings, req, outcome.template, outcome.context)
        session.commit()
        return req.status


def _recheck_later(session: Session, request_id: str, leased: datetime) -> None:
    # Only while the lease is still the one this worker took: a partner's answer that came in
    # during this pass cleared it, and must not be pushed back by the recheck interval. The
    # claim's own value is compared, never a reload (which could already read the cleared lease).
    session.execute(
        update(RightsRequest)
        .where(RightsRequest.id == request_id, RightsRequest.lease_until == leased)
        .values(lease_until=utcnow() + PARTNER_RECHECK)
        .execution_options(synchronize_session=False)
    )
    session.commit()


@dataclass(frozen=True)
class _Outcome:
    summary: dict[str, Any]
    detail: dict[str, Any]
    template: str
    context: dict[str, Any]
    status: Status = Status.COMPLETED


def _package(session: Session, settings: Settings, req: RightsRequest) -> _Outcome:
    counts = _build_package(session, settings, req)
    return _Outcome(
        summary={"rows": counts},
        detail={"collections": len(counts), "rows": sum(counts.values())},
        template="completed",
        context={
            "download_url": download_url(settings, req.id),
            "days": settings.package_link_days,
        },
    )


def run_erasures(factory: sessionmaker[Session], settings: Settings, request_ids: list[str]) -> int:
    """Erase for many deletion requests with one read and one write pass per collection, then
    finish each request as `run_request` does. Returns how many were erased in the batch."""
    lease = timedelta(seconds=settings.lease_seconds)
    with factory() as session:
        mine = [rid for rid in request_ids if claim(session, rid, lease) is not None]
        reqs = [
            r
            for r in (session.get(RightsRequest, rid) for rid in mine)
            if r is not None and r.request_type == RequestType.DELETE.value
        ]
        try:
            plan_erasures(session, settings, reqs)
            apply_erasures(session, settings, [r.id for r in reqs])
        except (ConnectorError, NotFoundError) as exc:
            log.warning(
                "erasure batch of %d: cannot finish yet (%s); will retry", len(reqs), exc.code
            )
        session.execute(
            update(RightsRequest).where(RightsRequest.id.in_(mine)).values(lease_until=None)
        )
        session.commit()
    for rid in mine:  # plans are stored and applied: this is the per-request bookkeeping
        run_request(factory, settings, rid)
    return len(reqs)


def _erase(session: Session, settings: Settings, req: RightsRequest) -> _Outcome | None:
    outcome = erase(session, settings, req)
    if outcome is None:
        return None
    return _Outcome(
        summary=outcome.summary,
        detail=outcome.detail,
        template="erased",
        context=outcome.context,
        status=Status.PARTIALLY_COMPLETED if outcome.partial else Status.COMPLETED,
    )


def _correct(session: Session, settings: Settings, req: RightsRequest) -> _Outcome:
    changed = apply_correction(session, settings, request_id=req.id)
    item = CORRECTABLE[service.identities_of(settings, req)["correction_item"]]
    names = {s.key: s.name for s in load_map(session).systems.values()}
    places = sorted({names.get(c.system, c.system) for c in changed})
    return _Outcome(
        summary={
            "corrected": [
                {"system": c.system, "collection": c.collection, "field": c.field} for c in changed
            ]
        },
        detail={"fields_changed": len(changed)},
        template="corrected",
        context={"item": item.label.removeprefix("My ").lower(), "places": places},
    )


def _opt_out(session: Session, settings: Settings, req: RightsRequest) -> _Outcome:
    # Into the consent ledger, like any other opt-out: it takes effect in every check at once
    # and is carried to the partners that receive personal information.
    recorded = record_opt_out(
        session,
        settings,
        email=service.identities_of(settings, req)["email"],
        jurisdiction=req.jurisdiction,
        reference=req.reference,
    )
    return _Outcome(
        summary={"opted_out": recorded},
        detail={"choices_recorded": len(recorded)},
        template="opted_out",
        context={"days": 10, "preferences_url": f"{settings.base_url}/preferences"},
    )


def download_url(settings: Settings, request_id: str) -> str:
    """The expiring link to a package."""
    return f"{settings.base_url}/download/{service.package_signer(settings).sign(request_id)}"
