"""Deprecated: the deadlines now live in `rightful.laws` (one rule pack per law).

This module only forwards to it, in the per-jurisdiction mode, for code written before the
packs existed; use `rightful.laws` in new code. It goes once nothing imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rightful import laws


@dataclass(frozen=True)
class Rules:
    """The few figures older callers read from a jurisdiction's rules."""

    jurisdiction: str
    timezone: str
    extension_calendar_days: int


def rules_for(jurisdiction: str) -> Rules:
    """The rules of a covered jurisdiction (an error naming the choices for any other)."""
    place = laws.parse(jurisdiction)
    extension = laws.rules_for(place).extension.period
    days = 0 if extension is None else int(extension.approx_days())
    return Rules(place.code, place.timezone, days)


def local_date(moment: datetime, rules: Rules) -> date:
    """The calendar date of an instant where the law applies."""
    return laws.local_date(moment, rules.jurisdiction)


def acknowledge_due(received_at: datetime, jurisdiction: str) -> date:
    """Last day to confirm receipt."""
    return laws.acknowledge_due(received_at, jurisdiction)


def respond_due(received_at: datetime, jurisdiction: str) -> date:
    """Last day to respond, before any extension."""
    return laws.respond_due(received_at, jurisdiction)


def extended_due(current_due: date, jurisdiction: str) -> date:
    """The due date after the one extension (days laws only; see laws.extended_due)."""
    return current_due + timedelta(days=rules_for(jurisdiction).extension_calendar_days)
