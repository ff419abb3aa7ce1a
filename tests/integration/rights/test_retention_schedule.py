"""The retention schedule destroys or de-identifies company data past its period, daily."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from rightful.connectors.sql import dispose_all
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.rights.erasure import apply_policy, current_policy
from rightful.rights.retention_schedule import preview_retention, run_retention
from rightful.security.permissions import system_actor
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
        apply_policy(session, text=SCHEDULE, actor=system_actor("test"))
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
        apply_policy(session, text=bad, actor=system_actor("test"))
    with runtime.sessions() as session, pytest.raises(InvalidInputError, match="date_field"):
        preview_retention(session, runtime.settings)
    runtime.engine.dispose()
    dispose_all()


def test_a_collection_without_a_primary_key_is_kept_to_its_schedule(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from rightful.core import clock
    from tests.support.peer_estate import DATASET, count, shop_runtime, sqlite_url

    dated = DATASET.replace(
        "      - name: visit\n", "      - name: visit\n        rightful: {date_field: last_visit}\n"
    )
    url = sqlite_url(tmp_path)
    runtime = shop_runtime(make_settings(tmp_path), url, dataset=dated)
    schedule = (
        "policy:\n  name: Visits\n  request_type: retention\n  schedules:\n"
        "    - {collection: shop.visit, keep_days: 20, action: delete}\n"
    )
    with unit_of_work(runtime.sessions) as session:
        apply_policy(session, text=schedule, actor=system_actor("test"))
    clock.freeze(datetime(2026, 12, 5, tzinfo=UTC))  # visits before November 15 are past
    try:
        with runtime.sessions() as session:
            done = run_retention(session, runtime.settings)
            again = run_retention(session, runtime.settings)
    finally:
        clock.freeze(None)
    assert [(c.collection, c.rows) for c in done] == [("visit", 1)]  # what the store deleted
    assert [c.rows for c in again] == [0]
    assert count(url, "SELECT count(*) FROM visit") == 2  # the two November 20-21 visits stay
    runtime.engine.dispose()
    dispose_all()


def test_the_stored_policy_is_parsed_once_and_again_when_replaced(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path), people=10)
    with unit_of_work(runtime.sessions) as session:
        apply_policy(session, text=SCHEDULE, actor=system_actor("test"))
    with runtime.sessions() as session:
        first, again = current_policy(session, "retention"), current_policy(session, "retention")
    assert first is again  # each batch of deletions asks: the YAML is not parsed each time
    longer = SCHEDULE.replace("keep_days: 730", "keep_days: 731")
    assert longer != SCHEDULE
    with unit_of_work(runtime.sessions) as session:
        apply_policy(session, text=longer, actor=system_actor("test"))
    with runtime.sessions() as session:
        replaced = current_policy(session, "retention")
    days = {s.collection: s.keep_days for s in replaced.schedules}
    assert 731 in days.values() and 730 not in days.values()
    runtime.engine.dispose()
    dispose_all()
