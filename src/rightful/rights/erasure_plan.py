"""Erasure planning, pure: from one collection's rows and the policy's decision, the changes to
make and the line of the record that will say what they did.

Each change finds its row by `inventory.keys.locate`: the primary key, or without one the values
the row was found by (plus, for an update, the current values of the fields it changes). A row
nothing can single out gets no change and is counted as not erased, never reported as done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rightful.connectors.base import Connector, Row, RowChange, Where, change_refusal
from rightful.core.clock import utcnow
from rightful.inventory.keys import key_fields, locate
from rightful.rights.planning import Step
from rightful.rights.policy import CollectionDecision, Policy, decide
from rightful.security.masking import mask_value


def _masked(decision: CollectionDecision, row: Row, secret: str) -> dict[str, Any]:
    """The fields whose masked value differs from what the row holds (the rest need nothing)."""
    out = {}
    for m in decision.masks:
        new = mask_value(
            m.strategy or "null_rewrite", row.get(m.name), config=m.configuration, secret=secret
        )
        if new != row.get(m.name):
            out[m.name] = new
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
) -> tuple[list[RowChange], dict[str, Any]]:
    """The changes for one person's rows of one collection, and the record's line for them."""
    coll = step.collection
    by = step.found_by
    changes: list[RowChange] = []
    kept: list[list[list[Any]]] = []
    unlocatable = 0
    for row in rows:
        values: dict[str, Any] | None = None
        if decision.action in ("mask_fields", "retain_rows"):
            values = _masked(decision, row, secret)
        if decision.action == "retain_rows":
            kept.append([list(pair) for pair in _kept_where(step, {**row, **(values or {})})])
        if decision.action == "nothing" or (values is not None and not values):
            continue
        where = locate(coll, row, found_by=by, changing=values or ())
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
