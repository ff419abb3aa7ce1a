"""Polling workers during a backlog (issue 12): each claims its own batch of requests in the
database, so two take different ones, and a pass goes straight on while work remains."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.rights.execution import take_runnable
from rightful.rights.models import RightsRequest
from rightful.worker.loop import run_once
from tests.integration.rights.test_broker_crash import BACKLOG, approve_backlog
from tests.support.app import make_settings, prepare


def test_two_workers_claim_different_batches_of_one_backlog(tmp_path: Path) -> None:
    _claim_two_batches(make_settings(tmp_path, worker_batch_size=8))


@pytest.mark.postgres
def test_two_workers_claim_different_batches_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    # The claim's locked pick, rescanned for each row (nested-loop semi join), took the whole
    # backlog of 30 in the first claim before, leaving the second worker none.
    _claim_two_batches(make_settings(tmp_path, worker_batch_size=8, database_url=postgres_url))


def _claim_two_batches(settings: Settings) -> None:
    runtime = prepare(settings)
    ids = approve_backlog(runtime)
    with runtime.sessions() as first, runtime.sessions() as second:
        mine = take_runnable(first, runtime.settings, limit=runtime.settings.worker_batch_size)
        theirs = take_runnable(second, runtime.settings, limit=runtime.settings.worker_batch_size)
    with runtime.sessions() as session:
        leased = session.scalar(
            select(func.count())
            .select_from(RightsRequest)
            .where(RightsRequest.lease_until.is_not(None))
        )
    assert len(mine) == len(theirs) == 8
    assert leased == 16  # what the two claims took, and nothing else
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
