"""The keyed index of DROP hashes over the company's own records (docs/decisions/0016).

For every collection the data map annotates with identifiers DROP lists (e-mail, phone, the
parts of name + date of birth + ZIP, and so on), each row's DROP hashes are computed once, with
the one set of rules in drop/hashing.py, and kept beside where the row is (system, collection,
key). Matching a list is then one join in Rightful's own store, whatever the store holding the
row (SQLite, PostgreSQL, MariaDB). drop/refresh.py keeps it current: built once, then
refreshed before each match by rewriting only the buckets whose rows changed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from rightful.connectors.base import Row
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.drop.hashing import LIST_FIELDS, STANDARDISE, ListType, list_hash, sha256_base64
from rightful.inventory.keys import key_fields
from rightful.inventory.revision import load_map
from rightful.inventory.specs import CollectionSpec
from rightful.inventory.stores import Connectors

# Data category (or identity type) -> the DROP field it holds. The last three are custom
# categories (fideslang has none for them): docs/drop.md says how to annotate them.
CATEGORY_FIELDS: dict[str, str] = {
    "user.contact.email": "email",
    "user.contact.phone_number": "phone",
    "user.name.first": "first_name",
    "user.name.last": "last_name",
    "user.demographic.date_of_birth": "dob",
    "user.contact.address.postal_code": "zip",
    "user.device.advertising_id": "maid",
    "user.device.connected_tv_id": "ctvid",
    "user.vehicle.vin": "vin",
}
IDENTITY_FIELDS = {"email": "email", "phone_number": "phone"}
CHUNK = 10_000


class Scanner(Protocol):
    """A connector that can read a whole collection (SQL stores: connectors/sql.py)."""

    def scan(
        self, collection: str, fields: tuple[str, ...], batch: int = ...
    ) -> Iterator[list[Row]]:
        """Every row's fields, in batches."""


@dataclass(frozen=True)
class Indexable:
    """A collection whose rows carry DROP identifiers: which field is which, and its key."""

    system: str
    collection: CollectionSpec
    key: str
    drop_fields: dict[str, str]  # DROP field -> column

    @property
    def lists(self) -> list[ListType]:
        """The lists whose every field this collection holds."""
        return [t for t, need in LIST_FIELDS.items() if set(need) <= set(self.drop_fields)]


def drop_fields(coll: CollectionSpec) -> dict[str, str]:
    """DROP field -> top-level column, from identity types and data categories."""
    found: dict[str, str] = {}
    for spec in coll.fields:
        kinds = [IDENTITY_FIELDS[spec.identity]] if spec.identity in IDENTITY_FIELDS else []
        for category in spec.data_categories:
            kinds += [f for c, f in CATEGORY_FIELDS.items() if category.startswith(c)]
        for kind in kinds:
            found.setdefault(kind, spec.name)
    return found


@dataclass(frozen=True)
class Coverage:
    """What the index covers: collections indexed, and those DROP lists reach but it cannot."""

    indexed: list[Indexable]
    skipped: list[tuple[str, str]]  # (address, why)


def coverage(session: Session, settings: Settings) -> Coverage:
    """The collections the index reads, and why any others holding identifiers are left out."""
    data_map = load_map(session)
    indexed, skipped = [], []
    with Connectors(settings, data_map.systems) as connectors:
        for dataset in data_map.datasets:
            system = data_map.system_of.get(dataset.key)
            for coll in dataset.collections:
                fields = drop_fields(coll)
                keys = key_fields(coll)
                item = Indexable(system or "", coll, keys[0] if keys else "", fields)
                if not item.lists or coll.skip_processing:
                    continue
                if system is None or data_map.systems[system].by_hand:
                    skipped.append((coll.address, "handled by hand"))
                elif len(keys) != 1:
                    skipped.append((coll.address, "no single-field primary key"))
                elif not hasattr(connectors(system), "scan"):
                    skipped.append((coll.address, "its connector cannot read a whole collection"))
                else:
                    indexed.append(item)
    return Coverage(indexed, skipped)


def _value(raw: Any) -> Any:
    return raw if raw is None or hasattr(raw, "strftime") else str(raw)


def _entries(item: Indexable, rows: list[Row]) -> Iterator[dict[str, Any]]:
    """Each row's DROP hashes: single-field lists straight from the column, composites whole."""
    single = [
        (t.value, STANDARDISE[LIST_FIELDS[t][0]], item.drop_fields[LIST_FIELDS[t][0]])
        for t in item.lists
        if len(LIST_FIELDS[t]) == 1
    ]
    composite = [t for t in item.lists if len(LIST_FIELDS[t]) > 1]
    system, address = item.system, item.collection.address
    for row in rows:
        key = str(row[item.key])
        for list_type, standardise, column in single:
            raw = row.get(column)
            standard = standardise(_value(raw)) if raw is not None else ""
            if standard:
                yield {
                    "list_type": list_type,
                    "hash": sha256_base64(standard),
                    "system": system,
                    "address": address,
                    "row_key": key,
                }
        for list_type in composite:
            values = {f: _value(row.get(c)) for f, c in item.drop_fields.items()}
            try:
                value = list_hash(list_type, values)
            except InvalidInputError:  # a malformed date of birth cannot match anything
                value = None
            if value is not None:
                yield {
                    "list_type": list_type.value,
                    "hash": value,
                    "system": system,
                    "address": address,
                    "row_key": key,
                }


def fine_bucket(value: str) -> int:
    """The bucket (0..65535) an entry belongs to: the first two bytes of its hash, which
    SHA-256 spreads evenly, so a refresh compares and rewrites the index a bucket at a time."""
    return int.from_bytes(base64.b64decode(value)[:2], "big")


@dataclass
class Scan:
    """How many rows one read of a collection saw."""

    rows: int = 0


def collection_entries(
    scanner: Scanner, item: Indexable, scan: Scan
) -> Iterator[list[dict[str, Any]]]:
    """A collection's index entries in chunks, each with its bucket. One entry per e-mail hash
    and collection is enough: the same address is the same
    person to the request path, which finds the other rows; it is the row with the smallest
    key, so two reads of the same rows give the same entries. Other identifiers (a household's
    phone) can be several people's, so every row is kept."""
    columns = tuple(dict.fromkeys([item.key, *item.drop_fields.values()]))
    email = ListType.EMAIL.value
    first: dict[str, str] = {}  # e-mail hash -> smallest row key
    for rows in scanner.scan(item.collection.name, columns, CHUNK):
        scan.rows += len(rows)
        batch = []
        for entry in _entries(item, rows):
            if entry["list_type"] == email:
                known = first.get(entry["hash"])
                if known is None or entry["row_key"] < known:
                    first[entry["hash"]] = entry["row_key"]
                continue
            batch.append({**entry, "bucket": fine_bucket(entry["hash"])})
        if batch:
            yield batch
    emails = [
        {
            "list_type": email,
            "hash": value,
            "system": item.system,
            "address": item.collection.address,
            "row_key": key,
            "bucket": fine_bucket(value),
        }
        for value, key in first.items()
    ]
    for start in range(0, len(emails), CHUNK):
        yield emails[start : start + CHUNK]
