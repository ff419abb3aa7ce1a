"""Each law's dates, worked out by hand with a calendar open: weekends, federal and state
holidays, year ends, short months and local time."""

from datetime import UTC, date, datetime

import pytest

from rightful import laws


def _noon(day: date) -> datetime:
    # 12:00 UTC is the same calendar day in every covered time zone.
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


# (jurisdiction, received, acknowledgement due, response due, extended due)
US_TABLE = [
    # Friday 18 Dec 2026: Christmas and New Year's Day skipped; 45 days cross the year end.
    ("US-CA", date(2026, 12, 18), date(2027, 1, 5), date(2027, 2, 1), date(2027, 3, 18)),
    # Texas also keeps Christmas Eve as a state holiday: one business day later.
    ("US-TX", date(2026, 12, 18), date(2027, 1, 6), date(2027, 2, 1), date(2027, 3, 18)),
    # 1 Dec 2026 + 45 = 15 Jan 2027; + 45 = 1 Mar 2027 (February has 28 days).
    ("US-VA", date(2026, 12, 1), date(2026, 12, 15), date(2027, 1, 15), date(2027, 3, 1)),
    # Sunday 31 Jan 2027: ten business days end Friday 12 Feb; 45 days end 17 Mar.
    ("US-TX", date(2027, 1, 31), date(2027, 2, 12), date(2027, 3, 17), date(2027, 5, 1)),
    # Iowa gives 90 days, then 45 more: 1 Mar and 15 Apr 2027.
    ("US-IA", date(2026, 12, 1), date(2026, 12, 15), date(2027, 3, 1), date(2027, 4, 15)),
]


@pytest.mark.parametrize(("code", "received", "ack", "respond", "extended"), US_TABLE)
def test_us_dates_follow_the_table(
    code: str, received: date, ack: date, respond: date, extended: date
) -> None:
    at = _noon(received)
    assert laws.acknowledge_due(at, code) == ack
    assert laws.respond_due(at, code) == respond
    assert laws.extended_due(at, code) == extended


def test_californias_opt_out_skips_thanksgiving_and_the_state_holiday_after_it() -> None:
    # Monday 16 Nov 2026: Thanksgiving (26th, federal) and the day after (27th, a California
    # state holiday) are not business days, so the 15th business day is Wednesday 9 Dec.
    assert laws.opt_out_due(_noon(date(2026, 11, 16)), "US-CA") == date(2026, 12, 9)


def test_the_same_instant_is_a_different_day_in_texas_and_virginia() -> None:
    # 05:30 UTC on 2 Dec is still 1 Dec in Texas (23:30 CST) but 2 Dec in Virginia.
    at = datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
    assert laws.respond_due(at, "US-TX") == date(2027, 1, 15)
    assert laws.respond_due(at, "US-VA") == date(2027, 1, 16)


def test_a_texas_appeal_is_answered_within_60_days() -> None:
    # 10 Jan 2027 + 60 days = 11 Mar 2027.
    assert laws.appeal_answer_due(_noon(date(2027, 1, 10)), "US-TX") == date(2027, 3, 11)


def test_a_colorado_appeal_is_answered_in_45_days_or_60_more() -> None:
    # 10 Jan 2027 + 45 = 24 Feb; + 60 = 25 Apr 2027.
    at = _noon(date(2027, 1, 10))
    assert laws.appeal_answer_due(at, "US-CO") == date(2027, 2, 24)
    assert laws.appeal_answer_extended_due(at, "US-CO") == date(2027, 4, 25)
    assert laws.appeal_answer_extended_due(at, "US-TX") is None


def test_california_grants_no_appeal() -> None:
    assert laws.appeal_answer_due(_noon(date(2027, 1, 10)), "US-CA") is None
    assert laws.appeal_window_ends(_noon(date(2027, 1, 10)), "US-CA") is None


