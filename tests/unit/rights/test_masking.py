"""Every masking strategy, on the values stores really hold."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from rightful.core.errors import InvalidInputError
from rightful.security.masking import mask_value

SECRET = "s" * 40


def test_null_and_fixed_rewrites() -> None:
    assert mask_value("null_rewrite", "Avery", secret=SECRET) is None
    assert mask_value("string_rewrite", "Avery", secret=SECRET) == "MASKED"
    assert (
        mask_value("string_rewrite", "Avery", config={"rewrite_value": "x"}, secret=SECRET) == "x"
    )


def test_keyed_hash_is_stable_per_secret_and_not_reversible() -> None:
    first = mask_value("hmac", "avery@example.com", secret=SECRET)
    assert first == mask_value("hmac", "avery@example.com", secret=SECRET)
    assert first != mask_value("hmac", "avery@example.com", secret="t" * 40)
    assert len(first) == 64 and "avery" not in first
    assert len(mask_value("hmac", "a", config={"length": 16}, secret=SECRET)) == 16


def test_redact_keeps_the_shape_only() -> None:
    assert mask_value("redact", "742 De Haro St", secret=SECRET) == "*** ** **** **"


def test_dates_become_their_year() -> None:
    assert mask_value("generalize_date", date(1988, 3, 14), secret=SECRET) == date(1988, 1, 1)
    assert mask_value("generalize_date", datetime(2024, 5, 6, 7, 8), secret=SECRET) == datetime(
        2024, 1, 1
    )
    assert mask_value("generalize_date", "1988-03-14", secret=SECRET) == "1988-01-01"


def test_postcodes_keep_their_prefix() -> None:
    assert mask_value("generalize_postcode", "94107", secret=SECRET) == "941"
    assert mask_value("generalize_postcode", "94107", config={"keep": 2}, secret=SECRET) == "94"


def test_coordinates_snap_to_a_coarse_grid() -> None:
    assert mask_value("generalize_coordinates", 37.7749, secret=SECRET) == pytest.approx(37.7)
    assert mask_value("generalize_coordinates", -122.4194, secret=SECRET) == pytest.approx(-122.5)
    assert mask_value(
        "generalize_coordinates", Decimal("37.7749"), config={"cell": "1"}, secret=SECRET
    ) == Decimal("37")


def test_none_stays_none_everywhere() -> None:
    for name in (
        "string_rewrite",
        "hmac",
        "redact",
        "generalize_date",
        "generalize_postcode",
        "generalize_coordinates",
    ):
        assert mask_value(name, None, secret=SECRET) is None


def test_unknown_strategy_is_named() -> None:
    with pytest.raises(InvalidInputError, match="Unknown masking strategy 'shred'"):
        mask_value("shred", "x", secret=SECRET)


def test_format_preservation_appends_its_suffix_as_fides_configures_it() -> None:
    config = {"rewrite_value": "MASKED", "format_preservation": {"suffix": "@example.com"}}
    assert mask_value("string_rewrite", "a@b.com", config=config, secret="s") == (
        "MASKED@example.com"
    )
    assert mask_value("null_rewrite", "a@b.com", config=config, secret="s") is None
