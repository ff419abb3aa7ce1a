"""API tokens: checked by digest, revocable, and older Argon2-hashed tokens still work."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core.db import make_engine
from rightful.core.errors import NotAllowedError
from rightful.migrations import upgrade
from rightful.security.models import ApiToken
from rightful.security.passwords import hash_secret
from rightful.security.permissions import system_actor
from rightful.security.service import access_token_owner, create_api_token, create_staff


@pytest.fixture
def session(tmp_path: Path) -> Session:
    engine = make_engine(f"sqlite:///{tmp_path}/tokens.db")
    upgrade(engine)
    return Session(engine)


def test_a_token_names_its_owner_and_nothing_else_does(session: Session) -> None:
    staff = create_staff(
        session, email="o@lumen.example", name="O", password="x" * 16, actor=system_actor("test")
    )
    token = create_api_token(session, staff=staff, name="t", actor=system_actor("test"))
    assert access_token_owner(session, token=token).email == "o@lumen.example"
    stored = session.scalars(select(ApiToken)).one().token_hash
    assert token.split("_", 2)[2] not in stored  # only a digest is kept
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "rf_nope_x", "", "Bearer"):
        with pytest.raises(NotAllowedError):
            access_token_owner(session, token=wrong)


def test_a_token_issued_with_argon2_still_works_and_is_upgraded(session: Session) -> None:
    staff = create_staff(
        session, email="o@lumen.example", name="O", password="x" * 16, actor=system_actor("test")
    )
    session.add(
        ApiToken(prefix="abc123", token_hash=hash_secret("s3cret"), name="old", staff_id=staff.id)
    )
    session.flush()
    assert access_token_owner(session, token="rf_abc123_s3cret").id == staff.id
    row = session.scalars(select(ApiToken).where(ApiToken.prefix == "abc123")).one()
    assert row.token_hash.startswith("sha256$")
    assert access_token_owner(session, token="rf_abc123_s3cret").id == staff.id
    with pytest.raises(NotAllowedError):
        access_token_owner(session, token="rf_abc123_wrong")
