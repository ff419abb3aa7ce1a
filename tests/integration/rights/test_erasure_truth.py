"""A deletion says only what the stores report it did, row for row, on a dataset written the way
the open-source peer writes them (collections without primary keys)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights import service
from rightful.rights.execution import run_request
from tests.support.app import make_settings
from tests.support.peer_estate import (
    ALEX,
    SAM,
    approved_deletion,
    count,
    shop_runtime,
    sqlite_url,
)

TABLES = ("customer", "visit", "payment_card", "orders", "order_item", "product", "employee")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shop_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield (
        sqlite_url(tmp_path)
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    dispose_all()


def table_counts(url: str) -> dict[str, int]:
    return {t: count(url, f"SELECT count(*) FROM {t}") for t in TABLES}  # noqa: S608


def letter_of(runtime: Runtime, request_id: str) -> str:
    with runtime.sessions() as session:
        return next(
            open_letter(runtime.settings, m).text
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        )


def erase(runtime: Runtime, request_id: str) -> str:
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    return letter_of(runtime, request_id)


def deleted_per_table(letter: str) -> dict[str, int]:
    found = re.findall(r"^- Shop, ([a-z ]+): deleted (\d+) records?\.$", letter, re.M)
    return {name.replace(" ", "_"): int(n) for name, n in found}


def test_rows_without_a_primary_key_are_erased_and_the_email_matches_the_stores(
    tmp_path: Path, shop_url: str
) -> None:
    runtime = shop_runtime(make_settings(tmp_path), shop_url)
    before = table_counts(shop_url)
    letter = erase(runtime, approved_deletion(runtime, ALEX))
    after = table_counts(shop_url)
    # The visit log (found by e-mail) and saved cards (found by customer id) have no key.
    assert count(shop_url, "SELECT count(*) FROM visit WHERE email = :e", e=ALEX["email"]) == 0
    assert count(shop_url, "SELECT count(*) FROM payment_card WHERE customer_id = 1") == 0
    # Sam is untouched.
    assert count(shop_url, "SELECT count(*) FROM visit WHERE email = :e", e=SAM["email"]) == 1
    assert count(shop_url, "SELECT count(*) FROM payment_card WHERE customer_id = 2") == 1
    # Row for row: what the e-mail says deleted is exactly what left each table.
    gone = {t: before[t] - after[t] for t in TABLES if before[t] != after[t]}
    assert (
        deleted_per_table(letter)
        == gone
        == {
            "customer": 1,
            "visit": 2,
            "payment_card": 1,
            "orders": 1,
        }
    )
    runtime.engine.dispose()


def test_collections_where_nothing_changed_get_no_line(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    runtime = shop_runtime(make_settings(tmp_path), url)
    letter = erase(runtime, approved_deletion(runtime, ALEX))
    lines = [line for line in letter.splitlines() if line.startswith("- Shop")]
    assert lines and not any(
        name in line for line in lines for name in ("product", "order item", "employee")
    )
    assert not any("removed  from" in line or "from 0 record" in line for line in lines)
    with runtime.sessions() as session:
        record = service.access_request(session, service_id(runtime)).summary["erasure"]
    assert {i["collection"] for i in record} == {"customer", "visit", "payment_card", "orders"}
    runtime.engine.dispose()


def service_id(runtime: Runtime) -> str:
    from sqlalchemy import select

    from rightful.rights.models import RightsRequest

    with runtime.sessions() as session:
        return str(session.scalar(select(RightsRequest.id)))


def test_counts_are_what_the_store_changed_not_what_was_planned(tmp_path: Path) -> None:
    from rightful.rights.erasure_run import plan_erasure

    url = sqlite_url(tmp_path)
    runtime = shop_runtime(make_settings(tmp_path), url)
    request_id = approved_deletion(runtime, ALEX)
    with runtime.sessions() as session:
        plan_erasure(session, runtime.settings, service.access_request(session, request_id))
    # After the plan read two visits, the person visits again: the store deletes three.
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO visit (email, last_visit) VALUES (:e, '2026-12-01 08:00')"),
            {"e": ALEX["email"]},
        )
    engine.dispose()
    letter = erase(runtime, request_id)
    assert deleted_per_table(letter)["visit"] == 3
    assert count(url, "SELECT count(*) FROM visit WHERE email = :e", e=ALEX["email"]) == 0
    runtime.engine.dispose()


def test_a_store_that_committed_before_a_crash_is_still_reported(tmp_path: Path) -> None:
    from rightful.connectors.base import RowChange
    from rightful.connectors.sql import SQLConnector
    from rightful.rights.erasure_run import _vault, plan_erasure
    from rightful.rights.models import ErasureStep

    url = sqlite_url(tmp_path)
    runtime = shop_runtime(make_settings(tmp_path), url)
    request_id = approved_deletion(runtime, ALEX)
    with runtime.sessions() as session:
        plan_erasure(session, runtime.settings, service.access_request(session, request_id))
        step = session.query(ErasureStep).filter_by(request_id=request_id).one()
        changes = [
            RowChange.from_json(c) for c in _vault(runtime.settings).decrypt_json(step.changes)
        ]
    # The store commits the changes, and the worker dies before Rightful records that.
    store = SQLConnector(url)
    store.apply(changes)
    store.close()
    letter = erase(runtime, request_id)
    assert deleted_per_table(letter) == {"customer": 1, "visit": 2, "payment_card": 1, "orders": 1}
    runtime.engine.dispose()


def test_what_the_email_says_is_kept_about_the_request_is_exactly_what_is_kept(
    tmp_path: Path,
) -> None:
    from datetime import timedelta

    from rightful import laws
    from rightful.core import clock
    from rightful.rights.retention import minimise_old_requests

    url = sqlite_url(tmp_path)
    runtime = shop_runtime(make_settings(tmp_path), url)
    request_id = approved_deletion(runtime, ALEX)
    letter = erase(runtime, request_id)
    with runtime.sessions() as session:
        req = service.access_request(session, request_id)
        # Only the address stays on the record: not the name used to verify the person.
        assert service.identities_of(runtime.settings, req) == {"email": ALEX["email"]}
        closed = req.closed_at
    assert closed is not None
    end = closed + timedelta(days=runtime.settings.records_retention_days)
    until = laws.local_date(end, "US-CA").strftime("%B %-d, %Y")
    assert f"on {until} we remove your address from it" in letter
    assert "coded fingerprint of your e-mail address" in letter
    clock.freeze(closed + timedelta(days=runtime.settings.records_retention_days, hours=30))
    try:
        with runtime.sessions() as session:
            assert minimise_old_requests(session, runtime.settings) == 1
    finally:
        clock.freeze(None)
    with runtime.sessions() as session:
        req = service.access_request(session, request_id)
        assert service.identities_of(runtime.settings, req) == {}
        texts = [
            open_letter(runtime.settings, m).text
            for m in list_outbox(session, request_id=request_id)
        ]
    assert all(ALEX["email"] not in t for t in texts)
    runtime.engine.dispose()


NESTED_VISIT = """
          - name: who
            data_categories: [system.operations]
            fields:
              - name: email
                data_categories: [user.contact.email]
                fides_meta: {identity: email, data_type: string}"""


def test_rows_nothing_can_single_out_are_reported_not_erased(tmp_path: Path) -> None:
    from rightful.connectors import registry
    from rightful.connectors.testing import FakeConnector
    from tests.support.peer_estate import DATASET

    # A document store's visit log, found only through a nested field: no key, no top-level
    # value to find a row by.
    dataset = DATASET.replace(
        """      - name: visit
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}""",
        "      - name: visit\n        fields:" + NESTED_VISIT,
    )
    runtime = shop_runtime(make_settings(tmp_path), sqlite_url(tmp_path), dataset=dataset)
    store = FakeConnector(
        {
            "customer": [{"id": 1, "email": ALEX["email"], "name": ALEX["name"]}],
            "visit": [{"who.email": ALEX["email"], "last_visit": "2026-11-02"}],
        }
    )
    registry.override("shop", store)
    try:
        request_id = approved_deletion(runtime, ALEX)
        assert run_request(runtime.sessions, runtime.settings, request_id) == "partially_completed"
    finally:
        registry.override("shop", None)
    letter = letter_of(runtime, request_id)
    assert "- Shop, customer: deleted 1 record." in letter
    assert "What we could not delete:\n- Shop, visit: 1 record." in letter
    assert "visit: deleted" not in letter
    assert store.tables["visit"]  # still there, and said so
    runtime.engine.dispose()


def test_the_demo_deletion_email_matches_the_database_row_for_row(tmp_path: Path) -> None:
    from rightful.demo.estate import estate_metadata
    from tests.integration.rights.test_erasure import erase_avery, estate_urls, partners_confirm
    from tests.support.app import prepare

    urls = estate_urls(tmp_path, None)
    tables = {t.name: s for s, meta in estate_metadata().items() for t in meta.sorted_tables}

    def sizes() -> dict[str, int]:
        return {t: count(urls[s], f"SELECT count(*) FROM {t}") for t, s in tables.items()}  # noqa: S608

    runtime = prepare(make_settings(tmp_path), urls, people=40)
    before = sizes()
    cut_off = count(urls["storefront"], "SELECT count(*) FROM orders WHERE customer_id IS NULL")
    request_id = erase_avery(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    partners_confirm(runtime, request_id)
    letter = erase(runtime, request_id)
    after = sizes()
    said = {
        name.replace(" ", "_"): int(n)
        for name, n in re.findall(
            r"^- [A-Za-z ]+, ([a-z ]+): deleted (\d+) records?\.$", letter, re.M
        )
    }
    assert said == {t: before[t] - after[t] for t in tables if before[t] != after[t]}
    kept = re.search(r"^- Online store, orders: kept (\d+) records, with customer id", letter, re.M)
    now_cut_off = count(urls["storefront"], "SELECT count(*) FROM orders WHERE customer_id IS NULL")
    assert kept and int(kept.group(1)) == now_cut_off - cut_off
    runtime.engine.dispose()
