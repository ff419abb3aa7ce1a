"""Give a system's fideslang dataset the inputs its HTTP config's requests are found by.

In the peer's format a config's `param_values` say where a request's inputs come from (an
identity, a field of another collection); Rightful's planner reads that from the dataset. So
each input becomes a field of the collection, marked with its identity or its reference, and
the connector returns each row with the value that found it in that field.
"""

from __future__ import annotations

import copy
from typing import Any

from rightful.connectors.http.config import HTTPConfig

INSTANCE = "<instance_fides_key>"
_SYNTHETIC = ["system.operations"]


def _field(collection: dict[str, Any], name: str) -> dict[str, Any]:
    fields = collection.setdefault("fields", [])
    found = next((f for f in fields if f.get("name") == name), None)
    if found is None:
        found = {"name": name, "data_categories": list(_SYNTHETIC)}
        fields.append(found)
    return found


def complete_dataset(config: HTTPConfig, dataset: dict[str, Any]) -> dict[str, Any]:
    """A copy of the dataset (a fideslang `dataset` entry) with every read input declared.

    An identity input marks the collection's field named like the identity (`email`) when it
    has one, else a field named like the input; a reference input from another collection
    becomes a field named like the input referencing that collection's field. Fields that
    already declare an identity or references are left as they are.
    """
    out = copy.deepcopy(dataset)
    key = str(out.get("fides_key") or config.fides_key)
    by_name = {c.get("name"): c for c in out.setdefault("collections", [])}
    for endpoint in config.endpoints:
        collection = by_name.get(endpoint.name)
        if collection is None:
            collection = {"name": endpoint.name, "fields": []}
            out["collections"].append(collection)
            by_name[endpoint.name] = collection
        for request in endpoint.requests.reads:
            for param in request.param_values:
                if param.identity:
                    names = {f.get("name") for f in collection.get("fields", [])}
                    name = param.identity if param.identity in names else param.name
                    meta = _field(collection, name).setdefault("fides_meta", {}) or {}
                    if not meta.get("identity") and not meta.get("references"):
                        meta["identity"] = param.identity
                    _field(collection, name)["fides_meta"] = meta
                for ref in param.references or []:
                    if ref.collection == endpoint.name:
                        continue  # found by its own field: no edge to draw
                    field = _field(collection, param.name)
                    meta = field.setdefault("fides_meta", {}) or {}
                    if not meta.get("identity") and not meta.get("references"):
                        dataset_key = (
                            key if ref.dataset in (INSTANCE, config.fides_key) else ref.dataset
                        )
                        meta["references"] = [
                            {"dataset": dataset_key, "field": ref.field, "direction": "from"}
                        ]
                    field["fides_meta"] = meta
    return out
