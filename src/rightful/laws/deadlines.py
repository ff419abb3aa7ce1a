"""The one place that decides a request's dates, in its jurisdiction's time zone and on its
public-holiday calendar.

Days periods (the US laws) end on the day they reach, weekend or not: none of these laws
moves its deadline, and ending earlier is the safe reading. Months periods (the GDPR and UK
GDPR) are counted as Regulation (EEC, Euratom) No 1182/71 counts them: the same date in the
last month, that month's last day when it has no such date, and a period ending on a
Saturday, Sunday or public holiday ends on the next working day.
"""

from __future__ import annotations

import calendar as month_calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rightful.core.calendar import add_business_days, is_business_day
from rightful.laws.jurisdictions import Jurisdiction, parse
from rightful.laws.packs import all_packs
from rightful.laws.rules import Count, Period, RulePack, RulesMode
from rightful.laws.strictest import strictest_for

# Kinds the laws answer on the opt-out clock (California: 15 business days, no extension).
OPT_OUT_KINDS = frozenset({"opt_out_sale", "limit_sensitive"})


def rules_for(
    jurisdiction: str | Jurisdiction, mode: RulesMode | str = RulesMode.PER_JURISDICTION
) -> RulePack:
    """The rules a request from this jurisdiction gets: its law's pack, or in strictest mode
    the strictest of each rule across the US laws and its own."""
    place = parse(jurisdiction)
    if RulesMode(mode) is RulesMode.STRICTEST:
        return strictest_for(place.pack_key)
    return all_packs()[place.pack_key]


def local_date(moment: datetime, jurisdiction: str | Jurisdiction) -> date:
    """The calendar date of an instant where the jurisdiction's law applies."""
    return moment.astimezone(ZoneInfo(parse(jurisdiction).timezone)).date()


def is_working_day(day: date, jurisdiction: str | Jurisdiction) -> bool:
    """Monday to Friday and not a public holiday of the jurisdiction."""
    place = parse(jurisdiction)
    return is_business_day(day, place.holidays_country, place.holidays_subdivision)


def add_months(start: date, months: int) -> date:
    """The same date `months` later, or that month's last day when it has no such date."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, month_calendar.monthrange(year, month)[1]))


def next_working_day(day: date, jurisdiction: str | Jurisdiction) -> date:
    """The day itself when it is a working day, else the next one."""
    while not is_working_day(day, jurisdiction):
        day += timedelta(days=1)
    return day


def _raw_end(start: date, period: Period, place: Jurisdiction) -> date:
    if period.count is Count.BUSINESS_DAYS:
        return add_business_days(
            start, period.amount, place.holidays_country, place.holidays_subdivision
        )
    if period.count is Count.MONTHS:
        return add_months(start, period.amount)
    return start + timedelta(days=period.amount)


def period_end(start: date, period: Period, jurisdiction: str | Jurisdiction) -> date:
    """The last day of a period that starts on the local date `start`."""
    place = parse(jurisdiction)
    end = _raw_end(start, period, place)
    return next_working_day(end, place) if period.count is Count.MONTHS else end


def _due(moment: datetime, jurisdiction: str | Jurisdiction, period: Period | None) -> date | None:
    if period is None:
        return None
    return period_end(local_date(moment, jurisdiction), period, jurisdiction)


def acknowledge_due(
    received_at: datetime,
    jurisdiction: str | Jurisdiction,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
) -> date:
    """Last day to confirm receipt of a request."""
    rules = rules_for(jurisdiction, mode)
    return period_end(local_date(received_at, jurisdiction), rules.acknowledge.period, jurisdiction)


def respond_due(
    received_at: datetime,
    jurisdiction: str | Jurisdiction,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
) -> date:
    """Last day to respond to a request, before any extension."""
    rules = rules_for(jurisdiction, mode)
    return period_end(local_date(received_at, jurisdiction), rules.respond.period, jurisdiction)


def _own_opt_out_clock(kind: str | None, rules: RulePack) -> bool:
    return kind in OPT_OUT_KINDS and rules.opt_out.period != rules.respond.period


def answer_due(
    kind: str,
    received_at: datetime,
    jurisdiction: str | Jurisdiction,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
) -> date:
    """Last day to answer a request of this kind: the opt-out deadline for an opt-out or a
    limit where the law sets one of its own, the response period otherwise."""
    if _own_opt_out_clock(kind, rules_for(jurisdiction, mode)):
        return opt_out_due(received_at, jurisdiction, mode)
    return respond_due(received_at, jurisdiction, mode)


def extended_due(
    received_at: datetime,
    jurisdiction: str | Jurisdiction,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
    kind: str | None = None,
) -> date:
    """Last day to respond after the one extension the law allows (counted from receipt:
    the first period, then the extension; three months in all under the GDPR). The first
    due date itself when the law allows no extension (nor for an opt-out on its own clock)."""
    place = parse(jurisdiction)
    rules = rules_for(place, mode)
    if kind is not None and _own_opt_out_clock(kind, rules):
        return opt_out_due(received_at, place, mode)
    start = local_date(received_at, place)
    first, more = rules.respond.period, rules.extension.period
    if more is None:
        return period_end(start, first, place)
    if first.count is Count.MONTHS and more.count is Count.MONTHS:
        return period_end(start, Period(first.amount + more.amount, Count.MONTHS), place)
    return period_end(_raw_end(start, first, place), more, place)


def opt_out_due(
    received_at: datetime,
    jurisdiction: str | Jurisdiction,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
) -> date:
    """Last day to act on an opt-out of sale or sharing (or a limit on sensitive data)."""
    rules = rules_for(jurisdiction, mode)
    return period_end(local_date(received_at, jurisdiction), rules.opt_out.period, jurisdiction)


def appeal_window_ends(
    decided_at: datetime,
    jurisdiction: str | Jurisdiction,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
) -> date | None:
    """Last day a person may file an appeal against a decision; None when the law grants no
    appeal or sets no fixed window ('a reasonable period': see `Appeal.window_note`)."""
    appeal = rules_for(jurisdiction, mode).appeal
    return _due(decided_at, jurisdiction, appeal.window) if appeal.exists else None


def appeal_answer_due(
    appeal_received_at: datetime,
    jurisdiction: str | Jurisdiction,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
) -> date | None:
    """Last day to decide an appeal and tell the person; None when the law grants no appeal."""
    appeal = rules_for(jurisdiction, mode).appeal
    return _due(appeal_received_at, jurisdiction, appeal.answer) if appeal.exists else None


def appeal_answer_extended_due(
    appeal_received_at: datetime,
    jurisdiction: str | Jurisdiction,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
) -> date | None:
    """Last day to decide an appeal after the extension some laws allow (Colorado: 60 more
    days); None when there is no such extension."""
    appeal = rules_for(jurisdiction, mode).appeal
    if not (appeal.exists and appeal.answer and appeal.answer_extension):
        return None
    place = parse(jurisdiction)
    first = _raw_end(local_date(appeal_received_at, place), appeal.answer, place)
    return period_end(first, appeal.answer_extension, place)
