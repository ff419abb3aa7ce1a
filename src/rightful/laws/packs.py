"""Reading the rule packs: one YAML file per law in `laws/packs/`, checked as it is read.

A file that lacks a field, names an unknown request kind or time zone, or covers a place
another file already covers stops the load with the file and field named: a wrong pack must
never quietly give a request the wrong clock.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rightful.core.errors import ConfigurationError
from rightful.laws.rules import (
    KINDS,
    Appeal,
    Count,
    Declaration,
    DeclarationNeed,
    Extension,
    Period,
    Place,
    Regulator,
    Rights,
    Rule,
    RulePack,
)

PACKS_DIR = Path(__file__).parent / "packs"


class _Reader:
    """Field access on one file's mapping that names the file and field when one is wrong."""

    def __init__(self, source: str, data: Any, where: str = "") -> None:
        if not isinstance(data, dict):
            raise ConfigurationError(f"{source}: {where or 'the file'} must be a mapping.")
        self.source, self.data, self.where = source, data, where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str | int | float) or value == "":
            raise ConfigurationError(f"{self.source}: {self._name(key)} must be written.")
        return str(value).strip()

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ConfigurationError(f"{self.source}: {self._name(key)} is true or false.")
        return value

    def sub(self, key: str) -> _Reader:
        return _Reader(self.source, self.data.get(key), self._name(key))

    def period(self, key: str) -> Period | None:
        """`{days: 45, count: calendar}` / `{days: 10, count: business}` / `{months: 1}`."""
        value = self.data.get(key)
        if value is None:
            return None
        part = _Reader(self.source, value, self._name(key))
        if part.has("months"):
            return Period(_positive(part, "months"), Count.MONTHS)
        count = part.text("count")
        if count not in ("calendar", "business"):
            raise ConfigurationError(
                f"{self.source}: {self._name(key)}.count is 'calendar' or 'business'."
            )
        kind = Count.CALENDAR_DAYS if count == "calendar" else Count.BUSINESS_DAYS
        return Period(_positive(part, "days"), kind)

    def rule(self, key: str) -> Rule:
        part = self.sub(key)
        period = part.period("period")
        if period is None:
            raise ConfigurationError(f"{self.source}: {self._name(key)}.period must be given.")
        return Rule(
            period=period,
            cite=part.text("cite"),
            statutory=part.flag("statutory", True),
            note=str(part.data.get("note") or "").strip(),
        )


def _positive(part: _Reader, key: str) -> int:
    value = part.data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(f"{part.source}: {part._name(key)} is a whole number over 0.")
    return value


