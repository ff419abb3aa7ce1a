"""The systems told of every consent change: signed webhooks, or a field in a connected store.

Destinations are declared in the consent catalogue file, next to `purposes:`, and applied with
it. A file without a `destinations:` section leaves destinations as they are; a file with one
is the whole list, so a destination left out is switched off (never deleted: its deliveries
are the record of what was sent).
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.consent import catalog
from rightful.consent.catalog import Channel, State
from rightful.consent.models import (
    ConsentDelivery,
    ConsentDestination,
    ConsentPurpose,
    ConsentStoreImport,
)
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.core.urls import webhook_problem
from rightful.inventory.revision import load_map
from rightful.inventory.specs import CollectionSpec
from rightful.security import audit
from rightful.security.vault import keyed_hash

EVERY_ROW = "*"  # a purpose mapped to this covers every row of the person (e.g. all marketing)
OPEN_STATUSES = ("pending", "overdue", "failed")
StoredValue = str | int | bool


class StoreTarget(BaseModel):
    """Where a store destination keeps a person's choices: one field in their rows."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(min_length=1)
    collection: str = Field(min_length=1)
    identity_field: str = Field(default="email", description="Holds the person's e-mail.")
    channel: Channel = Field(default=Channel.EMAIL, description="Whose choices the rows hold.")
    match: dict[str, dict[str, str]] = Field(
        description="One field and the value each purpose has in it; '*' means every row."
    )
    field: str = Field(min_length=1, description="The field that records the choice.")
    values: dict[State, StoredValue] = Field(
        description="What the field holds for each state; without `given`, only opt-outs go in."
    )
    also: dict[str, StoredValue] = Field(
        default_factory=dict, description="Fields set to a constant with every change."
    )
    stamp_field: str | None = Field(default=None, description="Set to the time of the change.")

    @model_validator(mode="after")
    def _one_match_field(self) -> StoreTarget:
        if len(self.match) != 1:
            raise ValueError("`match` names exactly one field, mapping purposes to its values")
        if not self.purpose_values:
            raise ValueError("`match` maps at least one purpose")
        if list(self.purpose_values.values()).count(EVERY_ROW) > 1:
            raise ValueError("only one purpose may cover every row ('*')")
        if State.WITHDRAWN not in self.values:
            raise ValueError("`values` must say what a withdrawn choice is stored as")
        return self

    @property
    def match_field(self) -> str:
        """The field whose value tells which purpose a row is about (e.g. `topic`)."""
        return next(iter(self.match))

    @property
    def purpose_values(self) -> dict[str, str]:
        """Purpose → the match field's value in its rows (or '*')."""
        return next(iter(self.match.values()))

    def fields(self) -> list[str]:
        """Every field of the collection this target reads or writes."""
        stamp = [self.stamp_field] if self.stamp_field else []
        return [self.identity_field, self.match_field, self.field, *self.also, *stamp]


class DestinationSpec(BaseModel):
    """One destination in a catalogue file."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)
    name: str = Field(min_length=2, max_length=200)
    kind: Literal["webhook", "store"]
    url: str | None = Field(default=None, max_length=500)
    purposes: list[str] = Field(default_factory=list, description="Empty: every purpose.")
    channels: list[Channel] = Field(default_factory=list, description="Empty: every channel.")
    include_email: bool = Field(
        default=True, description="Webhooks: send the person's address, or only their ids."
    )
    target: StoreTarget | None = None
    active: bool = True

    @model_validator(mode="after")
    def _fits_kind(self) -> DestinationSpec:
        if self.kind == "webhook":
            parts = urlsplit(self.url or "")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("a webhook needs `url`, an http(s) address")
            if self.target is not None:
                raise ValueError("a webhook has no `target`; that is for stores")
        else:
            if self.target is None:
                raise ValueError("a store destination needs `target`")
            if self.url or self.purposes or self.channels:
                raise ValueError(
                    "a store destination takes no `url`, `purposes` or `channels`: "
                    "they come from `target` (its `match` and `channel`)"
                )
        return self


class _DestinationsFile(BaseModel):
    destinations: list[DestinationSpec]


def _problems(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]


def parse_destinations(text: str, *, name: str = "consent.yml") -> list[DestinationSpec] | None:
    """The `destinations:` of a catalogue file, or None when it has no such section."""
    import yaml  # when first used: the server's start does not wait for it

    try:
        raw: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        message = f"{name} is not valid YAML: {exc}"
        raise InvalidInputError(message, errors=[{"field": "file", "message": message}]) from exc
    if not isinstance(raw, dict) or "destinations" not in raw:
        return None
    try:
        specs = _DestinationsFile.model_validate({"destinations": raw["destinations"] or []})
    except ValidationError as exc:
        raise InvalidInputError(f"{name} has problems.", errors=_problems(exc)) from exc
    keys = [d.key for d in specs.destinations]
    if len(keys) != len(set(keys)):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        message = f"Destination keys must be unique; repeated: {', '.join(twice)}."
        raise InvalidInputError(message, errors=[{"field": "destinations", "message": message}])
    return specs.destinations


def target_collection(session: Session, target: StoreTarget) -> CollectionSpec | str:
    """The target's collection in the data map, or why it cannot be used."""
    data_map = load_map(session)
    system = data_map.systems.get(target.system)
    if system is None:
        return f"there is no system '{target.system}' in the data map"
    found = [
        c
        for d in data_map.datasets
        if d.key in system.dataset_keys
        for c in d.collections
        if c.name == target.collection
    ]
    if not found:
        return f"system '{target.system}' has no collection '{target.collection}'"
    coll = found[0]
    names = {f.name for f in coll.fields}
    missing = sorted(set(target.fields()) - names)
    if missing:
        return f"{target.collection} has no field(s) {', '.join(missing)}"
    return coll  # with or without a primary key: inventory.keys finds the rows either way


