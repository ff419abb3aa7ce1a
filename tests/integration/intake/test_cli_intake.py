"""`rightful rights submit` records a letter through the same service as the console and API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rightful.core.clock import utcnow
from rightful.rights.models import RightsRequest
from tests.support.app import App
from tests.support.signin import run_cli


def test_the_cli_records_a_letter_without_e_mail_from_the_day_it_came(
    rightful_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = utcnow().date() - timedelta(days=7)
    out = run_cli(
        rightful_app,
        monkeypatch,
        "rights", "submit", "--type", "delete", "--name", "Morgan Lee",
        "--received", received.isoformat(), "--identity-method", "signed_letter",
        "--address", "8 Pine Road, Oakland, CA 94612",
    )  # fmt: skip
    assert "awaiting_approval" in out
    with rightful_app.runtime.sessions() as session:
        req = session.scalars(select(RightsRequest)).one()
    assert req.received_at.date() == received and req.reply_by == "post"
    assert req.respond_due == received + timedelta(days=45)
    assert req.identity_method == "signed_letter" and req.identity_checked_by
