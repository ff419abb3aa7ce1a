"""Access requests finished together (issue 12): after a batch's rows were read together
(`access_batch.prefetch`), every request's package is built and written as alone, and the
batch's bookkeeping is done in one transaction of a handful of statements.

Alone, each request's `run_request` reads its row, its steps and its tasks, then writes its
row, its e-mail and its audit events: about 11 statements a request. Here it is one read of the
batch's requests (the claim check, locked), and of their steps and tasks only where the batch
did not just write the steps or the claim saw none (`claimed`); each
package built by the code a single request goes through (`packaging.seal_found`, then
`handlers.download`); the statuses moved by `service.move_many` (each audited as alone); every
request's row written in one UPDATE, every e-mail in one INSERT (`service.notify_consumers`),
the audit events in one INSERT at the commit.

A worker that dies before the commit leaves the requests executing with their steps kept (the
packages it wrote are replaced whole, under the request's id): the next run builds each package
again from the same steps and finishes the batch, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.connectors.base import Row
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.rights import claimed, service, tasks
from rightful.rights.access_batch import access_plan
from rightful.rights.erasure_batch import held
from rightful.rights.handlers import Outcome, download
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.packaging import seal_found
from rightful.rights.task_models import ManualTask
from rightful.security.vault import Vault


def _results(
    session: Session, ids: Sequence[str], given: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str | None]]:
    """Each request's kept reads: address -> sealed rows; `given` (just written by this
    session) or read, in one query for all the others."""
    found: dict[str, dict[str, str | None]] = {rid: dict(given.get(rid, {})) for rid in ids}
    missing = [rid for rid in ids if rid not in given]
    if missing:
        rows = session.execute(
            select(ExecutionStep.request_id, ExecutionStep.address, ExecutionStep.result).where(
                ExecutionStep.request_id.in_(missing)
            )
        )
        for request_id, address, result in rows:
            found[request_id][address] = result
    return found


def _tasks(session: Session, ids: list[str]) -> dict[str, list[ManualTask]]:
    """Each request's manual tasks: none for those the claim saw untouched, the others' read
    in one query."""
    asked = [rid for rid in ids if not claimed.untouched(session, rid)]
    found = tasks.tasks_by_request(session, asked) if asked else {}
    return {rid: found.get(rid, []) for rid in ids}


def finish_accesses(
    session: Session,
    settings: Settings,
    leases: dict[str, datetime],
    given: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Finish together the held access requests whose every read is kept, as `run_request`
    would each (the caller commits). Returns the held ids left to `run_request`: a read
    missing, a manual task, or a data map with systems handled by hand (tasks are opened, and
    waited for, one request at a time). `given`: reads this session just kept (`prefetch`)."""
    reqs = held(session, leases)
    data_map = claimed.data_map(session)
    if not reqs or any(s.by_hand for s in data_map.systems.values()):
        return [r.id for r in reqs]
    plan = [step.address for step in access_plan(data_map)]
    ids = [r.id for r in reqs]
    kept, known = _results(session, ids, given or {}), _tasks(session, ids)
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
