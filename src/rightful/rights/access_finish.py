"""Access requests finished together (issue 12): after a batch's rows were read together
(`access_batch.prefetch`), every request's package is built and written as alone, and the
batch's bookkeeping is done in one transaction of a handful of statements.

Alone, each request's `run_request` reads its row, its steps and its tasks, then writes its
row, its e-mail and its audit events: about 11 statements a request. Here it is one read of the
batch's requests (the claim check, locked), one of their steps and one of their tasks; each
package built by the code a single request goes through (`packaging.seal_found`, then
`handlers.download`); the statuses moved by `service.move_many` (each audited as alone); every
request's row written in one UPDATE, every e-mail in one INSERT (`service.notify_consumers`),
the audit events in one INSERT at the commit.

A worker that dies before the commit leaves the requests executing with their steps kept (the
packages it wrote are replaced whole, under the request's id): the next run builds each package
again from the same steps and finishes the batch, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.connectors.base import Row
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.inventory.revision import load_map
from rightful.rights import service, tasks
from rightful.rights.access_batch import access_plan
from rightful.rights.erasure_batch import held
from rightful.rights.handlers import Outcome, download
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.packaging import seal_found
from rightful.security.vault import Vault


def _results(session: Session, ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
    """Each request's kept reads: address -> sealed rows."""
    found: dict[str, dict[str, str | None]] = {rid: {} for rid in ids}
    rows = session.execute(
        select(ExecutionStep.request_id, ExecutionStep.address, ExecutionStep.result).where(
            ExecutionStep.request_id.in_(list(ids))
        )
    )
    for request_id, address, result in rows:
        found[request_id][address] = result
    return found


def finish_accesses(session: Session, settings: Settings, leases: dict[str, datetime]) -> list[str]:
    """Finish together the held access requests whose every read is kept, as `run_request`
    would each (the caller commits). Returns the held ids left to `run_request`: a read
    missing, a manual task, or a data map with systems handled by hand (tasks are opened, and
    waited for, one request at a time)."""
    reqs = held(session, leases)
    data_map = load_map(session)
    if not reqs or any(s.by_hand for s in data_map.systems.values()):
        return [r.id for r in reqs]
    plan = [step.address for step in access_plan(data_map)]
    ids = [r.id for r in reqs]
    kept, known = _results(session, ids), tasks.tasks_by_request(session, ids)
    ready = [
        r for r in reqs if not known[r.id] and all(kept[r.id].get(a) is not None for a in plan)
    ]
    vault = Vault(settings, "execution")
    outcomes: dict[str, Outcome] = {}
    for req in ready:  # in the plan's order, as `packaging._collect` finds them
        found: dict[str, list[Row]] = {a: vault.decrypt_json(kept[req.id][a] or "[]") for a in plan}
        built = seal_found(session, settings, req, data_map, found, [])
        outcomes[req.id] = outcome = download(settings, req, built.counts, built.by_hand)
        req.summary = outcome.summary
    service.move_many(
        session, [(r, outcomes[r.id].status, outcomes[r.id].detail) for r in ready], actor="worker"
    )
    _write(session, ready)
    service.notify_consumers(
        session, settings, [(r, outcomes[r.id].template, outcomes[r.id].context) for r in ready]
    )
    return [r.id for r in reqs if r.id not in outcomes]


def _write(session: Session, ready: list[RightsRequest]) -> None:
    """Every finished request's row in one UPDATE (one `executemany`), not one each."""
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "id": r.id,
            "status": r.status,
            "closed_at": r.closed_at,
            "summary": r.summary,
            "package_file": r.package_file,
            "package_expires_at": r.package_expires_at,
            "lease_until": None,
            "updated_at": now,
        }
        for r in ready
    ]
    for req in ready:  # written below, not by the unit of work's flush
        session.expunge(req)
    if rows:
        session.execute(update(RightsRequest), rows)
