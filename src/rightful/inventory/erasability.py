"""What a deletion can and cannot do to each collection, said when the data map is applied.

Unknown masking strategies are refused with the field named. Collections without a primary key
are still erased, by the fields that find their rows; one that nothing can single out is named,
so staff learn it before a deletion request, not from a customer.
"""

from __future__ import annotations

from collections.abc import Iterable

from rightful.inventory.graph import edges, identity_fields
from rightful.inventory.keys import key_fields, locating_fields
from rightful.inventory.specs import CollectionSpec, DatasetSpec
from rightful.inventory.validation import Problem, problem
from rightful.security.masking import STRATEGIES


def check_overrides(datasets: Iterable[DatasetSpec]) -> list[Problem]:
    """Every field's `masking_strategy_override` names a strategy Rightful can carry out (a
    collection's, only `delete`, is checked by fideslang's own model)."""
    out: list[Problem] = []
    known = ", ".join(sorted(STRATEGIES))
    for ds in datasets:
        for coll in ds.collections:
            at = {"file": ds.source_file, "dataset": ds.key, "collection": coll.name}
            for path, spec in coll.walk():
                strategy = (spec.masking_override or {}).get("strategy")
                if spec.masking_override is not None and strategy not in STRATEGIES:
                    out.append(
                        problem(
                            f"unknown masking strategy '{strategy}'; use one of {known}",
                            **at,
                            field=path,
                        )
                    )
    return out


def finding_fields(coll: CollectionSpec, datasets: Iterable[DatasetSpec]) -> list[str]:
    """Fields a request can find this collection's rows by: identities and incoming references."""
    found = [path for path, _ in identity_fields(coll)]
    found += [e.target_field for e in edges(datasets) if e.target == coll.address]
    return list(dict.fromkeys(found))


def erasure_notes(datasets: Iterable[DatasetSpec]) -> list[str]:
    """One line per personal collection without a primary key: how its rows are erased, or
    that they cannot be."""
    datasets = list(datasets)
    notes = []
    for ds in datasets:
        for coll in ds.collections:
            personal = any(c.startswith("user") for _, f in coll.walk() for c in f.data_categories)
            if coll.skip_processing or not personal or key_fields(coll):
                continue
            by = locating_fields(coll, finding_fields(coll, datasets))
            name = f"{ds.key}.{coll.name}"
            if by:
                notes.append(
                    f"{name} has no primary key: a deletion changes its rows by {', '.join(by)}, "
                    "the values that found them."
                )
            else:
                notes.append(
                    f"{name} cannot be erased row by row: it has no primary key and no top-level "
                    "field its rows are found by. Deletions will report it as not erased; mark "
                    "its key with fides_meta.primary_key."
                )
    return notes
