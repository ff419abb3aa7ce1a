"""A worker killed with SIGKILL in the middle of an erasure: the restart ends exactly as if
nothing had happened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime
from rightful.demo.estate import SYSTEMS
from rightful.rights.models import ErasureStep, PartnerNotice, RightsRequest
from tests.integration.rights.test_erasure import (
    erase_avery,
    partners_confirm,
    run_erasure,
    snapshot,
)
from tests.support.app import make_settings, prepare

SLOW_DELETES = """
CREATE FUNCTION slow_delete() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(3); RETURN OLD; END $$ LANGUAGE plpgsql;
CREATE TRIGGER slow BEFORE DELETE ON product_reviews FOR EACH ROW EXECUTE FUNCTION slow_delete();
"""


def start_worker(runtime: Runtime) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(runtime.settings.data_dir),
        "RIGHTFUL_SECRET_KEY": runtime.settings.secret_key,
        "RIGHTFUL_LEASE_SECONDS": "2",
        "RIGHTFUL_BASE_URL": runtime.settings.base_url,
    }
    env.pop("RIGHTFUL_DATABASE_URL", None)
    rightful = Path(sys.executable).parent / "rightful"
    return subprocess.Popen(
        [str(rightful), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_for(check: Callable[[], bool], what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


@pytest.mark.postgres
def test_kill_9_mid_erasure_then_restart_ends_like_an_uninterrupted_run(
    tmp_path: Path, make_postgres_db: Callable[[], str]
) -> None:
    whole_runtime, _, whole_urls = run_erasure(tmp_path / "whole", make_postgres_db())
    expected = snapshot(whole_urls)
    whole_runtime.engine.dispose()
    dispose_all()

    estate = make_postgres_db()
    urls = {key: estate for key in SYSTEMS}
    runtime = prepare(make_settings(tmp_path / "crash"), urls, people=40)
    engine = create_engine(estate)
    with engine.begin() as conn:
        conn.execute(text(SLOW_DELETES))
    request_id = erase_avery(runtime)

    def steps_done() -> set[str]:
        with runtime.sessions() as session:
            return set(
                session.scalars(
                    select(ErasureStep.system).where(
                        ErasureStep.request_id == request_id, ErasureStep.done_at.is_not(None)
                    )
                )
            )

    worker = start_worker(runtime)
    try:
        # Systems that reference the store's customers go first; the store itself is last.
        wait_for(lambda: {"support_desk", "engagement"} <= steps_done(), "the first systems")
        time.sleep(1)  # inside the slow storefront transaction now
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert "storefront" not in steps_done()
    with engine.connect() as conn:  # the killed transaction was rolled back by the server
        count = lambda sql: conn.execute(text(sql)).scalar()  # noqa: E731
        assert count("SELECT count(*) FROM customers WHERE id = 1") == 1
        assert count("SELECT count(*) FROM product_reviews WHERE customer_id = 1") == 1
        assert count("SELECT count(*) FROM devices WHERE customer_id = 1") == 0  # done before

    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER slow ON product_reviews"))
    engine.dispose()
    worker = start_worker(runtime)
    try:
        wait_for(
            lambda: steps_done() == {"support_desk", "storefront", "engagement"},
            "the restarted worker to finish the erasure",
        )

        def notices_open() -> bool:
            with runtime.sessions() as session:
                found = session.scalars(
                    select(PartnerNotice.id).where(PartnerNotice.request_id == request_id)
                ).all()
                return len(found) == 5

        wait_for(notices_open, "the partner notices")
        partners_confirm(runtime, request_id)

        def completed() -> bool:
            with runtime.sessions() as session:
                req = session.get(RightsRequest, request_id)
                return req is not None and req.status == "completed"

        wait_for(completed, "the request to complete")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert snapshot(urls) == expected
    runtime.engine.dispose()
    dispose_all()
