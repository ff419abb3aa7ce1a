"""Carrying out an erasure: plan once, apply per system in one transaction, keep only counts.

The planned changes (each row's `where` and masked values, computed from the original values;
see `erasure_plan`) are stored before anything changes. Re-running a finished or interrupted
erasure applies the same stored changes again, which ends in the same state: a deleted row
stays deleted, a masked row no longer matches its `where` or is set to the same masked value,
and nothing is done twice to data that was already changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from rightful import laws
from rightful.connectors.base import Changed, Connector, Row, RowChange, total, transactional
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.inventory.keys import key_fields
from rightful.inventory.revision import DataMap, load_map
from rightful.inventory.stores import Connectors
from rightful.rights import service, tasks
from rightful.rights.erasure import current_policy
from rightful.rights.erasure_confirm import in_effect
from rightful.rights.erasure_plan import (
    api_refusals,
    done_lines,
    member_systems,
    plan_collection,
)
from rightful.rights.models import ErasureStep, RightsRequest
from rightful.rights.planning import Split, Step, build_plan, traverse
from rightful.rights.policy import CollectionDecision, Policy, decide
from rightful.rights.types import RequestType
from rightful.security import audit
from rightful.security.vault import Vault, keyed_hash

_STEPS = ErasureStep.metadata.tables[ErasureStep.__tablename__]


def _vault(settings: Settings) -> Vault:
    return Vault(settings, "erasure")


def plan_erasure(
    session: Session, settings: Settings, req: RightsRequest, data_map: DataMap | None = None
) -> None:
    """Read the person's rows, decide by policy and store the changes per system (once)."""
    plan_erasures(session, settings, [req], data_map)


def plan_erasures(
    session: Session,
    settings: Settings,
    reqs: list[RightsRequest],
    data_map: DataMap | None = None,
) -> None:
    """Plan many erasures with one read per collection for all of them (a batch). `data_map`:
    the one the caller read for this pass (else read here)."""
    planned = set(
        session.scalars(
            select(ErasureStep.request_id).where(ErasureStep.request_id.in_([r.id for r in reqs]))
        )
    )
    todo = [r for r in reqs if r.id not in planned]
    if not todo:
        return
    policy = current_policy(session, RequestType.DELETE.value)
    data_map = data_map or load_map(session)
    emails = {r.id: service.identities_of(settings, r)["email"] for r in todo}
    steps = build_plan(data_map.datasets, system_of=data_map.system_of, identity_types=["email"])
    with Connectors(settings, data_map.systems) as connectors:
        found = traverse(steps, {"email": sorted(set(emails.values()))}, connectors)
        refused = api_refusals(steps, policy, connectors)
        members = member_systems(steps, connectors)
    planned_rows: list[dict[str, Any]] = []
    known = tasks.tasks_by_request(session, [r.id for r in todo])  # one read for the batch
    split = Split(steps, found)  # one index of the batch's rows for every request's share
    decided = _Decisions(policy)  # each collection decided once a day, not once a person
    by_hand = tasks.manual_steps(session, refused)  # the batch's systems handled by hand, once
    secret = keyed_hash(settings.secret_key, "masking", "hmac-secret")
    vault = _vault(settings)
    for req in todo:
        mine = found if len(todo) == 1 else split.share({"email": emails[req.id]})
        today = laws.local_date(req.received_at, req.jurisdiction)
        planned_rows += _store_plan(
            req, steps, mine, refused, members, vault, secret=secret, decide=decided.on(today)
        )
        tasks.open_tasks(
            session,
            settings,
            req,
            kind=tasks.ERASE,
            found=mine,
            decide=decided.on(today),
            refused=refused,
            known=known[req.id],
            wanted=by_hand,
        )
    if planned_rows:  # every request's plan in one insert (Core: rows of one shape, NULLs kept)
        session.execute(insert(_STEPS), planned_rows)
    session.commit()  # the plans (and tasks for what no API can erase) are kept before anything


class _Decisions:
    """The policy's decision for each collection on a day, made once for a whole batch (it
    depends on nothing else: `policy.decide`)."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._made: dict[tuple[str, date], CollectionDecision] = {}

    def on(self, today: date) -> Callable[[Step], CollectionDecision]:
        """The decision for a step's collection on `today`."""

        def decided(step: Step) -> CollectionDecision:
            key = (step.address, today)
            if key not in self._made:
                self._made[key] = decide(step.collection, self._policy, today)
            return self._made[key]

        return decided


