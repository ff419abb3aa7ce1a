"""Plain, frozen views of fideslang datasets that planning and connectors work on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reference:
    """A field's link to a field elsewhere; `direction` as fideslang has it."""

    dataset: str
    collection: str
    field: str
    direction: str | None


@dataclass(frozen=True)
class FieldSpec:
    """One annotated field, maybe with nested fields."""

    name: str
    data_categories: tuple[str, ...] = ()
    identity: str | None = None
    primary_key: bool = False
    data_type: str | None = None
    length: int | None = None
    references: tuple[Reference, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    description: str = ""
    masking_override: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    # Rightful's `rightful:` keys: how the readable page of an access package shows the field.
    label: str = ""
    hidden: bool = False
    currency: str | None = None
    values: dict[str, str] | None = field(default=None, compare=False, hash=False)
    # How the value is kept where the name does not say: hashed, tokenised, truncated, ...
    stored_as: str | None = None

    @property
    def readable_name(self) -> str:
        """What a person calls this field: its label, else its description, else its name."""
        if self.label:
            return self.label
        if self.description:
            return self.description.rstrip(".")
        return self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class CollectionSpec:
    """A table (or document collection) and its fields."""

    dataset: str
    name: str
    fields: tuple[FieldSpec, ...]
    description: str = ""
    date_field: str | None = None
    skip_processing: bool = False
    erase_strategy: str | None = None
    # Rows are events (visits, sign-ins, messages): a request's period limits them in a package.
    events: bool = False
    # How the readable page of an access package shows the collection.
    label: str = ""
    record: str = ""  # each row's heading, e.g. "Order placed {placed_at}"
    within: str | None = None  # address of the collection whose rows hold these rows
    position: int | None = None  # place among the page's sections

    @property
    def address(self) -> str:
        """`dataset:collection`, the collection's name across the data map."""
        return f"{self.dataset}:{self.name}"

    def field(self, name: str) -> FieldSpec | None:
        """The top-level field called `name`."""
        return next((f for f in self.fields if f.name == name), None)

    def walk(self) -> Iterator[tuple[str, FieldSpec]]:
        """Every field with its dotted path, nested ones included."""
        stack: list[tuple[str, FieldSpec]] = [(f.name, f) for f in self.fields]
        while stack:
            path, spec = stack.pop(0)
            yield path, spec
            stack.extend((f"{path}.{sub.name}", sub) for sub in spec.fields)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset with its collections."""

    key: str
    name: str
    collections: tuple[CollectionSpec, ...]
    description: str = ""
    source_file: str = ""
    document: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def _extension(raw: dict[str, Any]) -> dict[str, Any]:
    """Rightful's own `rightful:` keys beside fideslang's (checked by inventory validation)."""
    found = raw.get("rightful")
    return found if isinstance(found, dict) else {}


def _field(raw: dict[str, Any]) -> FieldSpec:
    meta = raw.get("fides_meta") or {}
    refs = tuple(
        Reference(
            dataset=str(ref.get("dataset", "")),
            collection=str(ref.get("field", "")).split(".", 1)[0],
            field=str(ref.get("field", "")).split(".", 1)[-1],
            direction=ref.get("direction"),
        )
        for ref in meta.get("references") or []
    )
    page = _extension(raw)
    words = page.get("values")
    return FieldSpec(
        name=str(raw["name"]),
        data_categories=tuple(raw.get("data_categories") or ()),
        identity=meta.get("identity"),
        primary_key=bool(meta.get("primary_key")),
        data_type=meta.get("data_type"),
        length=meta.get("length"),
        references=refs,
        fields=tuple(_field(sub) for sub in raw.get("fields") or ()),
        description=str(raw.get("description") or ""),
        masking_override=meta.get("masking_strategy_override"),
        label=str(page.get("label") or ""),
        hidden=bool(page.get("hidden")),
        currency=str(page["currency"]) if page.get("currency") else None,
        values={str(k): str(v) for k, v in words.items()} if isinstance(words, dict) else None,
        stored_as=str(page["stored_as"]) if page.get("stored_as") else None,
    )


def _address(dataset: str, name: str | None) -> str | None:
    """`orders` or `storefront.orders` as the address `storefront:orders`."""
    if not name:
        return None
    return str(name).replace(".", ":", 1) if "." in str(name) else f"{dataset}:{name}"


def dataset_from_document(doc: dict[str, Any], *, source_file: str = "") -> DatasetSpec:
    """Build the frozen view of one fideslang dataset dictionary (already validated)."""
    key = str(doc["fides_key"])
    collections = []
    for coll in doc.get("collections") or []:
        extension = _extension(coll)
        position = extension.get("position")
        meta = coll.get("fides_meta") or {}
        collections.append(
            CollectionSpec(
                dataset=key,
                name=str(coll["name"]),
                description=str(coll.get("description") or ""),
                fields=tuple(_field(f) for f in coll.get("fields") or ()),
                date_field=extension.get("date_field"),
                events=bool(extension.get("events")),
                label=str(extension.get("label") or ""),
                record=str(extension.get("record") or ""),
                within=_address(key, extension.get("within")),
                position=position if isinstance(position, int) else None,
                skip_processing=bool(meta.get("skip_processing")),
                erase_strategy=(meta.get("masking_strategy_override") or {}).get("strategy"),
            )
        )
    return DatasetSpec(
        key=key,
        name=str(doc.get("name") or key),
        description=str(doc.get("description") or ""),
        collections=tuple(collections),
        source_file=source_file,
        document=doc,
    )
