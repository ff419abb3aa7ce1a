"""A retained row as it will be once masked: its kept fields, the stored row left as it was."""

from __future__ import annotations

from typing import Any

from rightful.rights.erasure_plan import with_values


def test_the_row_as_it_will_be_once_masked_leaves_the_row_read_unchanged() -> None:
    row: dict[str, Any] = {
        "id": 7,
        "customer_id": 42,
        "meta": {"who": {"email": "a@example.com", "name": "Avery"}, "tier": "gold"},
        "tags": ["vip"],
    }
    after = with_values(row, {"customer_id": None, "meta.who.email": None, "meta.extra.x": 1})
    assert after == {
        "id": 7,
        "customer_id": None,
        "meta": {"who": {"email": None, "name": "Avery"}, "tier": "gold", "extra": {"x": 1}},
        "tags": ["vip"],
    }
    assert row == {
        "id": 7,
        "customer_id": 42,
        "meta": {"who": {"email": "a@example.com", "name": "Avery"}, "tier": "gold"},
        "tags": ["vip"],
    }


def test_a_member_set_under_a_field_holding_no_object_makes_one() -> None:
    assert with_values({"id": 1, "meta": "text"}, {"meta.email": None}) == {
        "id": 1,
        "meta": {"email": None},
    }


def test_two_members_of_one_object_are_both_set() -> None:
    row = {"who": {"email": "a@example.com", "phone": "555"}}
    assert with_values(row, {"who.email": None, "who.phone": None}) == {
        "who": {"email": None, "phone": None}
    }
    assert row == {"who": {"email": "a@example.com", "phone": "555"}}
