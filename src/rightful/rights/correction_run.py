"""Corrections carried out, alone or many together (issue 12), and recorded from what the stores
reported, never from the plan.

A correction's plan is kept as its execution steps before anything changes: one step per
collection read (`row_count`: the rows found, as for an access request), its sealed `result`
the changes planned there until its system's transaction is done, then the rows the store
reported changed per field. A worker that dies resumes from them: a system whose counts are
recorded is never written again; one whose transaction was lost is written then; one that
committed just before the worker died is given the same values again (nothing moves) and
counted once, by the rows its keys match or, for rows found by their old value, by what the
store shows (`in_effect`).

Many corrections waiting together are read with one read per collection and split back per
request (`access_batch.shares`: refused, and each run alone, in the cases access refuses), each
planned from its own share (refused too when one could change what another finds or writes:
`_entangled`), then applied in one transaction per system for the whole batch.
Each change carries its request and field as its tag; a store makes one UPDATE per distinct
(collection, field, new value) and reports rows per tag, which each request's record is built from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from rightful.connectors.base import Changed, Row, RowChange
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.inventory.keys import key_fields
from rightful.inventory.revision import load_map
from rightful.inventory.stores import Connectors
from rightful.rights import access_batch, service
from rightful.rights.correction import FieldCorrection, correction_plan, planned_changes
from rightful.rights.erasure_confirm import in_effect
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.planning import Step, traverse
from rightful.security.vault import Vault

log = logging.getLogger(__name__)
PLANNED, CHANGED = "planned", "changed"


def _vault(settings: Settings) -> Vault:
    return Vault(settings, "execution")


def _tag(request_id: str, field: str) -> str:
    return f"{request_id}:{field}"


def _kept_steps(
    settings: Settings,
    request_id: str,
    steps: list[Step],
    found: Mapping[str, list[Row]],
    changes: list[FieldCorrection],
) -> Iterator[dict[str, Any]]:
    """The rows of `execution_steps` keeping one request's plan, one per collection read."""
    vault, now = _vault(settings), utcnow()
    for step in steps:
        mine = [
            RowChange(c.collection, c.where, {c.field: c.corrected}, _tag(request_id, c.field))
            for c in changes
            if (c.system, c.collection) == (step.system, step.collection.name)
        ]
        planned = {
            "system": step.system,
            "collection": step.collection.name,
            PLANNED: [c.to_json() for c in mine],
        }
        yield {
            "request_id": request_id,
            "address": step.address,
            "row_count": len(found.get(step.address, [])),
            "result": vault.encrypt_json(planned) if mine else None,
            "finished_at": now,
        }


def _steps(session: Session, request_ids: list[str]) -> list[ExecutionStep]:
    return list(
        session.scalars(
            select(ExecutionStep)
            .where(ExecutionStep.request_id.in_(request_ids))
            .order_by(ExecutionStep.id)
        )
    )


def correct(session: Session, settings: Settings, req: RightsRequest) -> list[dict[str, Any]]:
    """Carry out one correction, resuming from its kept plan when it has one (a batch's, or a
    run that died); returns what the stores reported changed (`record`)."""
    kept = _steps(session, [req.id])
    if not kept:
        identities = service.identities_of(settings, req)
        data_map = load_map(session)
        steps = correction_plan(data_map)
        with Connectors(settings, data_map.systems) as connectors:
            found = traverse(steps, {"email": identities["email"]}, connectors)
        changes = planned_changes(steps, found, identities)
        if steps:
            session.execute(
                insert(ExecutionStep), list(_kept_steps(settings, req.id, steps, found, changes))
            )
        session.commit()  # the plan is kept before anything changes
        kept = _steps(session, [req.id])
    apply_planned(session, settings, kept)
    return record(settings, kept)


