"""Deadlines follow California's rules on the US federal calendar."""

from datetime import UTC, date, datetime

from rightful.core.calendar import is_business_day
from rightful.rights import deadlines


def test_acknowledgement_is_due_ten_business_days_later_skipping_weekends_and_holidays() -> None:
    # Received Friday 2026-12-18 (Pacific); Christmas Day and New Year's Day are holidays.
    received = datetime(2026, 12, 18, 20, 0, tzinfo=UTC)
    assert deadlines.acknowledge_due(received, "CA") == date(2027, 1, 5)


def test_response_is_due_45_calendar_days_later() -> None:
    received = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    assert deadlines.respond_due(received, "CA") == date(2027, 1, 15)


def test_the_date_counts_in_california_time_not_utc() -> None:
    # 03:00 UTC on Dec 2 is still Dec 1 in California.
    received = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    assert deadlines.respond_due(received, "CA") == date(2027, 1, 15)


def test_extension_adds_45_days_once() -> None:
    assert deadlines.extended_due(date(2027, 1, 15), "CA") == date(2027, 3, 1)


def test_federal_holidays_are_not_business_days() -> None:
    assert not is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert not is_business_day(date(2026, 11, 28))  # Saturday
    assert is_business_day(date(2026, 11, 27))


def test_states_without_their_own_rules_use_californias() -> None:
    received = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    assert deadlines.respond_due(received, "TX") == deadlines.respond_due(received, "CA")
