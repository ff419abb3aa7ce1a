"""Bulk suppression checks of any length: digests read a line at a time, never held whole.

On PostgreSQL the lines go into a temporary table with COPY as they are read, and one join
against `marketing_suppressions` finds the suppressed ones, read back through a server-side
cursor; Python holds one block of lines at a time, whether the list is a thousand or ten
million long. SQLite gets the same answer a chunk of lines at a time. The answer is the
suppressed lines in the order sent, repeats included, as `suppression.check_hashes` gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rightful.consent.models import MarketingSuppression
from rightful.consent.suppression import CHUNK, SHA256
from rightful.core.errors import InvalidInputError

BLOCK = 10_000  # lines a COPY write or a result fetch carries


class _Lines:
    """Digests from lines (blank ones skipped), numbered; malformed ones noted, not yielded."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = lines
        self.bad: list[int] = []
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for number, raw in enumerate(self._lines, start=1):
            value = raw.strip().lower()
            if not value:
                continue
            if SHA256.match(value):
                self.count += 1
                yield value
            else:
                self.bad.append(number)

    def refuse_if_malformed(self) -> None:
        """Any malformed line named (the first ten), as `suppression.parse_hashes` does."""
        if not self.bad:
            return
        bad = self.bad
        shown = ", ".join(str(n) for n in bad[:10]) + (" …" if len(bad) > 10 else "")
        raise InvalidInputError(
            f"{len(bad)} value(s) are not SHA-256 hex digests (64 characters 0-9a-f): "
            f"line/item {shown}.",
            errors=[{"field": "sha256", "message": f"Item {n} is malformed."} for n in bad[:10]],
        )


def suppressed_lines(
    session: Session, lines: Iterable[str], out: IO[str], topic: str | None = None
) -> int:
    """Write to `out`, one a line, the digests among `lines` that must not be sent marketing
    (all of it, or `topic`); returns how many were checked. A malformed line is named and
    nothing is answered (what `out` holds then means nothing)."""
    topics = ["*", topic] if topic else ["*"]
    digests = _Lines(lines)
    if session.get_bind().dialect.name == "postgresql":
        _by_copy(session, digests, topics, out)
    else:
        _in_chunks(session, digests, topics, out)
    return digests.count


def _by_copy(session: Session, digests: _Lines, topics: list[str], out: IO[str]) -> None:
    conn = session.connection()
    conn.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS rf_bulk_lines (n bigint, h text) ON COMMIT DROP"
    )
    conn.exec_driver_sql("TRUNCATE rf_bulk_lines")
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy("COPY rf_bulk_lines (n, h) FROM STDIN") as copy:
        block: list[str] = []
        for n, digest in enumerate(digests):  # checked hex: nothing to escape
            block.append(f"{n}\t{digest}\n")
            if len(block) == BLOCK:
                copy.write("".join(block))
                block.clear()
        copy.write("".join(block))
    digests.refuse_if_malformed()
    conn.exec_driver_sql("ANALYZE rf_bulk_lines")  # a temporary table has no statistics
    found = conn.execution_options(stream_results=True, yield_per=BLOCK).execute(
        text(
            "SELECT b.h FROM rf_bulk_lines b WHERE EXISTS (SELECT 1 FROM marketing_suppressions m"
            " WHERE m.email_sha256 = b.h AND m.topic = ANY(:topics)) ORDER BY b.n"
        ),
        {"topics": topics},
    )
    for rows in found.partitions():
        out.write("".join(f"{digest}\n" for (digest,) in rows))


def _in_chunks(session: Session, digests: _Lines, topics: list[str], out: IO[str]) -> None:
    chunk: list[str] = []
    for digest in digests:
        chunk.append(digest)
        if len(chunk) == CHUNK:
            _write_hits(session, chunk, topics, out)
            chunk = []
    _write_hits(session, chunk, topics, out)
    digests.refuse_if_malformed()


def _write_hits(session: Session, chunk: list[str], topics: list[str], out: IO[str]) -> None:
    if not chunk:
        return
    listed = MarketingSuppression
    hits = set(
        session.scalars(
            select(listed.email_sha256).where(
                listed.email_sha256.in_(set(chunk)), listed.topic.in_(topics)
            )
        )
    )
    out.write("".join(f"{d}\n" for d in chunk if d in hits))
