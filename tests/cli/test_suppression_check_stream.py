"""`rightful consent suppressions check FILE` reads FILE as it comes: the store is sent the first
lines of a named pipe while the rest is still unwritten."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from rightful.cli.main import app
from rightful.consent.models import MarketingSuppression
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import build_runtime
from rightful.migrations import upgrade
from tests.support.cli import runner

pytestmark = pytest.mark.postgres

FIRST = 100_000  # lines written before waiting: several of the command's reads and COPY blocks
REST = 20_000
WAIT_S = 120  # for the first lines to reach the store; only a failure takes this long


def _digest(i: int) -> str:
    return hashlib.sha256(f"stream{i}@example.com".encode()).hexdigest()


def _copy_started(conninfo: str) -> bool:
    """Whether a COPY into this database has taken rows (PostgreSQL's progress view)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT max(tuples_processed) FROM pg_stat_progress_copy"
                " WHERE datname = current_database()"
            ).fetchone()
            if row and row[0]:
                return True
            time.sleep(0.05)
    return False


def test_a_piped_list_is_checked_as_it_arrives(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        database_url=postgres_url, data_dir=tmp_path, secret_key=secrets.token_urlsafe(40)
    )
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    listed = [_digest(i) for i in range(0, FIRST + REST, 1000)]
    with unit_of_work(runtime.sessions) as session:
        rows = [{"email_sha256": d, "topic": "*", "reason": "api"} for d in listed]
        session.execute(insert(MarketingSuppression), rows)
    runtime.engine.dispose()
    monkeypatch.setenv("RIGHTFUL_DATABASE_URL", postgres_url)
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", settings.secret_key)
    pipe = tmp_path / "list.fifo"
    os.mkfifo(pipe)
    conninfo = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    seen_early: list[bool] = []

    def write() -> None:
        with pipe.open("w") as out:
            out.write("".join(f"{_digest(i)}\n" for i in range(FIRST)))
            out.flush()
            # Held open: a command that reads the whole file first sends the store nothing.
            seen_early.append(_copy_started(conninfo))
            out.write("".join(f"{_digest(i)}\n" for i in range(FIRST, FIRST + REST)))

    writer = threading.Thread(target=write)
    writer.start()
    result = runner.invoke(app, ["consent", "suppressions", "check", str(pipe)])
    writer.join()
    assert result.exit_code == 0, result.output
    assert seen_early == [True]
    assert result.stdout.split() == listed  # every one of them, in the order sent
    assert f"{len(listed)} of {FIRST + REST} suppressed." in result.stderr
