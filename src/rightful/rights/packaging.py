"""Access packages: read a person's rows from every store (resumable), seal the zip, link it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from rightful.connectors.base import Row
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.inventory.revision import DataMap
from rightful.inventory.stores import Connectors
from rightful.rights import claimed, package, service, tasks
from rightful.rights.access_batch import access_plan
from rightful.rights.kinds import kind_of
from rightful.rights.know import categories_report
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.planning import fetch_request
from rightful.rights.task_models import ManualTask
from rightful.rights.values import seal_rows
from rightful.security.vault import Vault

# Steps are committed in batches: small requests cost one commit, long ones lose little work.
CHECKPOINT_SECONDS = 2.0


PACKAGE_PURPOSE = "packages"  # the vault of the files in settings.package_dir


def package_vault(settings: Settings) -> Vault:
    """The vault sealing access packages."""
    return Vault(settings, PACKAGE_PURPOSE)


def _save_steps(session: Session, pending: list[dict[str, Any]]) -> None:
    # One multi-row statement per checkpoint, committed with whatever the caller commits next.
    if pending:
        session.execute(insert(ExecutionStep), pending)
        pending.clear()


def _done(session: Session, request_id: str) -> dict[str, str | None]:
    """The request's reads kept so far: address -> sealed rows."""
    rows = session.execute(
        select(ExecutionStep.address, ExecutionStep.result).where(
            ExecutionStep.request_id == request_id
        )
    )
    return {address: result for address, result in rows}


def _collect(
    session: Session, settings: Settings, req: RightsRequest, data_map: DataMap
) -> dict[str, list[Row]]:
    vault = Vault(settings, "execution")
    done = {} if claimed.untouched(session, req.id) else _done(session, req.id)
    identities = service.identities_of(settings, req)
    steps = access_plan(data_map)  # the same reads a batch makes (rights/access_batch.py)
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
                        "result": seal_rows(vault, rows),
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


def _meta(settings: Settings, req: RightsRequest) -> dict[str, Any]:
    return {
        "reference": req.reference,
        "type": kind_of(req.request_type).label,
        "received": req.received_at.date().isoformat(),
        "date_from": req.date_from.isoformat() if req.date_from else None,
        "date_to": req.date_to.isoformat() if req.date_to else None,
        "company": settings.company_name,
        "privacy_email": settings.privacy_email,
    }


def _keep(settings: Settings, req: RightsRequest, data: bytes) -> None:
    req.package_file = package.store(package_vault(settings), settings.package_dir, req.id, data)
    req.package_expires_at = utcnow() + timedelta(days=settings.package_link_days)


@dataclass(frozen=True)
class Built:
    """A kept package: rows per collection, and what each closed manual task did (the
    record's lines, `tasks.lines_of`)."""

    counts: dict[str, int]
    by_hand: list[dict[str, Any]]


def build_package(session: Session, settings: Settings, req: RightsRequest) -> Built | None:
    """Read the person's rows everywhere and keep the sealed package; None while owners of
    systems handled by hand have tasks open."""
    data_map = claimed.data_map(session)
    found = _collect(session, settings, req, data_map)
    # Read once (none when the claim saw none): what is open, then what was entered.
    known = [] if claimed.untouched(session, req.id) else tasks.tasks_of(session, req.id)
    by_hand = any(s.by_hand for s in data_map.systems.values())
    if by_hand and tasks.open_tasks(
        session, settings, req, kind=tasks.LOOKUP, found=found, known=known
    ):
        return None
    if any(t.status == "open" for t in known):
        return None
    return seal_found(session, settings, req, data_map, found, known)


def seal_found(
    session: Session,
    settings: Settings,
    req: RightsRequest,
    data_map: DataMap,
    found: dict[str, list[Row]],
    known: list[ManualTask],
) -> Built:
    """Keep the sealed package of rows already read (`found`) and of the request's closed
    manual tasks (`known`): alone (`build_package`) or in a batch (`access_finish`)."""
    by_hand = tasks.package_entries(session, settings, req.id, known) if known else []
    content = package.assemble(
        found,
        data_map.collections,
        system_names={k: s.name for k, s in data_map.system_by_dataset.items()},
        category_names=data_map.category_names,
        date_from=req.date_from,
        date_to=req.date_to,
    )
    extra = {"entered_by_hand": by_hand} if by_hand else None
    _keep(settings, req, package.render_zip(content, meta=_meta(settings, req), extra=extra))
    names = {s.key: s.name for s in data_map.systems.values()}
    return Built(content.counts, tasks.lines_of(known, names))


def build_categories(session: Session, settings: Settings, req: RightsRequest) -> None:
    """Keep the sealed report of the categories collected and shared (no one's rows)."""
    data = package.render_zip(
        package.PackageContent(),
        meta=_meta(settings, req),
        template="categories.html",
        extra={"categories_report": categories_report(session)},
    )
    _keep(settings, req, data)


def download_url(settings: Settings, request_id: str) -> str:
    """The expiring link to a package."""
    return f"{settings.base_url}/download/{service.package_signer(settings).sign(request_id)}"