def _store_plan(
    req: RightsRequest,
    steps: list[Step],
    found: dict[str, list[Row]],
    refused: Mapping[str, str],
    members: set[str],
    vault: Vault,
    *,
    secret: str,
    decide: Callable[[Step], CollectionDecision],
) -> list[dict[str, Any]]:
    """The rows of `ErasureStep` holding one request's plan, one a system (`decide`: the
    policy's decision for a step's collection on the request's day; `secret`: the masking's)."""
    per_system: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for step in reversed(steps):  # dependents first, across systems too
        decision = decide(step)
        until = decision.retain_until.isoformat() if decision.retain_until else None
        changes, item = plan_collection(
            step,
            found.get(step.address, []),
            decision,
            secret=secret,
            tag=req.id,
            retain_until=until,
            members=step.system in members,
        )
        if step.address in refused:  # its API cannot: the system's manual task does it
            changes = []
            item = {**item, "planned": 0, "unlocatable": 0, "retained": [], "by_task": True}
        plan, report = per_system.setdefault(step.system, ([], []))
        plan.extend(c.to_json() for c in changes)
        report.append(item)
    return [
        {
            "request_id": req.id,
            "system": system,
            "position": position,
            "changes": vault.encrypt_json(per_system[system][0]),
            "report": per_system[system][1],
            "retained_until": _earliest_end(per_system[system][1]),
        }
        for position, system in enumerate(_dependents_first(steps, list(per_system)))
    ]


def _earliest_end(report: list[dict[str, Any]]) -> date | None:
    """When the first rows kept in this system are due for destruction."""
    return min(
        (
            date.fromisoformat(i["retain_until"])
            for i in report
            if i.get("retained") or i.get("retained_keys")
        ),
        default=None,
    )


def _dependents_first(steps: list[Step], systems: list[str]) -> list[str]:
    """Systems holding references to another system's rows are erased before that system."""
    system_of = {s.address: s.system for s in steps}
    before: dict[str, set[str]] = {s: set() for s in systems}  # system -> systems to do first
    for step in steps:
        for edge in step.inputs:
            source = system_of.get(edge.source)
            if source and source != step.system:
                before[source].add(step.system)
    ordered: list[str] = []
    while len(ordered) < len(systems):
        ready = sorted(s for s in systems if s not in ordered and before[s] <= set(ordered))
        ordered.append(ready[0] if ready else next(s for s in systems if s not in ordered))
    return ordered


def apply_erasure(
    session: Session, settings: Settings, req: RightsRequest, data_map: DataMap | None = None
) -> list[ErasureStep]:
    """Apply each system's stored changes in one transaction; record counts, drop the data."""
    return apply_erasures(session, settings, [req.id], data_map)


def apply_erasures(
    session: Session,
    settings: Settings,
    request_ids: list[str],
    data_map: DataMap | None = None,
) -> list[ErasureStep]:
    """Apply the stored changes of many erasures: per system, one transaction for them all.

    Each request's line of the record says how many rows the store reported changed. Where that
    is fewer than planned (an earlier attempt that died after the store committed, or a row two
    people shared), the rows are read again and those already in their erased state are counted:
    what the store shows, never what was planned. Returns every step of these requests (done
    before or now), in order.
    """
    data_map = data_map or load_map(session)
    vault = _vault(settings)
    every = list(
        session.scalars(
            select(ErasureStep)
            .where(ErasureStep.request_id.in_(request_ids))
            .order_by(ErasureStep.position, ErasureStep.id)
        )
    )
    pending = [step for step in every if step.done_at is None]
    order = list(dict.fromkeys(step.system for step in pending))
    keyed = {c.name for c in data_map.collections.values() if key_fields(c)}
    with Connectors(settings, data_map.systems) as connectors:
        for system in order:
            steps = [s for s in pending if s.system == system]
            changes = [
                _tagged(RowChange.from_json(c), s.request_id)
                for s in steps
                for c in vault.decrypt_json(s.changes or "[]")
            ]
            connector = connectors(system)
            if not transactional(connector):
                for step in steps:
                    _apply_one_by_one(session, vault, connector, step, keyed)
                continue
            changed = connector.apply(changes)
            short = _short(changes, changed)
            if short:
                changed = {**changed, **in_effect(connector, short, keyed)}
            _record_done(session, steps, changed)
            session.commit()  # this system is done for all of them; a crash resumes after it
    return every


def _record_done(session: Session, steps: list[ErasureStep], changed: Changed) -> None:
    """Each step's counts from what the store reported, its plan dropped: one UPDATE for all
    (executemany), the loaded steps kept in step with it."""
    now = utcnow()
    rows = [
        {
            "id": step.id,
            "report": [
                {**item, "changed": changed.get((item["collection"], step.request_id), 0)}
                if "planned" in item
                else item
                for item in step.report
            ],
            "changes": None,
            "done_at": now,
        }
        for step in steps
    ]
    session.execute(update(ErasureStep), rows)
    for step, row in zip(steps, rows, strict=True):
        for key in ("report", "changes", "done_at"):
            set_committed_value(step, key, row[key])


