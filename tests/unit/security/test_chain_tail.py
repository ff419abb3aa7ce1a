"""`chain.tail` is what a store that hashes appends to the previous hash: the same body
`chain.digest` hashes, so a row hashed by PostgreSQL verifies in Python."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from rightful.security import chain


def test_the_previous_hash_and_the_tail_make_digests_body() -> None:
    prev = hashlib.sha256(b"x").hexdigest()
    fields = [
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC).isoformat(),
        "Zoë",
        'say "hi"',
        {"b": ["ü", 1.5, None], "a": {"😀": True}},
    ]
    body = '["' + prev + '", ' + chain.tail(fields)
    assert body.isascii()
    assert hashlib.sha256(body.encode()).hexdigest() == chain.digest(prev, fields)
