"""API tokens this process found live in the last few seconds (`api_token_cache_seconds`).

An API call whose token was checked that recently sends no statement for it. Only live tokens
are kept, by the hash of the whole token (never the token); a wrong one always asks the store.
Whatever stops a token (a revocation, a deactivation, a role change) forgets them all at once
in this process and, on PostgreSQL, says so on the `rightful_tokens` channel when it commits:
a process listening there (the consent change feed's listener, consent/check_cache.py) forgets
them too; any other process asks its store again within the bound, whatever happens to the
notification.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from rightful.security.permissions import Actor

CACHED_AT_MOST = 4096  # tokens remembered a process; the oldest go first
CHANNEL = "rightful_tokens"


@dataclass
class Checked:
    """A token found live: the actor it acts as, and what is still checked on every call."""

    actor: Actor
    token_id: int
    expires_at: datetime | None
    last_used_at: datetime | None
    until: float = 0.0  # time.monotonic() after which the store is asked again


_checked: dict[str, Checked] = {}
_lock = threading.Lock()
_forgotten = 0  # how many times everything was forgotten: a read older than that is not kept


def key(token: str) -> str:
    """What a token is remembered by."""
    return hashlib.sha256(token.encode()).hexdigest()


def ticket() -> int:
    """Taken before reading a token from the store; `remember` keeps what the read found only
    if nothing was forgotten meanwhile (a revocation heard while the read was in flight)."""
    return _forgotten


def recall(token_key: str) -> Checked | None:
    """The token checked within the bound, or None (then it is forgotten)."""
    found = _checked.get(token_key)
    if found is not None and found.until <= time.monotonic():
        _checked.pop(token_key, None)
        return None
    return found


def remember(token_key: str, checked: Checked, seconds: float, read_after: int) -> None:
    """Trust a token found live for `seconds` in this process, unless everything was forgotten
    since the read that found it began (`read_after`, a `ticket`)."""
    with _lock:
        if read_after != _forgotten:
            return
        if len(_checked) >= CACHED_AT_MOST:
            _checked.pop(next(iter(_checked)), None)
        checked.until = time.monotonic() + seconds
        _checked[token_key] = checked


def forget(token_key: str | None = None) -> None:
    """Ask the store again for one token, or (None) for every token."""
    global _forgotten
    with _lock:
        if token_key is None:
            _forgotten += 1
            _checked.clear()
        else:
            _checked.pop(token_key, None)


def forget_everywhere(session: Session) -> None:
    """Something stopped a token, in the caller's transaction: every token is forgotten here at
    once, and in every listening process when the change commits (PostgreSQL)."""
    forget()
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
