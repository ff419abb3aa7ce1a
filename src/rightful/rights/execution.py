"""Run approved requests off the web request; every step is recorded so a crash resumes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.connectors.base import Connector, Row
from rightful.connectors.registry import connector_for
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConnectorError
from rightful.inventory import taxonomy
from rightful.inventory.graph import collections_by_address
from rightful.inventory.models import System
from rightful.inventory.service import connection_url, dataset_systems, load_datasets
from rightful.rights import package, service
from rightful.rights.know import categories_report
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.planning import build_plan, fetch_request
from rightful.rights.types import AUTOMATED, TYPE_LABELS, RequestType, Status
from rightful.security.vault import Vault

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)


def system_index(session: Session) -> dict[str, str]:
    """Dataset key → system key, for systems that can be queried."""
    return {k: s.key for k, s in dataset_systems(session).items()}


def connector_lookup(session: Session, settings: Settings) -> Callable[[str], Connector]:
    """A function giving the connector of a system by key."""
    vault = Vault(settings.secret_key, "connections")
    systems = {s.key: s for s in session.scalars(select(System))}

    def lookup(key: str) -> Connector:
        system = systems[key]
        return connector_for(key, system.connection_type, connection_url(vault, system))

    return lookup


def package_vault(settings: Settings) -> Vault:
    """The vault sealing access packages."""
    return Vault(settings.secret_key, "packages")


def claim(session: Session, request_id: str) -> bool:
    """Take a lease on an executing request so one worker runs it at a time."""
    now = utcnow()
    result = session.execute(
        update(RightsRequest)
        .where(
            RightsRequest.id == request_id,
            RightsRequest.status == Status.EXECUTING.value,
            or_(RightsRequest.lease_until.is_(None), RightsRequest.lease_until < now),
        )
        .values(lease_until=now + LEASE)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


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


def _collect(session: Session, settings: Settings, req: RightsRequest) -> dict[str, list[Row]]:
    vault = Vault(settings.secret_key, "execution")
    done = {
        s.address: s
        for s in session.scalars(select(ExecutionStep).where(ExecutionStep.request_id == req.id))
    }
    identities = service.identities_of(settings, req)
    steps = build_plan(
        load_datasets(session),
        system_of=system_index(session),
        identity_types=[k for k in identities if k in ("email", "phone_number")],
    )
    lookup = connector_lookup(session, settings)
    found: dict[str, list[Row]] = {}
    for step in steps:
        if step.address in done and done[step.address].result is not None:
            found[step.address] = vault.decrypt_json(done[step.address].result or "[]")
            continue
        rows = lookup(step.system).fetch(fetch_request(step, identities, found))
        found[step.address] = rows
        session.add(
            ExecutionStep(
                request_id=req.id,
                address=step.address,
                row_count=len(rows),
                result=vault.encrypt_json(rows),
            )
        )
        session.commit()  # each finished read is kept: a crash resumes after it
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
        found = _collect(session, settings, req)
        content = package.assemble(
            found,
            collections_by_address(load_datasets(session)),
            system_names={k: s.name for k, s in dataset_systems(session).items()},
            category_names=taxonomy.names(session, "data_category"),
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
        if not claim(session, request_id):
            req = session.get(RightsRequest, request_id)
            return req.status if req else "missing"
        req = service.access_request(session, request_id)
        try:
            counts = _build_package(session, settings, req)
        except ConnectorError as exc:
            # Kept executing with the lease released, so a later run retries it.
            log.warning("request %s: a data store failed (%s); will retry", req.reference, exc.code)
            req.lease_until = utcnow() + timedelta(minutes=1)
            req.summary = {**req.summary, "last_error": exc.detail}
            session.commit()
            return req.status
        req.summary = {"rows": counts}
        service.move(
            session,
            req,
            Status.COMPLETED,
            actor="worker",
            detail={"collections": len(counts), "rows": sum(counts.values())},
        )
        service.notify_consumer(
            session,
            settings,
            req,
            "completed",
            {
                "download_url": download_url(settings, req.id),
                "days": settings.package_link_days,
            },
        )
        req.lease_until = None
        session.commit()
        return req.status


def download_url(settings: Settings, request_id: str) -> str:
    """The expiring link to a package."""
    return f"{settings.base_url}/download/{service.package_signer(settings).sign(request_id)}"
