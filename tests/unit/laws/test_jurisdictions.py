"""One vocabulary: ISO codes, legacy state codes, and a clear refusal of anything else."""

import pytest

from rightful import laws
from rightful.core.errors import InvalidInputError


@pytest.mark.parametrize(
    ("given", "code"),
    [("US-CA", "US-CA"), ("us-tx", "US-TX"), ("CA", "US-CA"), ("va", "US-VA"), ("ie", "IE")],
)
def test_codes_are_read_in_any_case_and_legacy_state_codes_gain_their_country(
    given: str, code: str
) -> None:
    assert laws.parse(given).code == code


def test_a_two_letter_code_that_is_a_covered_country_is_the_country() -> None:
    assert laws.parse("DE").name == "Germany"
    assert laws.parse("GB").pack_key == "uk-gdpr"


def test_an_unknown_code_is_refused_naming_the_choices() -> None:
    with pytest.raises(InvalidInputError) as caught:
        laws.parse("ZZ")
    assert "US-CA" in caught.value.detail and "US-OTHER" in caught.value.detail
    assert caught.value.errors[0]["field"] == "jurisdiction"


def test_not_listed_is_an_explicit_choice_with_the_organisations_own_rules() -> None:
    other = laws.parse("US-OTHER")
    rules = laws.rules_for(other)
    assert other.is_other and rules.house
    assert not rules.respond.statutory


def test_every_eu_member_state_shares_the_gdpr_pack_with_its_own_clock() -> None:
    eu = [j for j in laws.all_jurisdictions() if j.pack_key == "gdpr"]
    assert len(eu) == 27
    assert laws.parse("IE").timezone == "Europe/Dublin"
    assert laws.parse("FI").timezone == "Europe/Helsinki"


def test_the_choices_list_us_states_first_and_other_last() -> None:
    codes = laws.codes()
    assert codes[0].startswith("US-")
    assert codes[-2:] == ("US-OTHER", "OTHER")
