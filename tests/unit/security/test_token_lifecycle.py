"""API token lifecycle: scopes within the owner's role, an expiry, last use kept cheaply,
revoking, and a deactivated owner's tokens stop working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core import clock
from rightful.core.db import make_engine
from rightful.core.errors import ForbiddenError, InvalidInputError, NotAllowedError
from rightful.migrations import upgrade
from rightful.security.api_tokens import list_tokens, revoke_token, token_actor
from rightful.security.models import ApiToken, AuditEvent, StaffUser
from rightful.security.permissions import Permission, Role, staff_actor, system_actor
from rightful.security.service import create_api_token, create_staff, deactivate_staff

SYSTEM = system_actor("test")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(tmp_path: Path) -> Session:
    engine = make_engine(f"sqlite:///{tmp_path}/tokens.db")
    upgrade(engine)
    return Session(engine)


@pytest.fixture(autouse=True)
def frozen() -> object:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def staff(session: Session, role: Role, email: str = "o@lumen.example") -> StaffUser:
    return create_staff(session, email=email, name="O", password="x" * 16, role=role, actor=SYSTEM)


def row(session: Session, token: str) -> ApiToken:
    return session.scalars(select(ApiToken).where(ApiToken.prefix == token.split("_")[1])).one()


def test_a_token_gets_the_owners_role_by_default_and_expires_in_90_days(session: Session) -> None:
    token = create_api_token(session, staff=staff(session, Role.ANALYST), name="t", actor=SYSTEM)
    actor = token_actor(session, token=token)
    assert actor.name == "o@lumen.example" and actor.can(Permission.REQUESTS_READ_PERSONAL)
    assert not actor.can(Permission.REQUESTS_DECIDE)
    assert row(session, token).expires_at == NOW + timedelta(days=90)


def test_a_token_with_scopes_may_do_only_those(session: Session) -> None:
    owner = staff(session, Role.ADMIN)
    token = create_api_token(
        session, staff=owner, name="t", actor=SYSTEM, scopes=["consent.check"], days=7
    )
    assert token_actor(session, token=token).permissions == {Permission.CONSENT_CHECK}
    assert row(session, token).expires_at == NOW + timedelta(days=7)


def test_a_token_cannot_hold_more_than_its_owners_role(session: Session) -> None:
    owner = staff(session, Role.VIEWER)
    for scopes in (["requests.decide"], ["no.such"], []):
        with pytest.raises(InvalidInputError):
            create_api_token(session, staff=owner, name="t", actor=SYSTEM, scopes=scopes)
    with pytest.raises(InvalidInputError):
        create_api_token(session, staff=owner, name="t", actor=SYSTEM, days=0)


def test_a_demoted_owners_token_shrinks_with_the_role(session: Session) -> None:
    owner = staff(session, Role.ADMIN)
    token = create_api_token(session, staff=owner, name="t", actor=SYSTEM)
    owner.role = Role.VIEWER.value
    assert not token_actor(session, token=token).can(Permission.TOKENS_MANAGE)


def test_an_expired_token_is_refused_like_a_wrong_one(session: Session) -> None:
    token = create_api_token(
        session, staff=staff(session, Role.ADMIN), name="t", actor=SYSTEM, days=1
    )
    clock.freeze(NOW + timedelta(days=1, seconds=1))
    with pytest.raises(NotAllowedError) as refused:
        token_actor(session, token=token)
    assert "expired" in refused.value.detail


def test_last_use_is_kept_at_most_once_a_minute(session: Session) -> None:
    token = create_api_token(session, staff=staff(session, Role.ADMIN), name="t", actor=SYSTEM)
    token_actor(session, token=token)
    assert row(session, token).last_used_at == NOW
    clock.freeze(NOW + timedelta(seconds=30))
    token_actor(session, token=token)
    session.expire_all()
    assert row(session, token).last_used_at == NOW
    clock.freeze(NOW + timedelta(minutes=2))
    token_actor(session, token=token)
    session.expire_all()
    assert row(session, token).last_used_at == NOW + timedelta(minutes=2)


def test_a_revoked_token_stops_working_and_the_revocation_is_audited(session: Session) -> None:
    token = create_api_token(session, staff=staff(session, Role.ADMIN), name="t", actor=SYSTEM)
    revoke_token(session, prefix=token.split("_")[1], actor=SYSTEM)
    with pytest.raises(NotAllowedError):
        token_actor(session, token=token)
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "token.revoked" in actions
    [listed] = list_tokens(session, actor=SYSTEM)
    assert not listed.live and listed.revoked_at == NOW


def test_a_deactivated_staff_members_tokens_stop_working(session: Session) -> None:
    owner = staff(session, Role.ADMIN)
    staff(session, Role.ADMIN, "deputy@lumen.example")  # the last administrator stays
    token = create_api_token(session, staff=owner, name="t", actor=SYSTEM)
    deactivate_staff(session, email=owner.email, actor=SYSTEM)
    with pytest.raises(NotAllowedError):
        token_actor(session, token=token)
    staff(session, Role.ADMIN)  # a new password reactivates the account, not its old tokens
    with pytest.raises(NotAllowedError):
        token_actor(session, token=token)


def test_only_admins_manage_staff_and_tokens(session: Session) -> None:
    analyst = staff(session, Role.ANALYST, "a@lumen.example")
    acting = staff_actor(name=analyst.email, staff_id=analyst.id, role=analyst.role)
    with pytest.raises(ForbiddenError):
        create_api_token(session, staff=analyst, name="mine", actor=acting)
    with pytest.raises(ForbiddenError):
        create_staff(
            session, email="b@x.example", name="B", password="x" * 16, role="admin", actor=acting
        )
    with pytest.raises(ForbiddenError):
        list_tokens(session, actor=acting)
    with pytest.raises(ForbiddenError):
        deactivate_staff(session, email=analyst.email, actor=acting)


def test_a_new_staff_member_gets_the_role_asked_for(session: Session) -> None:
    assert staff(session, Role.APPROVER).role == "approver"
    with pytest.raises(InvalidInputError):
        create_staff(
            session, email="c@x.example", name="C", password="x" * 16, role="owner", actor=SYSTEM
        )
