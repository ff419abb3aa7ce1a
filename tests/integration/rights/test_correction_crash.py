"""A worker killed with SIGKILL in the middle of a batch of corrections: the restart finishes
each correction once, and everything ends as an uninterrupted batch ends - the rows, the
records and their counts, the audit trail and the e-mails.

Two moments: inside the store's transaction (the store rolls it back; nothing was written),
and after the store committed but before Rightful recorded it (written once, counted once)."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from rightful.connectors.sql import dispose_all
from rightful.demo.estate import SYSTEMS
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.security.vault import Vault
from tests.integration.rights.test_correction_batches import _customers, _run, approve_corrections
from tests.integration.rights.test_correction_batches import outcomes as outcomes_of
from tests.integration.rights.test_erasure_crash import start_worker, wait_for
from tests.support.app import make_settings, prepare

SLOW_UPDATES = """
CREATE FUNCTION slow_update() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER slow BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION slow_update();
"""
CORRECTED_PHONE = "SELECT phone FROM customers WHERE id = 3"


def _crash_then_resume(
    tmp_path: Path, make_postgres_db: Callable[[], str], *, after_commit: bool
) -> None:
    expected = _run(tmp_path / "whole", make_postgres_db(), together=True)

    estate = make_postgres_db()
    urls = {key: estate for key in SYSTEMS}
    runtime = prepare(make_settings(tmp_path / "crash", worker_batch_size=100), urls, people=20)
    ids = approve_corrections(runtime, urls)
    before = _customers(estate)
    engine = create_engine(estate)
    with engine.begin() as conn:
        conn.execute(text(SLOW_UPDATES))
    vault = Vault(runtime.settings, "execution")

    def planned() -> int:
        """Corrections whose kept plan is still waiting for its store (nothing recorded)."""
        with runtime.sessions() as session:
            results = session.scalars(
                select(ExecutionStep.result).where(ExecutionStep.result.is_not(None))
            )
            return sum("planned" in vault.decrypt_json(r) for r in results)

    def phone_now() -> str:
        with engine.connect() as conn:
            return str(conn.execute(text(CORRECTED_PHONE)).scalar())

    worker = start_worker(runtime)
    rightful_db = sqlite3.connect(str(runtime.engine.url.database), timeout=30)
    try:
        wait_for(lambda: planned() == 5, "the batch's plans to be kept")  # the sixth: nothing
        if after_commit:
            # Rightful's store held, so the worker cannot record what the estate committed.
            rightful_db.execute("BEGIN EXCLUSIVE")
            wait_for(lambda: phone_now() == "+14155550177", "the estate to commit")
            time.sleep(0.5)
        else:
            time.sleep(1.5)  # inside the estate's slow transaction (six rows, two seconds each)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        rightful_db.rollback()
        rightful_db.close()
    assert planned() == 5  # nothing recorded as done
    after_kill = _customers(estate)
    if after_commit:
        assert after_kill == expected["customers"] != before
    else:  # the killed transaction was rolled back by the server
        assert after_kill == before

    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER slow ON customers"))
    engine.dispose()
    worker = start_worker(runtime)
    try:

        def completed() -> bool:
            with runtime.sessions() as session:
                done = session.scalar(
                    select(func.count())
                    .select_from(RightsRequest)
                    .where(RightsRequest.id.in_(ids), RightsRequest.status == "completed")
                )
                return done == len(ids)

        wait_for(completed, "the restarted worker to finish the corrections")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert planned() == 0
    assert _customers(estate) == expected["customers"]
    # The same records, steps, audit events and e-mails as without a crash; each row counted
    # once: customers 1, 2, 3 and 5 one field of one row, customer 4 two, customer 6 none.
    got = outcomes_of(runtime)
    assert got == expected["outcomes"]
    rows = {who: [c["rows"] for c in o["summary"]["corrected"]] for who, o in got.items()}
    assert rows == {
        "customer 1": [1],
        "customer 2": [1],
        "customer 3": [1],
        "customer 4": [1, 1],
        "customer 5": [1],
        "customer 6": [],
    }
    runtime.engine.dispose()
    dispose_all()


@pytest.mark.postgres
def test_kill_9_inside_the_stores_transaction_then_restart_corrects_once(
    tmp_path: Path, make_postgres_db: Callable[[], str]
) -> None:
    _crash_then_resume(tmp_path, make_postgres_db, after_commit=False)


@pytest.mark.postgres
def test_kill_9_after_the_store_committed_then_restart_counts_once(
    tmp_path: Path, make_postgres_db: Callable[[], str]
) -> None:
    _crash_then_resume(tmp_path, make_postgres_db, after_commit=True)
