"""The one calendar: business days and the deadlines each jurisdiction sets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rightful.core.calendar import add_business_days


@dataclass(frozen=True)
class Rules:
    """Deadlines of one jurisdiction."""

    acknowledge_business_days: int
    respond_calendar_days: int
    extension_calendar_days: int
    timezone: str


CALIFORNIA = Rules(
    acknowledge_business_days=10,
    respond_calendar_days=45,
    extension_calendar_days=45,
    timezone="America/Los_Angeles",
)
# Until other states get their own rules, California's (the strictest common ones) apply.
RULES: dict[str, Rules] = {"CA": CALIFORNIA}


def rules_for(jurisdiction: str) -> Rules:
    """The rules of a US state, California's by default."""
    return RULES.get(jurisdiction.upper(), CALIFORNIA)


def local_date(moment: datetime, rules: Rules) -> date:
    """The calendar date of an instant where the law applies."""
    return moment.astimezone(ZoneInfo(rules.timezone)).date()


def acknowledge_due(received_at: datetime, jurisdiction: str) -> date:
    """Last day to confirm receipt."""
    rules = rules_for(jurisdiction)
    return add_business_days(local_date(received_at, rules), rules.acknowledge_business_days)


def respond_due(received_at: datetime, jurisdiction: str) -> date:
    """Last day to respond, before any extension."""
    rules = rules_for(jurisdiction)
    return local_date(received_at, rules) + timedelta(days=rules.respond_calendar_days)


def extended_due(current_due: date, jurisdiction: str) -> date:
    """The due date after the one extension the law allows."""
    return current_due + timedelta(days=rules_for(jurisdiction).extension_calendar_days)
