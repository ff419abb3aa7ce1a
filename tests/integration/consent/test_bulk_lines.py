"""The bulk check's line reading (consent/bulk_check.py): bytes split anywhere, exactly the valid
lines checked, a malformed one named by its line number, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import random
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from rightful.consent import bulk_check
from rightful.consent.models import MarketingSuppression
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError
from rightful.core.runtime import build_runtime
from rightful.migrations import upgrade


def _digest(i: int) -> str:
    return hashlib.sha256(f"lines{i}@example.com".encode()).hexdigest()


LISTED = {_digest(i) for i in range(0, 3000, 3)}  # every third one suppressed


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    url = (
        f"sqlite:///{tmp_path}/store.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    rows = [{"email_sha256": d, "topic": "*", "reason": "api"} for d in LISTED]
    with unit_of_work(runtime.sessions) as s:
        s.execute(insert(MarketingSuppression), rows)
    with unit_of_work(runtime.sessions) as s:
        yield s
    runtime.engine.dispose()


def _split_anywhere(body: bytes, rng: random.Random) -> Iterator[bytes]:
    """The body in pieces of 1 to 700 bytes: lines, digests and CRLFs cut in two."""
    at = 0
    while at < len(body):
        size = rng.randint(1, 700)
        yield body[at : at + size]
        at += size


def _check(session: Session, body: bytes, seed: int = 14) -> tuple[int, list[str]]:
    out = io.StringIO()
    chunks = _split_anywhere(body, random.Random(seed))
    checked = bulk_check.suppressed_lines(session, chunks, out)
    return checked, out.getvalue().split()


def test_lines_split_anywhere_check_exactly_the_valid_ones(session: Session) -> None:
    rng = random.Random(7)
    digests = [_digest(rng.randrange(3000)) for _ in range(4000)]  # repeats too
    lines = list(digests)
    lines[100] = lines[100].upper()  # each of these is still one valid digest
    lines[2500] = f"  {lines[2500]}\r"
    lines.insert(1200, "")  # blank lines are skipped, not counted
    lines.insert(3000, "   ")
    checked, hits = _check(session, ("\n".join(lines)).encode())  # no newline at the end
    assert checked == 4000
    assert hits == [d for d in digests if d in LISTED]  # in the order sent, repeats kept


def test_a_malformed_line_is_named_by_its_line_number(session: Session) -> None:
    lines = [_digest(i) for i in range(3000)]
    lines[4] = "not-a-digest"
    lines[1999] = lines[1999][:63]  # one character short
    lines[2999] = lines[2999] + "0"  # one too many, on the last line
    lines.insert(1, "")  # blank lines keep their numbers
    with pytest.raises(InvalidInputError) as refused:
        _check(session, ("\n".join(lines) + "\n").encode())
    assert "3 value(s)" in refused.value.detail
    assert "line/item 6, 2001, 3001." in refused.value.detail
