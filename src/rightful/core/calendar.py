"""Working days: weekends and public holidays of a country (and, where given, its state).

Both rights (legal deadlines) and consent (propagation targets) count in business days, so the
calendar lives below both.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import holidays


@cache
def _holidays(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    import holidays  # when first asked: the server's start does not wait for it

    return holidays.country_holidays(country, subdiv=subdivision, years=year)


def is_business_day(day: date, country: str = "US", subdivision: str | None = None) -> bool:
    """Monday to Friday and not a public holiday (US federal ones by default)."""
    return day.weekday() < 5 and day not in _holidays(country, subdivision, day.year)


def add_business_days(
    start: date, days: int, country: str = "US", subdivision: str | None = None
) -> date:
    """The date `days` business days after `start`."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current, country, subdivision):
            remaining -= 1
    return current
