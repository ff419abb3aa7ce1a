"""Correction: the person names what is wrong and the right value; staff review what would
change; `correction_run` applies it.

The detail being corrected never counts towards verifying the person: someone who knows only
the wrong value on file must not be helped by it, nor someone who knows only the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from rightful.connectors.base import Row, Where
from rightful.core.config import Settings
from rightful.core.errors import ConflictError
from rightful.inventory.keys import locate
from rightful.inventory.revision import DataMap, load_map
from rightful.inventory.specs import CollectionSpec
from rightful.inventory.stores import Connectors
from rightful.rights import service
from rightful.rights.correction_values import CORRECTABLE, Correctable, new_value
from rightful.rights.planning import Step, build_plan, traverse
from rightful.rights.types import RequestType


@dataclass(frozen=True)
class FieldCorrection:
    """One field in one row, from its current value to the corrected one."""

    system: str
    collection: str
    field: str
    # How the store finds the row: its key, or the value that found it and the current value.
    where: Where
    current: Any
    corrected: Any


def _fields(coll: CollectionSpec, item: Correctable) -> list[tuple[str, str]]:
    return [
        (spec.name, cat)
        for spec in coll.fields
        for cat in spec.data_categories
        if any(cat == c or cat.startswith(c + ".") for c in item.categories)
    ]


def planned_changes(
    steps: list[Step], found: Mapping[str, list[Row]], identities: Mapping[str, str]
) -> list[FieldCorrection]:
    """What would change in the rows found (pure): each field of the item's categories whose
    value differs from the corrected one, in a row the store can find again."""
    item = CORRECTABLE[identities["correction_item"]]
    out = []
    for step in steps:
        by = step.found_by
        for name, category in _fields(step.collection, item):
            new = new_value(item.key, identities["correction_value"], category)
            for row in found.get(step.address, []):
                where = locate(step.collection, row, found_by=by, changing=[name])
                if row.get(name) != new and where is not None:
                    out.append(
                        FieldCorrection(
                            step.system, step.collection.name, name, where, row.get(name), new
                        )
                    )
    return out


def correction_plan(data_map: DataMap) -> list[Step]:
    """The reads of a correction: an access request's (found by the verified e-mail only)."""
    return build_plan(data_map.datasets, system_of=data_map.system_of, identity_types=["email"])


def plan_correction(
    session: Session, settings: Settings, *, request_id: str
) -> list[FieldCorrection]:
    """What would change, read from the stores (reads only): what staff review."""
    req = service.access_request(session, request_id)
    if req.request_type != RequestType.CORRECT.value:
        raise ConflictError("Only correction requests have a correction to review.")
    if req.verification_level < req.required_level:
        raise ConflictError("The person's identity is not verified yet.")
    identities = service.identities_of(settings, req)
    data_map = load_map(session)
    steps = correction_plan(data_map)
    with Connectors(settings, data_map.systems) as connectors:
        found: dict[str, list[Row]] = traverse(steps, {"email": identities["email"]}, connectors)
    return planned_changes(steps, found, identities)
