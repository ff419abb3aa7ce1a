"""The retention schedule destroys or de-identifies company data past its period, daily."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from rightful.connectors.sql import dispose_all
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.rights.erasure import apply_policy
from rightful.rights.retention_schedule import preview_retention, run_retention
from rightful.worker.loop import run_once
from tests.support.app import make_settings, prepare

SCHEDULE = (Path(__file__).parents[3] / "docs/examples/retention.yml").read_text()


def counts(tmp_path: Path) -> tuple[int, int, int]:
    cutoff_sessions = (utcnow() - timedelta(days=730)).replace(tzinfo=None)
    cutoff_chats = (utcnow() - timedelta(days=1095)).replace(tzinfo=None)
    engagement = create_engine(f"sqlite:///{tmp_path}/estate/engagement.db")
    support = create_engine(f"sqlite:///{tmp_path}/estate/support_desk.db")
    with engagement.connect() as e, support.connect() as s:
        old_sessions = e.execute(
            text("SELECT count(*) FROM web_sessions WHERE started_at < :c"), {"c": cutoff_sessions}
        ).scalar()
        sessions = e.execute(text("SELECT count(*) FROM web_sessions")).scalar()
        readable_old_chats = s.execute(
            text("SELECT count(*) FROM chat_messages WHERE sent_at < :c AND body GLOB '*[a-z]*'"),
            {"c": cutoff_chats},
        ).scalar()
    engagement.dispose()
    support.dispose()
    return int(old_sessions or 0), int(sessions or 0), int(readable_old_chats or 0)


def test_the_schedule_is_previewed_then_applied_once_a_day(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path), people=60)
    with unit_of_work(runtime.sessions) as session:
        apply_policy(session, text=SCHEDULE, actor="test")
    old, total, old_chats = counts(tmp_path)
    assert old > 0 and old_chats > 0
    with runtime.sessions() as session:
        preview = {c.collection: c for c in preview_retention(session, runtime.settings)}
    assert preview["web_sessions"].rows == old and preview["web_sessions"].action == "delete"
    assert counts(tmp_path) == (old, total, old_chats)  # the preview changed nothing
    run_once(runtime)
    assert counts(tmp_path) == (0, total - old, 0)
    with runtime.sessions() as session:
        again = {c.collection: c.rows for c in run_retention(session, runtime.settings)}
    assert again["web_sessions"] == 0  # nothing left past its period
    runtime.engine.dispose()
    dispose_all()


def test_a_schedule_must_name_a_dated_collection(tmp_path: Path) -> None:
    import pytest

    from rightful.core.errors import InvalidInputError

    runtime = prepare(make_settings(tmp_path), people=20)
    bad = SCHEDULE.replace("engagement.web_sessions", "storefront.customers")
    with unit_of_work(runtime.sessions) as session:
        apply_policy(session, text=bad, actor="test")
    with runtime.sessions() as session, pytest.raises(InvalidInputError, match="date_field"):
        preview_retention(session, runtime.settings)
    runtime.engine.dispose()
    dispose_all()
