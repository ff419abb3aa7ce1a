"""The declaration a consumer signs cites the law of their own state."""

from __future__ import annotations

import pytest

from rightful.core.errors import InvalidInputError
from rightful.identity.normalize import US_STATE_NAMES
from rightful.rights.declaration import declaration_for


def test_every_state_the_form_offers_has_its_own_declaration() -> None:
    texts = {code: declaration_for(f"US-{code}") for code in US_STATE_NAMES}
    assert len(set(texts.values())) == len(US_STATE_NAMES)
    for code, name in US_STATE_NAMES.items():
        assert "under the laws of the " in texts[code] and name in texts[code]
        assert code == "CA" or "California" not in texts[code]


@pytest.mark.parametrize(
    ("code", "law"),
    [
        ("CA", "the laws of the State of California"),
        ("tx", "the laws of the State of Texas"),
        ("VA", "the laws of the Commonwealth of Virginia"),
        ("DC", "the laws of the District of Columbia"),
        ("US-KY", "the laws of the Commonwealth of Kentucky"),
        ("IE", "the laws of Ireland"),
        ("US-OTHER", "the laws of the State where I live"),
    ],
)
def test_each_jurisdiction_is_cited_in_its_own_style(code: str, law: str) -> None:
    assert declaration_for(code).startswith(f"I declare under penalty of perjury under {law} that")


def test_a_jurisdiction_we_do_not_know_gets_no_california_text() -> None:
    with pytest.raises(InvalidInputError):
        declaration_for("ZZ")