def _check_purposes(
    known: dict[str, ConsentPurpose], purposes: list[str], channel: str | None
) -> str | None:
    unknown = [p for p in purposes if p not in known]
    if unknown:
        return f"no such purpose(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
    if channel is not None:
        off = [p for p in purposes if channel not in known[p].channels]
        if off:
            return f"purpose(s) {', '.join(off)} are not offered on '{channel}'"
    return None


def _problem(session: Session, index: int, spec: DestinationSpec) -> dict[str, str] | None:
    """What is wrong with a destination given the data map and purposes, if anything."""
    known = {p.key: p for p in catalog.purposes(session)}
    where = f"destinations.{index}"
    if spec.target is None:
        problem = _check_purposes(known, spec.purposes, None)
        return {"field": f"{where}.purposes", "message": problem} if problem else None
    coll = target_collection(session, spec.target)
    if isinstance(coll, str):
        return {"field": f"{where}.target", "message": coll}
    mapped = list(spec.target.purpose_values)
    problem = _check_purposes(known, mapped, spec.target.channel.value)
    return {"field": f"{where}.target.match", "message": problem} if problem else None


def _row_values(session: Session, spec: DestinationSpec) -> tuple[list[str], dict[str, Any]]:
    """The `purposes` filter and the `target` JSON kept on the row."""
    if spec.target is None:
        channels = [c.value for c in spec.channels]
        return list(spec.purposes), {"channels": channels, "include_email": spec.include_email}
    purposes = set(spec.target.purpose_values)
    kinds = {p.key: p.kind for p in catalog.purposes(session)}
    if any(kinds.get(p) == "marketing" for p in purposes):
        # "No marketing at all" overrides each topic, so the store must hear of it too.
        purposes.add(catalog.ALL_MARKETING)
    target = spec.target.model_dump(mode="json")
    return sorted(purposes), {**target, "channels": [spec.target.channel.value]}


def _cancel_open(session: Session, keys: list[str]) -> None:
    # Changes still on their way to a destination that was switched off will never arrive.
    if keys:
        session.execute(
            update(ConsentDelivery)
            .where(
                ConsentDelivery.destination_key.in_(keys),
                ConsentDelivery.status.in_(OPEN_STATUSES),
            )
            .values(status="cancelled", last_error="destination switched off")
            .execution_options(synchronize_session=False)
        )


def _import_soon(session: Session, key: str) -> None:
    """Have the worker read what the store already holds into the ledger at its next pass
    (consent/store_import.py)."""
    session.flush()  # the destination row first: the schedule refers to it
    row = session.get(ConsentStoreImport, key) or ConsentStoreImport(
        destination_key=key, rows_read=0, imported=0, kept=0
    )
    row.next_run_at = utcnow()
    session.add(row)


def apply_destinations(
    session: Session,
    specs: list[DestinationSpec],
    *,
    actor: str = "system",
    http_webhooks: bool = False,
) -> list[ConsentDestination]:
    """Add or update destinations; those not listed are switched off (flushes only).

    Webhooks must be https unless `http_webhooks` (demo mode, RIGHTFUL_ALLOW_HTTP_WEBHOOKS)."""
    problems = [p for i, spec in enumerate(specs) if (p := _problem(session, i, spec))]
    problems += [
        {"field": f"destinations.{i}.url", "message": f"destination '{spec.key}': url {why}"}
        for i, spec in enumerate(specs)
        if spec.url and (why := webhook_problem(spec.url, allow_http=http_webhooks))
    ]
    if problems:
        raise InvalidInputError("Some destinations cannot be used.", errors=problems)
    for spec in specs:
        row = session.get(ConsentDestination, spec.key) or ConsentDestination(key=spec.key)
        before = (row.target, row.active)
        row.name, row.kind, row.url, row.active = spec.name, spec.kind, spec.url, spec.active
        row.purposes, row.target = _row_values(session, spec)
        session.add(row)
        if spec.kind == "store" and spec.active and before != (row.target, True):
            _import_soon(session, spec.key)  # added, pointed elsewhere, or switched back on
    listed = {s.key for s in specs}
    off = [d for d in list_destinations(session) if d.key not in listed and d.active]
    for row in off:
        row.active = False
    session.flush()
    _cancel_open(session, [d.key for d in off] + [s.key for s in specs if not s.active])
    audit.record(
        session,
        actor=actor,
        action="consent.destinations_applied",
        subject_type="consent_destinations",
        subject_id="all",
        detail={"applied": sorted(listed), "switched_off": sorted(d.key for d in off)},
    )
    return list_destinations(session)


def apply_from_file(
    session: Session,
    text: str,
    *,
    name: str = "consent.yml",
    actor: str = "system",
    http_webhooks: bool = False,
) -> list[ConsentDestination] | None:
    """Apply a catalogue file's `destinations:`; None (and no change) when it has none."""
    specs = parse_destinations(text, name=name)
    if specs is None:
        return None
    return apply_destinations(session, specs, actor=actor, http_webhooks=http_webhooks)


def list_destinations(session: Session) -> list[ConsentDestination]:
    """Every destination, switched off ones included, by key."""
    return list(session.scalars(select(ConsentDestination).order_by(ConsentDestination.key)))


def destination_secret(settings: Settings, key: str) -> str:
    """The webhook signing secret shared with one destination (derived, never stored)."""
    return keyed_hash(settings.secret_key, "consent-webhook", key)


def store_target(destination: ConsentDestination) -> StoreTarget:
    """A store destination's target, as validated when it was applied."""
    fields = {k: v for k, v in destination.target.items() if k != "channels"}
    return StoreTarget.model_validate(fields)
