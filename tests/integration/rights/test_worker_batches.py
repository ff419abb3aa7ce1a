"""Polling workers during a backlog (issue 12): each claims its own batch of requests in the
database, so two take different ones, and a pass goes straight on while work remains."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from rightful.connectors.sql import dispose_all
from rightful.rights.execution import take_runnable
from rightful.rights.models import RightsRequest
from rightful.worker.loop import run_once
from tests.integration.rights.test_broker_crash import BACKLOG, approve_backlog
from tests.support.app import make_settings, prepare


def test_two_workers_claim_different_batches_of_one_backlog(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path, worker_batch_size=8))
    ids = approve_backlog(runtime)
    with runtime.sessions() as first, runtime.sessions() as second:
        mine = take_runnable(first, runtime.settings, limit=runtime.settings.worker_batch_size)
        theirs = take_runnable(second, runtime.settings, limit=runtime.settings.worker_batch_size)
    assert len(mine) == len(theirs) == 8
    assert not set(mine) & set(theirs) and set(mine) | set(theirs) <= set(ids)
    runtime.engine.dispose()
    dispose_all()


def test_one_pass_drains_a_backlog_larger_than_a_batch(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path, worker_batch_size=8))
    approve_backlog(runtime)
    assert run_once(runtime, maintenance=False) == BACKLOG  # four batches, no waiting between
    with runtime.sessions() as session:
        done = session.scalar(
            select(func.count())
            .select_from(RightsRequest)
            .where(RightsRequest.status == "completed")
        )
    assert done == BACKLOG
    runtime.engine.dispose()
    dispose_all()
