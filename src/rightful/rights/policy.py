"""Erasure policy: per data category, delete the row, mask the field, or keep it and say why."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rightful.core.errors import InvalidInputError
from rightful.inventory.specs import CollectionSpec, FieldSpec
from rightful.security.masking import STRATEGIES


class Rule(BaseModel):
    """What to do with fields of the given categories (and their sub-categories).

    `leave` takes categories out of the policy's reach: such fields are not touched, and their
    rows are kept (other fields the policy targets are masked instead of the row deleted). One
    `{categories: [user], action: leave}` rule makes a policy that changes only what its other
    rules name, as a Fides policy does; without it, personal data no rule names is deleted.
    """

    model_config = ConfigDict(extra="forbid")

    categories: list[str] = Field(min_length=1)
    action: Literal["delete", "mask", "retain", "leave"]
    strategy: str | None = None
    configuration: dict[str, Any] = Field(default_factory=dict)
    legal_basis: str | None = None
    retain_days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.action == "mask" and self.strategy not in STRATEGIES:
            raise ValueError(f"mask needs a strategy, one of {', '.join(sorted(STRATEGIES))}")
        if self.action == "retain" and not (self.legal_basis and self.retain_days):
            raise ValueError("retain needs a legal_basis and retain_days")
        return self


class ScheduledMask(BaseModel):
    """A field a retention schedule de-identifies, and how."""

    model_config = ConfigDict(extra="forbid")

    field: str
    strategy: str
    configuration: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> ScheduledMask:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy, use one of {', '.join(sorted(STRATEGIES))}")
        return self


class Schedule(BaseModel):
    """Rows of a collection older than `keep_days` (by its date field) are destroyed or masked."""

    model_config = ConfigDict(extra="forbid")

    collection: str = Field(pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")
    keep_days: int = Field(gt=0)
    action: Literal["delete", "mask"] = "delete"
    masks: list[ScheduledMask] = Field(default_factory=list)
    legal_basis: str = ""

    @model_validator(mode="after")
    def _masks_for_mask(self) -> Schedule:
        if self.action == "mask" and not self.masks:
            raise ValueError("mask needs masks: [{field, strategy}]")
        return self


class Policy(BaseModel):
    """Erasure rules (most specific category wins), or a retention schedule."""

    model_config = ConfigDict(extra="forbid")

    name: str
    request_type: Literal["delete", "retention"] = "delete"
    rules: list[Rule] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fits_type(self) -> Policy:
        if self.request_type == "delete" and not self.rules:
            raise ValueError("an erasure policy needs rules")
        if self.request_type == "retention" and not self.schedules:
            raise ValueError("a retention policy needs schedules")
        return self


@dataclass(frozen=True)
class FieldAction:
    """The decision for one field."""

    name: str
    action: str
    strategy: str | None = None
    configuration: dict[str, Any] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class CollectionDecision:
    """What erasure does to a collection's rows for one person."""

    address: str
    action: Literal["delete_rows", "mask_fields", "retain_rows", "nothing"]
    masks: tuple[FieldAction, ...] = ()
    legal_basis: str | None = None
    retain_until: date | None = None


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    """A policy from YAML (`policy:` mapping), with every problem named."""
    import yaml  # when first used: the server's start does not wait for it

    try:
        doc = yaml.safe_load(text)
        return Policy.model_validate((doc or {}).get("policy"))
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{source}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        lines = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInputError(f"{source}: {lines}", errors=errors) from exc


def _categories(spec: FieldSpec) -> list[str]:
    """A top-level field's categories with those of the fields nested in it: a document's
    `who: {email}` is personal data and is erased as a whole."""
    out = list(spec.data_categories)
    for sub in spec.fields:
        out += _categories(sub)
    return out


def _rule_for(spec: FieldSpec, policy: Policy) -> Rule | None:
    best: tuple[int, Rule] | None = None
    for cat in _categories(spec):
        for rule in policy.rules:
            for prefix in rule.categories:
                if (cat == prefix or cat.startswith(prefix + ".")) and (
                    best is None or len(prefix) > best[0]
                ):
                    best = (len(prefix), rule)
    return best[1] if best else None


def _override(spec: FieldSpec) -> FieldAction | None:
    raw = spec.masking_override
    if raw and raw.get("strategy") in STRATEGIES:
        return FieldAction(spec.name, "mask", raw["strategy"], dict(raw.get("configuration") or {}))
    return None  # unknown strategies are refused when the data map is applied


def decide(coll: CollectionSpec, policy: Policy, today: date) -> CollectionDecision:
    """Delete, mask or keep the person's rows of a collection.

    Each personal field follows its most specific rule (none: delete). A dataset's field-level
    override replaces the masking of a field a rule names, never reaches one no rule names or
    one the policy leaves.
    Then: a collection-level `delete` override wins if the policy targets any field; any
    retained field keeps the row (masking the rest, to cut it off from the person); a field the
    policy leaves keeps the row too (fields to delete are emptied instead); else deletion.
    """
    masks: list[FieldAction] = []
    retain: list[Rule] = []
    deletes = targeted = left = False
    for spec in coll.fields:
        personal = any(c.startswith("user") for c in _categories(spec))
        if spec.primary_key or not personal:
            continue
        rule = _rule_for(spec, policy)
        action = rule.action if rule else "delete"
        if action == "leave":
            left = True
            continue
        targeted = True
        if action == "retain" and rule is not None:
            retain.append(rule)
            continue
        # A dataset's override says how to mask a field a rule targets, never reaches further.
        override = _override(spec) if rule is not None else None
        if override:
            masks.append(override)
        elif action == "delete":
            deletes = True
            masks.append(FieldAction(spec.name, "mask", "null_rewrite"))
        elif rule is not None:
            masks.append(FieldAction(spec.name, "mask", rule.strategy, rule.configuration))
    if targeted and coll.erase_strategy == "delete":
        return CollectionDecision(coll.address, "delete_rows")
    if retain:
        longest = max(retain, key=lambda r: r.retain_days or 0)
        until = today + timedelta(days=longest.retain_days or 0)
        return CollectionDecision(
            coll.address, "retain_rows", tuple(masks), longest.legal_basis, until
        )
    if deletes and not left:
        return CollectionDecision(coll.address, "delete_rows")
    return CollectionDecision(coll.address, "mask_fields" if masks else "nothing", tuple(masks))
