"""A request's outcome as DROP's status code: only from what the stores and staff did."""

from __future__ import annotations

from rightful.drop.outcomes import request_code

DELETED_ROWS = [{"action": "delete_rows", "changed": 3}, {"action": "retain_rows", "rows": 2}]
ONLY_KEPT = [{"action": "retain_rows", "rows": 2}]


def test_a_deletion_is_reported_deleted_once_its_stores_reported_rows_changed() -> None:
    assert request_code("delete", "executing", {"erasure": DELETED_ROWS}, False) == 3
    assert request_code("delete", "completed", {"erasure": DELETED_ROWS}, False) == 3


def test_a_deletion_that_kept_everything_by_law_is_exempted() -> None:
    assert request_code("delete", "completed", {"erasure": ONLY_KEPT}, False) == 2
    assert request_code("delete", "denied", {}, False) == 2  # staff refused it, with a reason


def test_nothing_is_reported_before_the_stores_answer_or_when_rows_were_left() -> None:
    assert request_code("delete", "executing", {}, False) is None
    assert request_code("delete", "executing", {"erasure": DELETED_ROWS}, True) is None
    left = {"erasure": DELETED_ROWS, "not_erased": [{"rows": 1}]}
    assert request_code("delete", "partially_completed", left, False) is None


def test_an_opt_out_counts_once_it_is_recorded() -> None:
    assert request_code("opt_out_sale", "executing", {}, False) is None
    assert request_code("opt_out_sale", "completed", {"opted_out": ["x"]}, False) == 4
