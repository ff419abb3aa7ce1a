"""Housekeeping verifies both hash chains once a day, records what it found, and tells the
privacy office (an e-mail) and the logs (no personal data) when one is broken."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from rightful.core import clock
from rightful.core.config import Settings
from rightful.core.runtime import Runtime, build_runtime
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import open_letter
from rightful.migrations import upgrade
from rightful.security import anchors, audit
from rightful.security.models import AuditChainHead, AuditEvent, ChainCheck
from rightful.worker.integrity import verify_chains_daily
from rightful.worker.loop import maintain


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))
    made = build_runtime(settings)
    upgrade(made.engine)
    with made.sessions() as session:
        for i in range(4):
            audit.record(session, actor="test", action=f"a{i}", subject_type="t", subject_id="1")
        session.commit()
    yield made
    clock.freeze(None)
    made.engine.dispose()


def _checks(runtime: Runtime) -> dict[str, ChainCheck]:
    with runtime.sessions() as session:
        return {c.chain: c for c in session.scalars(select(ChainCheck))}


def _alerts(runtime: Runtime) -> list[str]:
    """The integrity alerts in the outbox: recipient, subject and text."""
    with runtime.sessions() as session:
        found = session.scalars(select(OutboxMessage).filter_by(template="chain_broken")).all()
        letters = [open_letter(runtime.settings, m) for m in found]
    return [f"{letter.to}\n{letter.subject}\n{letter.text}" for letter in letters]


def test_housekeeping_verifies_both_chains_and_records_them_intact(runtime: Runtime) -> None:
    maintain(runtime)
    checks = _checks(runtime)
    assert set(checks) == {"audit", "consent"}
    assert all(c.intact and c.problem is None for c in checks.values())
    assert _alerts(runtime) == []


def test_each_chain_is_verified_once_a_day(runtime: Runtime) -> None:
    assert set(verify_chains_daily(runtime.sessions, runtime.settings)) == {"audit", "consent"}
    assert verify_chains_daily(runtime.sessions, runtime.settings) == {}
    clock.freeze(clock.utcnow() + timedelta(days=1, minutes=1))
    assert set(verify_chains_daily(runtime.sessions, runtime.settings)) == {"audit", "consent"}


def test_a_broken_chain_is_recorded_mailed_and_logged_without_personal_data(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with runtime.sessions() as session:
        newest = session.scalar(select(func.max(AuditEvent.id)))
        session.execute(delete(AuditEvent).where(AuditEvent.id == newest))
        session.commit()
    with caplog.at_level(logging.ERROR, logger="rightful.worker.integrity"):
        found = verify_chains_daily(runtime.sessions, runtime.settings)
    assert not found["audit"].intact and found["consent"].intact
    check = _checks(runtime)["audit"]
    assert (check.intact, check.problem, check.broken_at) == (False, "missing_at_end", newest - 1)
    [alert] = _alerts(runtime)
    assert alert.startswith(runtime.settings.privacy_email + "\nIntegrity alert: the audit chain")
    assert "The audit log: 1 event missing at the end" in alert
    [line] = [r.getMessage() for r in caplog.records]
    assert line == (
        f"integrity check: the audit chain is broken (missing_at_end at record {newest - 1})"
    )


def test_a_log_cut_below_its_anchor_is_recorded_and_mailed(runtime: Runtime) -> None:
    """The daily check anchors the heads it found intact; the next day, a log whose newest
    events were deleted and its head rewritten to match is held to that anchor."""
    assert verify_chains_daily(runtime.sessions, runtime.settings)["audit"].intact
    anchored = anchors.path_of(runtime.settings, anchors.AUDIT).read_text().splitlines()
    assert [json.loads(line)["events"] for line in anchored] == [4]
    with runtime.sessions() as session:
        ids = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
        session.execute(delete(AuditEvent).where(AuditEvent.id == ids[-1]))
        last = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == ids[-2]))
        session.execute(
            update(AuditChainHead).where(AuditChainHead.id == 1).values(events=3, last_hash=last)
        )
        session.commit()
    clock.freeze(clock.utcnow() + timedelta(days=1, minutes=1))
    found = verify_chains_daily(runtime.sessions, runtime.settings)
    assert (found["audit"].problem, found["audit"].broken_at) == ("shorter_than_anchored", ids[-2])
    assert _checks(runtime)["audit"].problem == "shorter_than_anchored"
    [alert] = _alerts(runtime)
    assert "The audit log: The log holds fewer events than it did on " in alert
    assert ": 1 event at the end is missing (it held 4, anchored on line 1" in alert


def test_the_days_anchors_are_mailed_to_the_archive_when_set(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"audit_anchor_email": "archive@lumen.example"})
    verify_chains_daily(runtime.sessions, settings)
    with runtime.sessions() as session:
        [mail] = session.scalars(select(OutboxMessage).filter_by(template="chain_anchored"))
        letter = open_letter(settings, mail)
    audit_line = anchors.newest_line(settings, anchors.AUDIT)
    assert letter.to == "archive@lumen.example" and audit_line and audit_line in letter.text
    assert json.loads(audit_line)["events"] == 4