def _apply_one_by_one(
    session: Session, vault: Vault, connector: Connector, step: ErasureStep, keyed: set[str]
) -> None:
    """A system whose changes stand alone (an API's calls): each change made, then recorded
    (its count on the record's line, the change taken off the stored plan) and committed before
    the next, so a worker that dies between two calls resumes at the next change and never
    sends a call it already made again. A change the store reports as nothing to do (an earlier
    worker's call that the store carried out before the worker died, unrecorded) is read back
    and counted when the store shows it done: what the store did, once."""
    remaining = [
        _tagged(RowChange.from_json(c), step.request_id)
        for c in vault.decrypt_json(step.changes or "[]")
    ]
    counts = {
        item["collection"]: item.get("changed") or 0 for item in step.report if "planned" in item
    }
    while remaining:
        change = remaining.pop(0)
        key = (change.collection, change.tag)
        made = connector.apply([change]).get(key, 0)
        if made < 1:
            made = in_effect(connector, [change], keyed).get(key, 0)
        counts[change.collection] = counts.get(change.collection, 0) + made
        step.report = _counted(step.report, counts)
        step.changes = vault.encrypt_json([c.to_json() for c in remaining])
        session.commit()
    step.report = _counted(step.report, counts)
    step.changes, step.done_at = None, utcnow()
    session.commit()


def _counted(report: list[dict[str, Any]], counts: Mapping[str, int]) -> list[dict[str, Any]]:
    return [
        {**item, "changed": counts.get(item["collection"], 0)} if "planned" in item else item
        for item in report
    ]


def _tagged(change: RowChange, request_id: str) -> RowChange:
    # Plans stored before changes carried tags are counted under their request.
    return (
        change
        if change.tag
        else RowChange(change.collection, change.where, change.values, request_id)
    )


def _short(changes: list[RowChange], changed: Changed) -> list[RowChange]:
    """The changes of every (collection, tag) whose store count is below the plan's."""
    planned: dict[tuple[str, str], int] = {}
    for c in changes:
        planned[(c.collection, c.tag)] = planned.get((c.collection, c.tag), 0) + 1
    return [
        c for c in changes if changed.get((c.collection, c.tag), 0) < planned[(c.collection, c.tag)]
    ]


def erasure_summary(steps: list[ErasureStep], system_names: dict[str, str]) -> list[dict[str, Any]]:
    """Per collection where something happened, in plain terms, for the completion e-mail and
    the record; counts are the rows the stores reported changed."""
    # Records are kept dependents first (the order of the writes); people read them in the
    # order the data was found: account first.
    return [
        {**item, "system": system_names.get(step.system, step.system)}
        for step in reversed(steps)
        for item in reversed(done_lines(step.report))
    ]


def not_erased(steps: list[ErasureStep], system_names: dict[str, str]) -> list[dict[str, Any]]:
    """Per collection, rows found that no change could single out (never reported as done)."""
    return [
        {
            "system": system_names.get(step.system, step.system),
            "collection": item["collection"],
            "rows": item["unlocatable"],
        }
        for step in steps
        for item in step.report
        if item.get("unlocatable")
    ]


def _kept_rows(item: dict[str, Any]) -> list[RowChange]:
    """Deletions of the rows a record line kept (also from records written before 0.2)."""
    name = item["collection"]
    rows = [
        RowChange(name, tuple((f, v) for f, v in where)) for where in item.get("retained") or []
    ]
    rows += [RowChange.by_key(name, item["key_field"], k) for k in item.get("retained_keys") or []]
    return rows


def destroy_retained(session: Session, settings: Settings) -> int:
    """Delete rows kept for a legal period once it has ended; returns how many steps ran."""
    today = utcnow().date()
    due = list(
        session.scalars(
            select(ErasureStep).where(
                ErasureStep.done_at.is_not(None), ErasureStep.retained_until <= today
            )
        )
    )
    if not due:
        return 0
    data_map = load_map(session)
    with Connectors(settings, data_map.systems) as connectors:
        for step in due:
            report, ended = [], []
            for item in step.report:
                if _kept_rows(item) and date.fromisoformat(item["retain_until"]) <= today:
                    ended += _kept_rows(item)
                    item = {
                        **item,
                        "retained": [],
                        "retained_keys": [],
                        "destroyed_on": today.isoformat(),
                    }
                report.append(item)
            destroyed = total(connectors(step.system).apply(ended))
            step.report = report
            step.retained_until = _earliest_end(report)
            audit.record(
                session,
                actor="worker",
                action="request.retained_rows_destroyed",
                subject_type="rights_request",
                subject_id=step.request_id,
                detail={"system": step.system, "rows": destroyed},
            )
            session.commit()
    return len(due)
