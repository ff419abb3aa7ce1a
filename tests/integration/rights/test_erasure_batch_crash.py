"""A worker killed with SIGKILL in the middle of a batch of deletions - inside a store's
transaction, or after the stores committed but before Rightful recorded the batch's bookkeeping -
and the batch finished by another worker: every request completed once, with the records,
counts, rows left, notices, audit events and e-mails of an uninterrupted run (PostgreSQL)."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime
from rightful.demo.estate import SYSTEMS
from rightful.messaging.models import OutboxMessage
from rightful.rights.models import ErasureStep, PartnerNotice, RightsRequest
from tests.integration.rights.test_erasure import snapshot
from tests.integration.rights.test_erasure_batches import (
    PEOPLE,
    _answer_partners,
    _outcomes,
    _ready,
    _run,
)
from tests.support import workers
from tests.support.workers import wait_for

# Inside the store's transaction: each deleted review takes 3 s.
SLOW_ESTATE = """
CREATE FUNCTION slow_delete() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(3); RETURN OLD; END $$ LANGUAGE plpgsql;
CREATE TRIGGER slow BEFORE DELETE ON product_reviews FOR EACH ROW EXECUTE FUNCTION slow_delete();
"""
# After the stores committed: the batch's bookkeeping stops at its suppression entries.
SLOW_BOOKKEEPING = """
CREATE FUNCTION slow_insert() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$ LANGUAGE plpgsql;
CREATE TRIGGER slow BEFORE INSERT ON suppressions FOR EACH STATEMENT EXECUTE FUNCTION slow_insert();
"""


def start_worker(runtime: Runtime) -> subprocess.Popen[bytes]:
    return workers.start_worker(runtime)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _systems_done(runtime: Runtime) -> Counter[str]:
    with runtime.sessions() as session:
        return Counter(
            session.scalars(select(ErasureStep.system).where(ErasureStep.done_at.is_not(None)))
        )


def _sleeping_in(url: str) -> bool:
    """A statement of this database is inside the trigger's pg_sleep."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event = 'PgSleep'"
            )
        ).scalar()
    engine.dispose()
    return bool(found)


def _all(runtime: Runtime, ids: list[str], check: Callable[[RightsRequest], bool]) -> bool:
    with runtime.sessions() as session:
        reqs = session.scalars(select(RightsRequest).where(RightsRequest.id.in_(ids)))
        return all(check(r) for r in reqs)


def _consumer_view(outcomes: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """What the person and the record see: the worker also sent the partners' notices by
    e-mail (its propagation lane), which the uninterrupted run, in process, did not."""
    return [
        {
            **o,
            "notices": [(key, channel, note) for key, channel, _, note in o["notices"]],
            "letters": [x for x in o["letters"] if x[0] != "partner_erasure"],
        }
        for o in outcomes
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["in_a_store", "before_bookkeeping"])
def test_a_batch_killed_mid_way_is_finished_once_by_another_worker(
    tmp_path: Path, make_postgres_db: Callable[[], str], where: str
) -> None:
    clean_erased, clean_done, clean_estate = _run(
        tmp_path / "clean", dict.fromkeys(SYSTEMS, make_postgres_db()), make_postgres_db(), batch=1
    )
    estate, store = make_postgres_db(), make_postgres_db()
    urls = dict.fromkeys(SYSTEMS, estate)
    runtime, ids = _ready(tmp_path / "crash", urls, store, batch=50)
    slowed = estate if where == "in_a_store" else store
    engine = create_engine(slowed)
    with engine.begin() as conn:
        conn.execute(text(SLOW_ESTATE if where == "in_a_store" else SLOW_BOOKKEEPING))

    worker = start_worker(runtime)
    try:
        if where == "in_a_store":  # the store's customers' system is erased last
            wait_for(lambda: _systems_done(runtime)["support_desk"] == PEOPLE, "the first systems")
        else:
            wait_for(lambda: sum(_systems_done(runtime).values()) == 3 * PEOPLE, "every store")
        wait_for(lambda: _sleeping_in(slowed), "the worker inside the slowed transaction")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        _stop(worker)
    with runtime.sessions() as session:  # nothing of the killed transaction was kept
        assert session.scalar(select(func.count()).select_from(PartnerNotice)) == 0
        assert _all(runtime, ids, lambda r: r.status == "executing" and not r.summary)
    if where == "in_a_store":
        assert _systems_done(runtime)["storefront"] == 0
    with engine.begin() as conn:
        table = "product_reviews" if where == "in_a_store" else "suppressions"
        conn.execute(text(f"DROP TRIGGER slow ON {table}"))
    engine.dispose()

    worker = start_worker(runtime)
    try:
        wait_for(lambda: _all(runtime, ids, lambda r: "erasure" in r.summary), "the batch")
        assert _consumer_view(_outcomes(runtime, ids)) == _consumer_view(clean_erased)
        _answer_partners(runtime, ids)
        wait_for(lambda: _all(runtime, ids, lambda r: r.status == "completed"), "completion")
    finally:
        _stop(worker)
    assert _consumer_view(_outcomes(runtime, ids)) == _consumer_view(clean_done)
    assert snapshot(urls) == clean_estate  # no row erased twice, none left
    with runtime.sessions() as session:  # each partner told once a request, by one e-mail
        notices = session.execute(
            select(PartnerNotice.request_id, PartnerNotice.partner_key, PartnerNotice.channel)
        ).all()
        assert len(notices) == len({(r, k) for r, k, _ in notices}) == 5 * PEOPLE
        by_mail = Counter(r for r, _, channel in notices if channel == "email")
        sent = session.scalars(
            select(OutboxMessage.request_id).where(OutboxMessage.template == "partner_erasure")
        )
        assert all(by_mail[r] >= n for r, n in Counter(sent.all()).items())
    runtime.engine.dispose()
    dispose_all()
