"""Erasure, first step: the dry-run preview staff read before anything changes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session

from rightful import laws
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, NotFoundError
from rightful.inventory.keys import key_fields, locating_fields
from rightful.inventory.revision import load_map
from rightful.inventory.stores import Connectors
from rightful.rights import service
from rightful.rights.erasure_plan import api_refusals, plan_collection
from rightful.rights.models import RequestPolicy
from rightful.rights.planning import build_plan, traverse
from rightful.rights.policy import FieldAction, Policy, decide, parse_policy
from rightful.rights.types import RequestType
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require


@dataclass(frozen=True)
class CollectionPreview:
    """What erasure would do to one collection for this person."""

    system: str
    collection: str
    rows: int
    action: str
    masks: tuple[FieldAction, ...]
    legal_basis: str | None
    retain_until: str | None
    # Rows no change can single out (no primary key, no value they were found by): not erased.
    cannot_erase: int = 0
    # Without a primary key, the fields rows are changed by (the values that found them).
    changed_by: tuple[str, ...] = ()
    # Set when no API call can make the change: the system's owner does it in a manual task
    # (rights/tasks.py). Says why; `rows` is then what the API found (0 for a system with none).
    by_task: str | None = None


def apply_policy(session: Session, *, text: str, actor: Actor, source: str = "policy") -> Policy:
    """Validate and store a policy; it replaces the one for its request type."""
    require(actor, Permission.POLICIES_MANAGE)
    policy = parse_policy(text, source=source)
    row = session.get(RequestPolicy, policy.request_type) or RequestPolicy(
        request_type=policy.request_type
    )
    row.name, row.document = policy.name, text
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="policy.applied",
        subject_type="policy",
        subject_id=policy.request_type,
        detail={"name": policy.name},
    )
    return policy


def current_policy(session: Session, request_type: str) -> Policy:
    """The stored policy for a request type, or NotFoundError saying how to add one."""
    row = session.get(RequestPolicy, request_type)
    if row is None:
        raise NotFoundError(
            f"There is no {request_type} policy yet: apply one with `rightful rights policy FILE`."
        )
    return _parsed(row.document, f"stored {request_type} policy")


@lru_cache(maxsize=8)
def _parsed(document: str, source: str) -> Policy:
    # Keyed by the stored YAML itself, so a policy applied since is parsed afresh. Every batch
    # of deletions asks; parsing the YAML was a tenth of a small batch's CPU. Callers only read
    # the `Policy` it returns (the same object for the same text).
    return parse_policy(document, source=source)


def preview(
    session: Session, settings: Settings, *, request_id: str, actor: Actor
) -> list[CollectionPreview]:
    """Per system and collection: rows to delete, fields to mask, rows kept and why. Reads only;
    counts, never values."""
    require(actor, Permission.REQUESTS_PREPARE)
    req = service.access_request(session, request_id)
    if req.request_type != RequestType.DELETE.value:
        raise ConflictError("Only deletion requests have an erasure preview.")
    if req.verification_level < req.required_level:
        raise ConflictError("The person's identity is not verified yet; nothing can be previewed.")
    policy = current_policy(session, RequestType.DELETE.value)
    data_map = load_map(session)
    identities = service.identities_of(settings, req)
    every = build_plan(
        data_map.datasets, system_of=data_map.every_system_of, identity_types=["email"]
    )
    steps = build_plan(data_map.datasets, system_of=data_map.system_of, identity_types=["email"])
    with Connectors(settings, data_map.systems) as connectors:
        found = traverse(steps, {"email": identities["email"]}, connectors)
        refused = api_refusals(steps, policy, connectors)
    today = laws.local_date(req.received_at, req.jurisdiction)
    names = {k: s.name for k, s in data_map.system_by_dataset.items()}
    out = []
    for step in every:
        decision = decide(step.collection, policy, today)
        rows = found.get(step.address, [])
        system = data_map.systems[step.system]
        by_task = refused.get(step.address)
        if system.by_hand:
            by_task = f"No API: by a manual task for {system.owner or 'the privacy office'}."
        elif by_task:
            by_task = f"By a manual task: {by_task}"
        _, item = plan_collection(step, rows, decision, secret="", tag="", retain_until=None)
        out.append(
            CollectionPreview(
                system=names.get(step.collection.dataset, step.collection.dataset),
                collection=step.collection.name,
                rows=len(rows),
                action=decision.action,
                masks=decision.masks,
                legal_basis=decision.legal_basis,
                retain_until=decision.retain_until.isoformat() if decision.retain_until else None,
                cannot_erase=0 if by_task else item["unlocatable"],
                changed_by=()
                if key_fields(step.collection) or by_task
                else locating_fields(step.collection, step.found_by),
                by_task=by_task,
            )
        )
    return out
