"""A batch of corrections is refused when one request's correction could change what another's
finds or writes: one by one, the later request would read the earlier one's result."""

from rightful.rights.correction import FieldCorrection
from rightful.rights.correction_run import _entangled
from rightful.rights.planning import build_plan
from tests.unit.rights.test_planning import SYSTEMS, demo_specs

STEPS = build_plan(demo_specs(), system_of=SYSTEMS, identity_types=["email"])


def _phone(customer: int, new: str) -> FieldCorrection:
    return FieldCorrection(
        "storefront", "customers", "phone", (("id", customer),), "+14155550134", new
    )


def test_corrections_of_different_rows_go_together() -> None:
    plans = {"a": [_phone(1, "+14155550100")], "b": [_phone(2, "+14155550100")]}
    assert not _entangled(STEPS, plans)


def test_two_corrections_of_the_same_field_of_one_row_are_refused() -> None:
    plans = {"a": [_phone(1, "+14155550100")], "b": [_phone(1, "+14155550177")]}
    assert _entangled(STEPS, plans)


def test_a_correction_of_a_field_rows_are_found_by_is_refused() -> None:
    by_email = FieldCorrection(
        "storefront", "customers", "email", (("id", 1),), "a@example.com", "b@example.com"
    )
    assert _entangled(STEPS, {"a": [by_email], "b": [_phone(2, "+14155550100")]})
