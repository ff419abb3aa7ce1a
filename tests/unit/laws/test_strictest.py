"""'The strictest rule for everyone': each rule the strictest across the US laws and the
person's own."""

from datetime import UTC, date, datetime

import pytest

from rightful import laws
from rightful.core.errors import InvalidInputError


def test_a_texas_request_gets_the_shortest_acknowledgement_and_opt_out_of_any_us_law() -> None:
    rules = laws.rules_for("US-TX", laws.RulesMode.STRICTEST)
    # California is the one law with an acknowledgement deadline.
    assert rules.acknowledge.period == laws.Period(10, laws.Count.BUSINESS_DAYS)
    assert rules.acknowledge.statutory and rules.acknowledge.cite.startswith("CCPA")
    # New Jersey's 15 calendar days are shorter than California's 15 business days.
    assert rules.opt_out.period == laws.Period(15, laws.Count.CALENDAR_DAYS)
    assert rules.opt_out.cite.startswith("NJDPA")
    assert "limit_sensitive" in rules.rights.kinds
    # Texas's own clock: Christmas Eve is still a holiday there.
    received = datetime(2026, 12, 18, 18, 0, tzinfo=UTC)
    assert laws.acknowledge_due(received, "US-TX", "strictest") == date(2027, 1, 6)


def test_strictest_mode_never_lengthens_the_gdpr_month() -> None:
    rules = laws.rules_for("IE", laws.RulesMode.STRICTEST)
    assert rules.respond.period == laws.Period(1, laws.Count.MONTHS)
    assert rules.free_requests_per_12_months is None  # the GDPR sets no yearly limit


def test_strictest_mode_gives_an_appeal_everywhere_with_the_shortest_answer() -> None:
    rules = laws.rules_for("US-CA", laws.RulesMode.STRICTEST)
    assert rules.appeal.exists and not rules.appeal.statutory
    assert rules.appeal.answer is not None
    per_law_answers = [
        p.appeal.answer.approx_days()
        for p in laws.all_packs().values()
        if p.appeal.exists
        and p.appeal.answer
        and p.places[0].code.startswith("US-")
        and not p.house
    ]
    assert rules.appeal.answer.approx_days() == min(per_law_answers)


def test_a_right_the_law_lacks_is_honoured_voluntarily_by_default() -> None:
    assert laws.granted_by_law("limit_sensitive", "US-CA") is True
    assert laws.granted_by_law("limit_sensitive", "US-TX") is False


def test_an_organisation_honouring_only_the_law_refuses_naming_the_law() -> None:
    with pytest.raises(InvalidInputError) as caught:
        laws.granted_by_law("limit_sensitive", "US-TX", scope=laws.RightsScope.PER_LAW)
    assert "Texas Data Privacy and Security Act" in caught.value.detail
    # In strictest mode every right is granted to everyone.
    assert laws.granted_by_law(
        "limit_sensitive", "US-TX", mode="strictest", scope=laws.RightsScope.PER_LAW
    )