def correct_together(
    session: Session, settings: Settings, reqs: Sequence[RightsRequest]
) -> list[str]:
    """Read, plan and apply many corrections together (one read per collection, one
    transaction per system); returns the ids done so. The others (already begun, or a batch
    that cannot be read or written together) run one by one."""
    todo = access_batch.not_begun(session, reqs)
    identities = {r.id: service.identities_of(settings, r) for r in todo}
    todo = [r for r in todo if identities[r.id].get("email")]
    if len(todo) < 2:
        return []
    data_map = load_map(session)
    steps = correction_plan(data_map)
    emails = {r.id: identities[r.id]["email"] for r in todo}
    shares = access_batch.shares(settings, data_map, steps, emails)
    if shares is None:
        return []
    plans = {r.id: planned_changes(steps, shares[r.id], identities[r.id]) for r in todo}
    if _entangled(steps, plans):
        log.info("correction batch of %d: requests change each other's rows; one by one", len(todo))
        return []
    session.execute(
        insert(ExecutionStep),
        [
            row
            for r in todo
            for row in _kept_steps(settings, r.id, steps, shares[r.id], plans[r.id])
        ],
    )
    session.commit()  # every plan is kept before anything changes
    apply_planned(session, settings, _steps(session, [r.id for r in todo]))
    return [r.id for r in todo]


def _entangled(steps: list[Step], plans: Mapping[str, list[FieldCorrection]]) -> bool:
    """Whether one request's correction could change what another's finds or writes: two
    changing the same field of the same row, or a change to a field rows are found by. One by
    one, the later request would read the earlier one's result; planned together, both read
    the rows as they were."""
    names = {s.address: s.collection.name for s in steps}
    walked = {(s.collection.name, f) for s in steps for f in s.found_by}
    walked |= {(names[e.source], e.source_field.split(".")[0]) for s in steps for e in s.inputs}
    seen: set[tuple[str, str, str, str]] = set()
    for changes in plans.values():
        mine = {(c.system, c.collection, c.field, repr(c.where)) for c in changes}
        if seen & mine or any((c.collection, c.field) in walked for c in changes):
            return True
        seen |= mine
    return False


def apply_planned(session: Session, settings: Settings, steps: list[ExecutionStep]) -> None:
    """Apply the kept changes of these steps (of one or many corrections): per system, one
    transaction for all of them; each step then keeps the rows the store reported changed per
    field, not the plan."""
    vault = _vault(settings)
    pending = [
        (step, payload)
        for step in steps
        if step.result and PLANNED in (payload := vault.decrypt_json(step.result))
    ]
    if not pending:
        return
    data_map = load_map(session)
    keyed = {c.name for c in data_map.collections.values() if key_fields(c)}
    with Connectors(settings, data_map.systems) as connectors:
        for system in dict.fromkeys(p["system"] for _, p in pending):
            mine = [(s, p) for s, p in pending if p["system"] == system]
            changes = [RowChange.from_json(c) for _, p in mine for c in p[PLANNED]]
            connector = connectors(system)
            changed = connector.apply(changes)
            short = _short(changes, changed)
            if short:  # a run that died after the store committed: count what it shows
                changed = {**changed, **in_effect(connector, short, keyed)}
            for step, payload in mine:
                counts = _per_field(payload[PLANNED], changed)
                step.result = vault.encrypt_json(
                    {"system": system, "collection": payload["collection"], CHANGED: counts}
                )
            session.commit()  # this system is done for all of them; a crash resumes after it


def _per_field(planned: list[dict[str, Any]], changed: Changed) -> dict[str, int]:
    out: dict[str, int] = {}
    for raw in planned:
        field = next(iter(raw["values"]))
        out[field] = changed.get((raw["collection"], raw["tag"]), 0)
    return out


def _short(changes: list[RowChange], changed: Changed) -> list[RowChange]:
    """The changes of every (collection, tag) whose store count is below the plan's."""
    planned: dict[tuple[str, str], int] = {}
    for c in changes:
        planned[(c.collection, c.tag)] = planned.get((c.collection, c.tag), 0) + 1
    return [
        c for c in changes if changed.get((c.collection, c.tag), 0) < planned[(c.collection, c.tag)]
    ]


def record(settings: Settings, steps: list[ExecutionStep]) -> list[dict[str, Any]]:
    """Per system, collection and field, the rows the stores reported changed (none left out
    that changed, none listed that did not), in the order the data was found."""
    vault = _vault(settings)
    out = []
    for step in steps:
        payload = vault.decrypt_json(step.result) if step.result else {}
        for field, rows in (payload.get(CHANGED) or {}).items():
            if rows:
                place = {"system": payload["system"], "collection": payload["collection"]}
                out.append({**place, "field": field, "rows": rows})
    return out
