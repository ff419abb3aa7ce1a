"""The permission table: each role includes the one before it, a token never exceeds its
owner's role, and `require` refuses with the forbidden error."""

from __future__ import annotations

import pytest

from rightful.core.errors import ForbiddenError
from rightful.security.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    operator_actor,
    require,
    staff_actor,
    system_actor,
)

P = Permission


def test_each_role_includes_the_one_before_it() -> None:
    viewer, analyst, approver, admin = (ROLE_PERMISSIONS[r] for r in Role)
    assert viewer < analyst < approver < admin == frozenset(Permission)


def test_a_viewer_reads_queues_and_counts_but_no_personal_data() -> None:
    viewer = ROLE_PERMISSIONS[Role.VIEWER]
    assert {P.REQUESTS_VIEW, P.CONSENT_VIEW, P.INVENTORY_VIEW} <= viewer
    assert not {p for p in viewer if p.value.endswith("read_personal")}
    assert P.OUTBOX_READ not in viewer  # letters carry addresses


def test_only_approvers_and_admins_decide_and_approve_erasure() -> None:
    for role in Role:
        decides = {P.REQUESTS_DECIDE, P.ERASURE_APPROVE} <= ROLE_PERMISSIONS[role]
        assert decides == (role in (Role.APPROVER, Role.ADMIN))


def test_staff_and_tokens_and_settings_are_for_admins_only() -> None:
    for role in (Role.VIEWER, Role.ANALYST, Role.APPROVER):
        assert (
            not {P.STAFF_MANAGE, P.TOKENS_MANAGE, P.INVENTORY_MANAGE, P.POLICIES_MANAGE}
            & (ROLE_PERMISSIONS[role])
        )


def test_a_token_holds_its_owners_role_narrowed_to_its_scopes() -> None:
    token = staff_actor(
        name="a@x", staff_id=1, role="analyst", scopes=["consent.check", "staff.manage"], token_id=7
    )
    assert token.permissions == {P.CONSENT_CHECK}  # staff.manage is beyond an analyst
    assert token.kind == "token" and token.role == Role.ANALYST


def test_an_unknown_role_or_scope_grants_nothing() -> None:
    assert staff_actor(name="a@x", staff_id=1, role="owner").permissions == frozenset()
    assert staff_actor(name="a@x", staff_id=1, role="admin", scopes=["all"]).permissions == set()


def test_require_refuses_with_a_403_naming_the_permission() -> None:
    viewer = staff_actor(name="v@x", staff_id=1, role="viewer")
    require(viewer, P.REQUESTS_VIEW)
    with pytest.raises(ForbiddenError) as refused:
        require(viewer, P.REQUESTS_DECIDE)
    assert refused.value.status == 403 and "requests.decide" in refused.value.detail


def test_the_operator_acts_as_admin_and_the_system_holds_everything() -> None:
    assert operator_actor().permissions == ROLE_PERMISSIONS[Role.ADMIN]
    assert system_actor("worker").permissions == frozenset(Permission)
    assert operator_actor().kind == "operator" and system_actor("demo").name == "demo"
