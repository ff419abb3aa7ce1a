"""Erasure planning, pure: from one collection's rows and the policy's decision, the changes to
make and the line of the record that will say what they did.

Each change finds its row by `inventory.keys.locate`: the primary key, or without one the values
the row was found by (plus, for an update, the current values of the fields it changes). A row
nothing can single out gets no change and is counted as not erased, never reported as done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from rightful.connectors.base import (
    Connector,
    Row,
    RowChange,
    Where,
    change_refusal,
    sets_members,
)
from rightful.core.clock import utcnow
from rightful.inventory.keys import key_fields, locate
from rightful.inventory.specs import CollectionSpec, FieldSpec
from rightful.rights.planning import Step
from rightful.rights.policy import CollectionDecision, Policy, decide
from rightful.security.masking import mask_value


def _members(spec: FieldSpec, value: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """The declared members of an object, by dotted path, with what the row holds there."""
    for sub in spec.fields:
        held = value.get(sub.name)
        if sub.fields and isinstance(held, Mapping):
            yield from _members(sub, held, f"{path}.{sub.name}")
        else:
            yield f"{path}.{sub.name}", held


def _masked(
    decision: CollectionDecision,
    row: Row,
    secret: str,
    members: CollectionSpec | None = None,
) -> dict[str, Any]:
    """The fields whose masked value differs from what the row holds (the rest need nothing).

    With `members` (the collection, for a store that sets an object's members one by one, as
    an API's `properties` are), a field holding an object is masked member by member: each
    member its dataset declares, by its dotted path (`properties.email`); members it does not
    declare are left as they are."""
    out = {}
    for m in decision.masks:
        spec = members.field(m.name) if members is not None else None
        held = row.get(m.name)
        if spec is not None and spec.fields and isinstance(held, Mapping):
            pairs = list(_members(spec, held, m.name))
        else:
            pairs = [(m.name, held)]
        for name, value in pairs:
            new = mask_value(
                m.strategy or "null_rewrite", value, config=m.configuration, secret=secret
            )
            if new != value:
                out[name] = new
    return out


def with_values(row: Row, values: Mapping[str, Any]) -> Row:
    """The row as it will be once `values` are set, dotted names setting nested members.

    `row` is left as it was: only the objects on a dotted name's path are copied, the rest is
    shared with it (this runs for every retained row; a deep copy of each was most of it)."""
    out = dict(row)
    copied: set[int] = {id(out)}
    for name, value in values.items():
        *parents, last = name.split(".")
        node = out
        for part in parents:
            held = node.get(part)
            if not isinstance(held, dict):
                held = {}
            elif id(held) not in copied:
                held = dict(held)
            copied.add(id(held))
            node[part] = held
            node = held
        node[last] = value
    return out


def _kept_where(step: Step, row: Row) -> Where:
    """How a kept row is found again when its period ends, after its masking: by its key, else
    by every value it then holds."""
    keys = key_fields(step.collection)
    names = keys or tuple(f.name for f in step.collection.fields)
    return tuple((n, row.get(n)) for n in names)


def plan_collection(
    step: Step,
    rows: list[Row],
    decision: CollectionDecision,
    *,
    secret: str,
    tag: str,
    retain_until: str | None,
    members: bool = False,
) -> tuple[list[RowChange], dict[str, Any]]:
    """The changes for one person's rows of one collection, and the record's line for them.

    `members`: the store sets an object's members one by one (see `_masked`)."""
    coll = step.collection
    by = step.found_by
    changes: list[RowChange] = []
    kept: list[list[list[Any]]] = []
    unlocatable = 0
    for row in rows:
        values: dict[str, Any] | None = None
        if decision.action in ("mask_fields", "retain_rows"):
            values = _masked(decision, row, secret, coll if members else None)
        if decision.action == "retain_rows":
            kept.append([list(pair) for pair in _kept_where(step, with_values(row, values or {}))])
        if decision.action == "nothing" or (values is not None and not values):
            continue
        changing = dict.fromkeys(name.split(".")[0] for name in values or ())
        where = locate(coll, row, found_by=by, changing=changing)
        if where is None:
            unlocatable += 1
            continue
        changes.append(RowChange(coll.name, where, values, tag))
    item = {
        "collection": coll.name,
        "rows": len(rows),
        "action": decision.action,
        "fields": [m.name for m in decision.masks],
        "legal_basis": decision.legal_basis,
        "retain_until": retain_until,
        "planned": len(changes),
        "unlocatable": unlocatable,
        # Filled in from what the store reports when the changes are made.
        "changed": None,
        # Rows kept (no longer tied to the person), found again to destroy them when their
        # period ends, as the completion e-mail promises.
        "retained": kept if decision.action == "retain_rows" else [],
    }
    return changes, item


def done_lines(report: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The lines of a system's record that say something happened: rows the store changed, or
    rows kept for a stated period. Collections where nothing changed say nothing."""
    out = []
    for item in report:
        if item.get("by_task"):  # a manual task's, reported from what its owner confirmed
            continue
        changed = item.get("changed")
        if changed is None and "planned" not in item:  # recorded before 0.2: by rows found
            changed = item["rows"] if item["action"] != "nothing" and item.get("fields") else 0
        if item["action"] == "retain_rows" and item["rows"]:
            out.append({**item, "changed": changed or 0})
        elif item["action"] in ("delete_rows", "mask_fields") and changed:
            out.append({**item, "changed": changed})
    return out


def api_refusals(
    steps: list[Step], policy: Policy, connectors: Callable[[str], Connector]
) -> dict[str, str]:
    """Collections whose store cannot make the change the policy asks (an API without a delete
    or update call), with why: they go to a manual task, never reported as done."""
    out = {}
    for step in steps:
        decision = decide(step.collection, policy, utcnow().date())
        if decision.action == "nothing" or (
            decision.action == "retain_rows" and not decision.masks
        ):
            continue
        masking = decision.action != "delete_rows"
        reason = change_refusal(connectors(step.system), step.collection.name, masking=masking)
        if reason:
            out[step.address] = reason
    return out


def member_systems(steps: list[Step], connectors: Callable[[str], Connector]) -> set[str]:
    """Systems holding objects (fields with declared members) whose stores set those members one
    by one: masking an object there changes its members (see `_masked`)."""
    return {
        step.system
        for step in steps
        if any(f.fields for f in step.collection.fields) and sets_members(connectors(step.system))
    }
