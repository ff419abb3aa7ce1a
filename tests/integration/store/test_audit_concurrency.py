"""Workers appending to the audit log at the same time keep the chain whole."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rightful.core.db import make_engine
from rightful.migrations import upgrade
from rightful.security import audit
from rightful.security.models import AuditEvent

WORKERS, EVENTS = 4, 40


def append_concurrently(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(EVENTS):
                with Session(engine) as session:
                    for k in range(1 + i % 3):  # a transaction appends one to three events
                        audit.record(
                            session,
                            actor=f"worker{n}",
                            action="test",
                            subject_type="t",
                            subject_id=f"{i}.{k}",
                        )
                    session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as session:
        assert not errors, errors
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == WORKERS * sum(
            1 + i % 3 for i in range(EVENTS)
        )
        assert audit.verify_chain(session).intact
    engine.dispose()


@pytest.mark.postgres
def test_concurrent_appends_keep_the_chain_whole_on_postgres(postgres_url: str) -> None:
    append_concurrently(postgres_url)


def test_concurrent_appends_keep_the_chain_whole_on_sqlite(tmp_path: Path) -> None:
    append_concurrently(f"sqlite:///{tmp_path}/audit.db")
