"""New staff passwords: at least 12 characters and none of the common ones, even dressed up."""

from __future__ import annotations

import pytest

from rightful.core.errors import InvalidInputError
from rightful.security.password_policy import check_new_password, common_passwords, is_common


def test_the_bundled_list_holds_the_usual_suspects() -> None:
    listed = common_passwords()
    assert len(listed) > 19_000
    assert {"123456", "password", "qwerty", "iloveyou", "password1234"} <= listed


@pytest.mark.parametrize(
    "password",
    [
        "password1234",  # listed as it is
        "Password1234",  # case does not matter
        "qwertyuiop[]",
        "sunshine2024!!",  # a listed one with digits and symbols around it
        "!!monkey123456",
        "dragondragondragon",  # a listed one repeated
        "iloveyouiloveyou",
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert is_common(password)
    with pytest.raises(InvalidInputError, match="one of the most common"):
        check_new_password(password)


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "plover minnow cobalt sextant", "x" * 16]
)
def test_uncommon_passwords_of_twelve_characters_or_more_are_accepted(password: str) -> None:
    check_new_password(password)


def test_short_passwords_are_refused_first() -> None:
    with pytest.raises(InvalidInputError, match="at least 12 characters"):
        check_new_password("password")