def _place(source: str, raw: Any) -> Place:
    import holidays  # when a pack is first read, not when the server starts

    part = _Reader(source, raw, "jurisdictions[]")
    code = part.text("code").upper()
    timezone = part.text("timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"{source}: {code} has an unknown time zone {timezone!r}."
        raise ConfigurationError(message) from None
    cal = part.sub("holidays")
    country = cal.text("country").upper()
    subdivision = str(cal.data.get("subdivision") or "").strip().upper() or None
    try:  # loads this country's calendar only (listing the supported ones loads all ~250)
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        raise ConfigurationError(f"{source}: {code} has an unknown holiday calendar.") from None
    own = _Reader(source, raw.get("regulator") or {}, f"{code}.regulator")
    return Place(code, part.text("name"), timezone, country, subdivision, _regulator(own))


def _rights(part: _Reader) -> Rights:
    kinds = part.data.get("kinds")
    if not isinstance(kinds, list) or not kinds:
        raise ConfigurationError(f"{part.source}: rights.kinds lists the rights the law grants.")
    unknown = sorted(set(map(str, kinds)) - set(KINDS))
    if unknown:
        raise ConfigurationError(
            f"{part.source}: rights.kinds has unknown kinds {unknown}; known: {', '.join(KINDS)}."
        )
    return Rights(frozenset(map(str, kinds)), part.text("cite"))


def _appeal(part: _Reader) -> Appeal:
    if not part.flag("exists", False):
        return Appeal(exists=False, cite=str(part.data.get("cite") or "").strip())
    return Appeal(
        exists=True,
        cite=part.text("cite"),
        window=part.period("window"),
        window_note=str(part.data.get("window_note") or "").strip(),
        answer=part.period("answer"),
        answer_extension=part.period("answer_extension"),
        regulator_on_denial=part.flag("regulator_on_denial", False),
        statutory=part.flag("statutory", True),
    )


def _regulator(part: _Reader) -> Regulator | None:
    if not part.data:
        return None
    return Regulator(
        name=part.text("name"),
        url=part.text("url"),
        email=str(part.data.get("email") or "").strip(),
        phone=str(part.data.get("phone") or "").strip(),
    )


def _declaration(part: _Reader) -> Declaration:
    """`verification.declaration: {need: required | practice | none, cite: "...", note: "..."}`:
    every pack says whether a copy needs the person's signed declaration, and why."""
    need = part.text("need")
    try:
        value = DeclarationNeed(need)
    except ValueError:
        raise ConfigurationError(
            f"{part.source}: verification.declaration.need is required, practice or none."
        ) from None
    return Declaration(value, part.text("cite"), str(part.data.get("note") or "").strip())


def _free(part: _Reader) -> int | None:
    """None means the law sets no yearly limit (the GDPR: free, unless manifestly excessive)."""
    return _positive(part, "per_12_months") if part.has("per_12_months") else None


def read_pack(path: Path) -> RulePack:
    """One pack file, checked."""
    import yaml  # when first used: the server's start does not wait for it

    source = path.name
    root = _Reader(source, yaml.safe_load(path.read_text(encoding="utf-8")))
    effective = root.data.get("effective")
    if not isinstance(effective, date):
        raise ConfigurationError(f"{source}: effective is a date (YYYY-MM-DD).")
    places = root.data.get("jurisdictions")
    if not isinstance(places, list) or not places:
        raise ConfigurationError(f"{source}: jurisdictions lists the places the law covers.")
    ext = root.sub("extension")
    free = root.sub("free_requests")
    verification = root.sub("verification")
    return RulePack(
        key=path.stem,
        law=root.text("law"),
        short=root.text("short"),
        version=root.text("version"),
        effective=effective,
        places=tuple(_place(source, p) for p in places),
        rights=_rights(root.sub("rights")),
        respond=root.rule("respond"),
        extension=Extension(
            period=ext.period("period"),
            cite=ext.text("cite"),
            conditions=str(ext.data.get("conditions") or "").strip(),
            notice_within_first_period=ext.flag("notice_within_first_period", True),
            reason_required=ext.flag("reason_required", True),
        ),
        acknowledge=root.rule("acknowledge"),
        opt_out=root.rule("opt_out"),
        appeal=_appeal(root.sub("appeal")),
        regulator=_regulator(_Reader(source, root.data.get("regulator") or {}, "regulator")),
        free_requests_per_12_months=_free(free),
        free_requests_cite=free.text("cite"),
        verification=verification.text("notes"),
        verification_cite=verification.text("cite"),
        declaration=_declaration(verification.sub("declaration")),
        notes=str(root.data.get("notes") or "").strip(),
        house=root.flag("house", False),
    )


def read_packs(directory: Path) -> dict[str, RulePack]:
    """Every pack in a folder, by key (the file's name), refusing two packs for one place."""
    packs: dict[str, RulePack] = {}
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yml")):
        pack = read_pack(path)
        for place in pack.places:
            if place.code in seen:
                raise ConfigurationError(
                    f"{path.name}: {place.code} is already covered by {seen[place.code]}.yml."
                )
            seen[place.code] = pack.key
        packs[pack.key] = pack
    return packs


@cache
def all_packs() -> dict[str, RulePack]:
    """The packs shipped with Rightful, read once."""
    return read_packs(PACKS_DIR)


def pack(key: str) -> RulePack:
    """One shipped pack by key, e.g. 'us-ca', 'gdpr'."""
    return all_packs()[key]
