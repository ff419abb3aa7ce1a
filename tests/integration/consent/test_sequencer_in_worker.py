"""The worker keeps the consent log up to date: a choice recorded while it runs is given its
place in the signed log without anyone asking."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from rightful.connectors.sql import dispose_all
from rightful.consent import catalog, ledger, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentEvent, ConsentTreeHead
from rightful.core.db import unit_of_work
from rightful.worker.loop import EmbeddedWorker
from tests.support.app import make_settings, prepare


def test_the_worker_sequences_a_new_choice_into_the_signed_log(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path), people=2)
    worker = EmbeddedWorker(runtime, interval=0.2)
    worker.start()
    try:
        with unit_of_work(runtime.sessions) as session:
            person = subjects.person(session, runtime.settings, "sam.lee@example.com")
            choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
            [event] = ledger.record(
                session, runtime.settings, person, choice, ledger.Collected(Interface.API)
            )
            uid = event.uid
        deadline, position = time.monotonic() + 30, None
        while position is None:
            assert time.monotonic() < deadline, "the worker never sequenced the event"
            time.sleep(0.1)
            with runtime.sessions() as session:
                position = session.scalar(select(ConsentEvent.position).filter_by(uid=uid))
        with runtime.sessions() as session:
            size = session.scalar(
                select(ConsentTreeHead.tree_size).order_by(ConsentTreeHead.tree_size.desc())
            )
        assert size is not None and size > position
    finally:
        worker.stop()
        runtime.engine.dispose()
        dispose_all()
