"""Bulk suppression checks of any length: digests read a block at a time, never held whole.

The input is bytes in chunks of any size (an HTTP body as it arrives, a file read in blocks),
one digest a line. A block of whole lines in the usual form (64 lower-case hex characters and a
newline each) is checked at once, on bytes, without a step per line: its alphabet by deleting
the allowed bytes and seeing nothing left, its shape by every 65th byte being a newline. Any
other block (upper case, blank lines, spaces, CRLF, a malformed line) is checked a line at a
time as before: stripped, lower-cased, 64 hex characters, blank lines skipped, numbered from 1.

On PostgreSQL the checked blocks go into a temporary table with COPY as they are read (rows
kept in the order sent, so a block is written as it came), and one join against
`marketing_suppressions` finds the suppressed ones, read back through a server-side cursor;
Python holds one block at a time, whether the list is a thousand or ten million long. SQLite
gets the same answer a chunk of lines at a time. The answer is the suppressed lines in the order
sent, repeats included, as `suppression.check_hashes` gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent.models import MarketingSuppression
from rightful.consent.suppression import CHUNK
from rightful.core.errors import InvalidInputError

BLOCK = 10_000  # lines a result fetch carries
BLOCK_BYTES = 1 << 20  # about what a COPY write carries
JOIN_MEMORY = "64MB"  # PostgreSQL's work_mem for the join: a million digests' hash and hits
HEX = "0123456789abcdef"
_HEX_LINES = (HEX + "\n").encode()
LINE = 65  # a digest and its newline


class _Lines:
    """Checked blocks of digest lines (lower-case hex, each ending in a newline) from chunks of
    bytes; malformed lines noted by number, never passed on."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.bad: list[int] = []
        self.count = 0  # digests passed on
        self._seen = 0  # lines read, blank ones included

    def __iter__(self) -> Iterator[bytes]:
        pending: list[bytes] = []
        size = 0
        for block in self._whole_lines():
            pending.append(self._checked(block))
            size += len(pending[-1])
            if size >= BLOCK_BYTES:
                yield b"".join(pending)
                pending, size = [], 0
        if size:
            yield b"".join(pending)

    def _whole_lines(self) -> Iterator[bytes]:
        rest = b""
        for chunk in self._chunks:
            cut = chunk.rfind(b"\n")
            if cut < 0:
                rest += chunk
                continue
            yield rest + chunk[: cut + 1]
            rest = chunk[cut + 1 :]
        if rest:
            yield rest + b"\n"

    def _checked(self, block: bytes) -> bytes:
        lines = block.count(b"\n")
        if (
            len(block) == LINE * lines
            and block[LINE - 1 :: LINE] == b"\n" * lines
            and not block.translate(None, _HEX_LINES)
        ):
            self._seen += lines
            self.count += lines
            return block
        return self._line_by_line(block)

    def _line_by_line(self, block: bytes) -> bytes:
        good = []
        for raw in block.split(b"\n")[:-1]:  # every line ends in a newline here
            self._seen += 1
            value = raw.decode("utf-8", "replace").strip().lower()
            if not value:
                continue
            if len(value) == LINE - 1 and not value.strip(HEX):
                good.append(value.encode() + b"\n")
            else:
                self.bad.append(self._seen)
        self.count += len(good)
        return b"".join(good)

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
    session: Session, chunks: Iterable[bytes], out: IO[str], topic: str | None = None
) -> int:
    """Write to `out`, one a line, the digests among the lines in `chunks` (bytes, split
    anywhere) that must not be sent marketing (all of it, or `topic`); returns how many were
    checked. A malformed line is named and nothing is answered (what `out` holds then means
    nothing)."""
    topics = ["*", topic] if topic else ["*"]
    digests = _Lines(chunks)
    if session.get_bind().dialect.name == "postgresql":
        _by_copy(session, digests, topics, out)
    else:
        _in_chunks(session, digests, topics, out)
    return digests.count


def _by_copy(session: Session, digests: _Lines, topics: list[str], out: IO[str]) -> None:
    conn = session.connection()
    # The rows are numbered by where COPY put them (ctid), not by an identity column: a
    # sequence step a row was a third of the COPY's work, and its statistics (ANALYZE) another
    # tenth. The table is emptied first (TRUNCATE gives it new, empty files) and only this COPY
    # writes it, one page after another, so ctid order is the order sent.
    conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS rf_bulk_lines (h text) ON COMMIT DROP")
    conn.exec_driver_sql("TRUNCATE rf_bulk_lines")
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy("COPY rf_bulk_lines (h) FROM STDIN") as copy:
        for block in digests:  # checked hex lines: nothing to escape
            copy.write(block)
    digests.refuse_if_malformed()
    # The join's hash of the list and its sort of the hits in memory, not in batches on disk.
    conn.exec_driver_sql(f"SET LOCAL work_mem = '{JOIN_MEMORY}'")
    # Read through psycopg's own server-side cursor: SQLAlchemy's streamed rows cost about five
    # times the CPU for a million digests' hits (0.26-0.36 s against 0.06 s).
    with raw.cursor("rf_bulk_hits") as hits:
        hits.execute(
            "SELECT b.h FROM rf_bulk_lines b WHERE EXISTS (SELECT 1 FROM marketing_suppressions m"
            " WHERE m.email_sha256 = b.h AND m.topic = ANY(%s)) ORDER BY b.ctid",
            (topics,),
        )
        while rows := hits.fetchmany(BLOCK):
            out.write("".join(f"{digest}\n" for (digest,) in rows))


def _in_chunks(session: Session, digests: _Lines, topics: list[str], out: IO[str]) -> None:
    chunk: list[str] = []
    for block in digests:
        chunk.extend(block.decode().split())
        while len(chunk) >= CHUNK:
            _write_hits(session, chunk[:CHUNK], topics, out)
            del chunk[:CHUNK]
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


def first_line(chunks: Iterable[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """The first non-blank line of `chunks`, stripped (b"" if there is none), and all of
    `chunks` again: what a file of lines holds is told by its first, without reading it all."""
    rest = iter(chunks)
    head = b""
    for chunk in rest:
        head += chunk
        for line in head.split(b"\n")[:-1]:
            if line.strip():
                return line.strip(), chain([head], rest)
    return head.strip().partition(b"\n")[0].strip(), iter([head])


def is_digest(line: bytes) -> bool:
    """Whether a stripped line is a SHA-256 digest in hex (either case)."""
    return len(line) == LINE - 1 and not line.lower().strip(HEX.encode())


def text_lines(chunks: Iterable[bytes], batch: int) -> Iterator[list[str]]:
    """The non-blank lines of `chunks`, stripped, `batch` at a time; at least one batch (empty
    when there are none), so whatever the caller checks them with is asked at least once."""
    lines: list[str] = []
    rest = b""
    sent = False
    for chunk in chain(chunks, [b"\n"]):
        *whole, rest = (rest + chunk).split(b"\n")
        lines.extend(v for v in (w.decode("utf-8", "replace").strip() for w in whole) if v)
        while len(lines) >= batch:
            yield lines[:batch]
            del lines[:batch]
            sent = True
    if lines or not sent:
        yield lines
