"""DROP's standardisation and hashing: the published vectors, and cases made by hand."""

from __future__ import annotations

from datetime import date

import pytest

from rightful.core.errors import InvalidInputError
from rightful.drop import hashing
from rightful.drop.hashing import ListType, field_hash, list_hash, sha256_base64

# The worked examples of DROP's "Working with the data" page (Standardization and hashing),
# as reproduced in docs/drop.md: (field, input, standardised, SHA-256 Base64).
PUBLISHED = [
    ("first_name", "Juan Pablo", "juanpablo", "91hIbrbzNeqHs3o81O5yNrXUj7wDd2shvZ6THKi9qz8="),
    ("last_name", "Martinez", "martinez", "2wRPGbwBNxhShjRczx8GfS2c4cjvs4NJskeWloUNtp8="),
    ("dob", date(1776, 7, 4), "17760704", "skXYXxBER6HQTZ3rXSZH1wVGLQ054mS5rbR/bwvzy4I="),
    ("zip", "91790-3771", "91790", "2FPZucR4x7U8KlM+SFAX4LPGhwNz/PIZUCSUdDh0o/s="),
    ("zip", "M1B 1A1", "m1b1a", "n8L9q8mVeT6Xt9/EeUNiTukGDrkbPJ3DvOEx14uElxk="),
    ("zip", "00712345", "71234", "aeNUYKh7Xw5sqpxSbSP9eOHsj6iXewbUyavv89DIuhQ="),
    ("email", "Anna.Smith@Domain.com", "anna.smith@domain.com",
     "KA18MT/ph6IHYjzT9zwETySDQyvSh87YuoSBpOQtkhE="),
    ("phone", "+1(415)555-9317", "4155559317", "vGM7y5n+hBXRSEAklhHDPCbysyNgYTmXdMcagGUOY8E="),
    ("phone", "+84(90)123 4567", "4901234567", "ptzVkgbv9DonwvPCHmXmJ2SEOaolSh37z3ZzY/Gmm+U="),
    ("vin", "1HGCM82633A004352", "1hgcm82633a004352",
     "iNswy1m+0VSt8jAfFrvaiQ1R/0HAbgSwNGkwqo6QBss="),
    ("maid", "a3f1c2d4-5678-90ab-cdef-1234567890ab", "a3f1c2d4567890abcdef1234567890ab",
     "250KY6lOgzYUB3EHrkbDCE2kMEZQE69SF38muhoDudI="),
    ("ctvid", "SmartTV_9F8E7D6C", "smarttv9f8e7d6c",
     "d9fxuTIrKksBXYDlaWsvQbcyUUfCbUx7v78gd+KP+tc="),
]  # fmt: skip


@pytest.mark.parametrize(("field", "given", "standard", "digest"), PUBLISHED)
def test_each_published_vector_is_standardised_and_hashed_as_drop_does(
    field: str, given: str, standard: str, digest: str
) -> None:
    assert hashing.STANDARDISE[field](given) == standard
    assert field_hash(field, given) == digest


def test_the_published_ndz_composite_hashes_the_joined_field_hashes_in_order() -> None:
    values = {"first_name": "Danielle", "last_name": "Johnson", "dob": "1985-07-04", "zip": "91790"}
    parts = [field_hash(f, v) for f, v in values.items()]
    assert parts == [
        "5dUD1FgiKcTJq+JQ5JZUdlyIXrSbtJ338YYbt5/HNG4=",
        "K+TjOqPiH2/3rRRPj9WCKKHM47UDQLSAX/DGNIDuxIg=",
        "IWi7qxOAbBJe0fNciDj76Eg84gmj40rB7aNMK/VnFOI=",
        "2FPZucR4x7U8KlM+SFAX4LPGhwNz/PIZUCSUdDh0o/s=",
    ]
    assert list_hash(ListType.NDZ, values) == "PQOfn1RffEKmqMmNAzDKKaoZCwxWbQZkQzPWmQo9REA="  # type: ignore[arg-type]


def test_the_published_name_vin_composite() -> None:
    values = {"first_name": "Eve", "last_name": "Genesis", "vin": "1HGCM82633A004352"}
    assert list_hash(ListType.NAME_VIN, values) == "rtnDuXIe63jXYQQXW5r07GJ7lSsrib8+46QuKFwkOmk="  # type: ignore[arg-type]


def test_a_composite_depends_on_the_order_of_its_fields() -> None:
    one = list_hash(ListType.NAME_VIN, {"first_name": "Eve", "last_name": "Genesis", "vin": "X1"})
    swapped = list_hash(
        ListType.NAME_VIN, {"first_name": "Genesis", "last_name": "Eve", "vin": "X1"}
    )
    assert one != swapped
    expected = sha256_base64(sha256_base64("eve") + sha256_base64("genesis") + sha256_base64("x1"))
    assert one == expected


def test_a_composite_with_a_missing_or_empty_field_has_no_hash() -> None:
    assert (
        list_hash(ListType.NDZ, {"first_name": "A", "last_name": "B", "dob": "2000-01-01"}) is None
    )
    assert list_hash(ListType.EMAIL, {"email": "   "}) is None


def test_an_email_loses_surrounding_and_inner_whitespace_and_case_but_keeps_dots_and_tags() -> None:
    assert hashing.email("  A.Lice+Tag@Co.COM \n") == "a.lice+tag@co.com"


def test_a_short_phone_number_keeps_all_its_digits() -> None:
    assert hashing.phone("555-0134") == "5550134"
    assert hashing.phone("+1 (415) 555-0134") == "4155550134"


def test_names_lose_accents_spaces_and_punctuation_and_greek_and_cyrillic_become_latin() -> None:
    assert hashing.name("José") == "jose"
    assert hashing.name("Иван") == "ivan"
    assert hashing.name("Γιώργος") == "giorgos"
    assert hashing.name("O'Brien-Smith Jr.") == "obriensmithjr"
    assert hashing.name("王小明") == "王小明"  # no Latin form: kept as written


def test_a_date_of_birth_is_written_yyyymmdd_and_a_malformed_one_is_refused() -> None:
    assert hashing.date_of_birth("1985-07-04") == "19850704"
    assert hashing.date_of_birth(date(1985, 7, 4)) == "19850704"
    with pytest.raises(InvalidInputError):
        hashing.date_of_birth("July")


def test_list_types_are_read_as_drop_names_them_in_any_case() -> None:
    assert hashing.list_type_of("namevin") is ListType.NAME_VIN
    with pytest.raises(InvalidInputError):
        hashing.list_type_of("SSN")