# (received in Ireland, response due, extended due)
IRELAND_TABLE = [
    # 31 Jan 2027 -> 28 Feb (no 31st), a Sunday -> Monday 1 Mar. + 3 months: 30 Apr (Fri).
    (date(2027, 1, 31), date(2027, 3, 1), date(2027, 4, 30)),
    # Leap year: 31 Jan 2028 -> Tuesday 29 Feb 2028. + 3 months: 30 Apr, a Sunday; Monday
    # 1 May is Ireland's May bank holiday -> Tuesday 2 May.
    (date(2028, 1, 31), date(2028, 2, 29), date(2028, 5, 2)),
    # 29 and 30 Jan 2026 -> 28 Feb 2026, a Saturday -> Monday 2 Mar.
    (date(2026, 1, 29), date(2026, 3, 2), date(2026, 4, 29)),
    (date(2026, 1, 30), date(2026, 3, 2), date(2026, 4, 30)),
    # 17 Feb 2026 -> 17 Mar, Saint Patrick's Day -> 18 Mar. + 3 months: 18 May (Mon).
    (date(2026, 2, 17), date(2026, 3, 18), date(2026, 5, 18)),
    # 25 Nov 2026 -> Christmas (Fri), St Stephen's (Sat), Sunday -> Monday 28 Dec.
    # Extended: 25 Feb 2027 (Thu).
    (date(2026, 11, 25), date(2026, 12, 28), date(2027, 2, 25)),
    # 30 Nov 2026 extended -> 28 Feb 2027 (no 30th), a Sunday -> 1 Mar.
    (date(2026, 11, 30), date(2026, 12, 30), date(2027, 3, 1)),
]


@pytest.mark.parametrize(("received", "respond", "extended"), IRELAND_TABLE)
def test_gdpr_months_follow_regulation_1182_71_in_ireland(
    received: date, respond: date, extended: date
) -> None:
    at = _noon(received)
    assert laws.respond_due(at, "IE") == respond
    assert laws.extended_due(at, "IE") == extended


def test_a_gdpr_month_starts_on_the_local_date() -> None:
    # 23:30 UTC on 31 Mar 2026 is 00:30 on 1 Apr in Dublin (summer time): due Friday 1 May.
    assert laws.respond_due(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "IE") == date(2026, 5, 1)


def test_each_member_state_has_its_own_holidays() -> None:
    # 14 Oct 2026 + 1 month = Monday 26 Oct 2026: Ireland's October bank holiday and
    # Austria's national day, a working day in France.
    at = _noon(date(2026, 9, 26))
    assert laws.respond_due(at, "IE") == date(2026, 10, 27)
    assert laws.respond_due(at, "AT") == date(2026, 10, 27)
    assert laws.respond_due(at, "FR") == date(2026, 10, 26)


def test_uk_gdpr_moves_past_an_english_bank_holiday() -> None:
    # 31 Jul 2026 -> 31 Aug 2026, the Late Summer Bank Holiday -> 1 Sep.
    assert laws.respond_due(_noon(date(2026, 7, 31)), "GB") == date(2026, 9, 1)


def test_add_months_ends_on_the_last_day_of_a_short_month() -> None:
    assert laws.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert laws.add_months(date(2026, 3, 31), 1) == date(2026, 4, 30)
    assert laws.add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert laws.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_the_business_day_calendar_skips_federal_holidays_and_weekends() -> None:
    assert not laws.is_working_day(date(2026, 11, 26), "US-UT")  # Thanksgiving
    assert not laws.is_working_day(date(2026, 11, 28), "US-UT")  # Saturday
    assert laws.is_working_day(date(2026, 11, 27), "US-UT")
    # The day after Thanksgiving is a state holiday in California (and Virginia), not Utah.
    assert not laws.is_working_day(date(2026, 11, 27), "US-CA")


def test_an_opt_out_runs_on_its_own_clock_without_extension_in_california() -> None:
    at = _noon(date(2026, 11, 16))
    assert laws.answer_due("opt_out_sale", at, "US-CA") == date(2026, 12, 9)
    assert laws.extended_due(at, "US-CA", kind="opt_out_sale") == date(2026, 12, 9)
    # Texas answers an opt-out within its general 45 days, which may be extended.
    assert laws.answer_due("opt_out_sale", at, "US-TX") == date(2026, 12, 31)
