"""Erasure in the real stores: rows gone or masked as the policy says, safely re-runnable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from rightful.connectors import registry
from rightful.connectors.sql import dispose_all
from rightful.connectors.testing import FakeConnector
from rightful.consent.models import Suppression
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import SYSTEMS, estate_metadata
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights import flows, service
from rightful.rights.execution import run_request
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from tests.support.app import AVERY, latest_code, make_settings, prepare


def erase_avery(runtime: Runtime) -> str:
    data = RequestIn(
        request_type="delete", email=AVERY["email"], phone_number=AVERY["phone_number"]
    )  # type: ignore[arg-type]
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client=None).id
    with unit_of_work(runtime.sessions) as session:
        flows.verify(
            session, runtime.settings, request_id=request_id, code=latest_code(runtime, request_id)
        )
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    return request_id


def snapshot(urls: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for system, meta in estate_metadata().items():
        engine = create_engine(urls[system])
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                out[table.name] = [tuple(r) for r in rows]
        engine.dispose()
    return out


def estate_urls(tmp_path: Path, shared: str | None) -> dict[str, str]:
    if shared:
        return {key: shared for key in SYSTEMS}
    (tmp_path / "estate").mkdir(parents=True, exist_ok=True)
    return {key: f"sqlite:///{tmp_path}/estate/{key}.db" for key in SYSTEMS}


def partners_confirm(runtime: Runtime, request_id: str) -> None:
    """Every partner confirms through its signed link, as the e-mailed ones would."""
    from rightful.rights import partners
    from rightful.rights.models import PartnerNotice
    from rightful.security.tokens import LinkSigner

    signer = LinkSigner(runtime.settings.secret_key, "partner-ack")
    with unit_of_work(runtime.sessions) as session:
        ids = list(
            session.scalars(select(PartnerNotice.id).where(PartnerNotice.request_id == request_id))
        )
        for notice_id in ids:
            partners.acknowledge(session, runtime.settings, token=signer.sign(str(notice_id)))


def run_erasure(tmp_path: Path, shared: str | None = None) -> tuple[Runtime, str, dict[str, str]]:
    urls = estate_urls(tmp_path, shared)
    runtime = prepare(make_settings(tmp_path), urls, people=40)
    request_id = erase_avery(runtime)
    # Erased in our stores, then waiting for the business partners' confirmations.
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    partners_confirm(runtime, request_id)
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    return runtime, request_id, urls


def check_erased(urls: dict[str, str]) -> None:
    store = create_engine(urls["storefront"])
    with store.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
        assert q("SELECT id FROM customers WHERE id = 1") == []
        assert q("SELECT id FROM addresses WHERE customer_id = 1") == []
        assert q("SELECT id FROM payment_methods WHERE customer_id = 1") == []
        assert q("SELECT id FROM product_reviews WHERE customer_id = 1") == []
        # Orders are kept for tax, cut off from Avery.
        kept = q(
            "SELECT customer_id, shipping_address_id, total FROM orders WHERE id IN "
            "(SELECT order_id FROM order_items) AND customer_id IS NULL"
        )
        assert len(kept) == 3 and all(r[0] is None and r[1] is None and r[2] for r in kept)
        assert q("SELECT count(*) FROM customers WHERE id > 2")[0][0] == 38  # nobody else touched
    store.dispose()
    support = create_engine(urls["support_desk"])
    with support.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM support_tickets WHERE customer_email = "
                    "'avery.quinn@example.com'"
                )
            ).scalar()
            == 0
        )
    support.dispose()
    engagement = create_engine(urls["engagement"])
    with engagement.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM marketing_subscriptions WHERE email = "
                    "'avery.quinn@example.com'"
                )
            ).scalar()
            == 0
        )
        assert (
            conn.execute(text("SELECT count(*) FROM devices WHERE customer_id = 1")).scalar() == 0
        )
    engagement.dispose()


def test_erasure_on_sqlite_deletes_masks_and_keeps_as_the_policy_says(tmp_path: Path) -> None:
    runtime, request_id, urls = run_erasure(tmp_path)
    check_erased(urls)
    with runtime.sessions() as session:
        letter = next(
            open_letter(runtime.settings, m)
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        )
        suppressed = list(session.scalars(select(Suppression.identity_hash)))
    assert "deleted 1 record" in letter.text
    assert "kept 3 records" in letter.text and "seven years" in letter.text
    assert len(suppressed) == 1 and "avery" not in suppressed[0]
    runtime.engine.dispose()
    dispose_all()


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_erasure_respects_foreign_keys_in_stores_that_enforce_them(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    runtime, _, urls = run_erasure(tmp_path, request.getfixturevalue(f"{kind}_url"))
    check_erased(urls)
    runtime.engine.dispose()
    dispose_all()


def test_an_interrupted_erasure_ends_exactly_like_an_uninterrupted_one(tmp_path: Path) -> None:
    whole_runtime, _, whole_urls = run_erasure(tmp_path / "whole")
    whole = snapshot(whole_urls)
    whole_runtime.engine.dispose()
    dispose_all()

    urls = estate_urls(tmp_path / "broken", None)
    runtime = prepare(make_settings(tmp_path / "broken"), urls, people=40)
    request_id = erase_avery(runtime)
    registry.override("engagement", FakeConnector(reachable=False))
    try:
        # The plan reads every system first, so break the store only for the writes.
        from rightful.rights.erasure_run import plan_erasure

        registry.override("engagement", None)
        with runtime.sessions() as session:
            req = service.access_request(session, request_id)
            plan_erasure(session, runtime.settings, req)
        registry.override("engagement", FakeConnector(reachable=False))
        assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    finally:
        registry.override("engagement", None)
    clock.freeze(clock.utcnow() + timedelta(minutes=5))
    try:
        assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
        partners_confirm(runtime, request_id)
        assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    finally:
        clock.freeze(None)
    assert snapshot(urls) == whole
    runtime.engine.dispose()
    dispose_all()


def test_rows_kept_for_a_legal_period_are_destroyed_when_it_ends(tmp_path: Path) -> None:
    from rightful.worker.loop import run_once

    runtime, _, urls = run_erasure(tmp_path)
    store = create_engine(urls["storefront"])
    kept = "SELECT count(*) FROM orders WHERE customer_id IS NULL"
    with store.connect() as conn:
        assert conn.execute(text(kept)).scalar() == 3
    clock.freeze(clock.utcnow() + timedelta(days=365 * 7 - 10))  # not yet
    try:
        run_once(runtime)
    finally:
        clock.freeze(None)
    with store.connect() as conn:
        assert conn.execute(text(kept)).scalar() == 3
    clock.freeze(clock.utcnow() + timedelta(days=365 * 7 + 5))
    try:
        run_once(runtime)
        run_once(runtime)  # nothing left to do the second time
    finally:
        clock.freeze(None)
    with store.connect() as conn:
        assert conn.execute(text(kept)).scalar() == 0
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM order_items WHERE order_id NOT IN (SELECT id FROM orders)"
                )
            ).scalar()
            == 0
        )
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() > 0  # others untouched
    store.dispose()
    runtime.engine.dispose()
    dispose_all()


def test_the_completion_email_lists_one_line_per_collection(tmp_path: Path) -> None:
    runtime, request_id, _ = run_erasure(tmp_path)
    with runtime.sessions() as session:
        letter = next(
            open_letter(runtime.settings, m)
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        )
    lines = [x for x in letter.text.splitlines() if x.startswith("- Online store")]
    assert any(x.startswith("- Online store, customers: deleted 1 record.") for x in lines)
    assert all(x.count(" - ") == 0 and x.count(".- ") == 0 for x in lines)
    runtime.engine.dispose()
    dispose_all()


def test_many_erasures_share_one_read_per_collection(tmp_path: Path) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from rightful.worker.loop import run_once

    urls = estate_urls(tmp_path, None)
    runtime = prepare(make_settings(tmp_path), urls, people=40)
    avery = erase_avery(runtime)
    data = RequestIn(
        request_type="delete",
        email="jordan.lee@example.com",  # type: ignore[arg-type]
        phone_number="510-555-0199",
    )
    with unit_of_work(runtime.sessions) as session:
        jordan = flows.submit(session, runtime.settings, data, client=None).id
    with unit_of_work(runtime.sessions) as session:
        flows.verify(
            session, runtime.settings, request_id=jordan, code=latest_code(runtime, jordan)
        )
        service.approve_request(
            session, runtime.settings, request_id=jordan, actor=system_actor("test")
        )
    from rightful.consent import store_import

    with runtime.sessions() as session:  # the demo store's first import, due since it was added
        store_import.import_due(session, runtime.settings)
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if (
            "/estate/" in str(conn.engine.url)
            and statement.lstrip().upper().startswith("SELECT")
            and "sqlite_" not in statement
        ):
            reads.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert run_once(runtime) == 2
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert len(reads) == 11  # one per collection for both people, not 11 each
    for request_id in (avery, jordan):
        partners_confirm(runtime, request_id)
    run_once(runtime)
    store = create_engine(urls["storefront"])
    with store.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).scalar()  # noqa: E731
        assert q("SELECT count(*) FROM customers WHERE id IN (1, 2)") == 0
        assert q("SELECT count(*) FROM customers") == 38  # nobody else touched
        assert q("SELECT count(*) FROM orders WHERE customer_id IS NULL") == 4  # 3 + 1 kept
        assert q("SELECT count(*) FROM addresses WHERE customer_id IN (1, 2)") == 0
    store.dispose()
    with runtime.sessions() as session:
        statuses = {service.access_request(session, r).status for r in (avery, jordan)}
    assert statuses == {"completed"}
    runtime.engine.dispose()
    dispose_all()


def test_the_completion_email_arrives_over_smtp_saying_what_was_kept_and_why(
    tmp_path: Path, smtp_server: Any
) -> None:
    from rightful.messaging.service import deliver_pending

    urls = estate_urls(tmp_path, None)
    runtime = prepare(make_settings(tmp_path, smtp_url=smtp_server.url), urls, people=40)
    request_id = erase_avery(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    partners_confirm(runtime, request_id)
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    with runtime.sessions() as session:
        deliver_pending(session, runtime.settings)
    mail = smtp_server.wait_for("avery.quinn@example.com", subject_contains="deleted")
    body = mail.get_body(("plain",)).get_content()
    assert "Online store, orders: kept 3 records" in body
    assert "seven years" in body and "We will destroy them by" in body
    runtime.engine.dispose()
    dispose_all()


def test_imports_can_be_checked_against_the_erased(tmp_path: Path) -> None:
    from rightful.consent.suppression import erased as suppressed

    runtime, _, _ = run_erasure(tmp_path)
    with runtime.sessions() as session:
        found = suppressed(
            session, runtime.settings, ["Avery.Quinn@example.com", "jordan.lee@example.com"]
        )
    assert found == ["Avery.Quinn@example.com"]
    runtime.engine.dispose()
    dispose_all()
