"""API tokens this process found live in the last few seconds (`api_token_cache_seconds`).

An API call whose token was checked that recently sends no statement for it. Only live tokens
are kept, by the hash of the whole token (never the token); a wrong one always asks the store.
Whatever stops a token here (a revocation, a deactivation, a role change) forgets them all at
once in this process; every other process asks its store again within the bound.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from rightful.security.permissions import Actor

CACHED_AT_MOST = 4096  # tokens remembered a process; the oldest go first


@dataclass
class Checked:
    """A token found live: the actor it acts as, and what is still checked on every call."""

    actor: Actor
    token_id: int
    expires_at: datetime | None
    last_used_at: datetime | None
    until: float = 0.0  # time.monotonic() after which the store is asked again


_checked: dict[str, Checked] = {}


def key(token: str) -> str:
    """What a token is remembered by."""
    return hashlib.sha256(token.encode()).hexdigest()


def recall(token_key: str) -> Checked | None:
    """The token checked within the bound, or None (then it is forgotten)."""
    found = _checked.get(token_key)
    if found is not None and found.until <= time.monotonic():
        _checked.pop(token_key, None)
        return None
    return found


def remember(token_key: str, checked: Checked, seconds: float) -> None:
    """Trust a token found live for `seconds` in this process."""
    if len(_checked) >= CACHED_AT_MOST:
        _checked.pop(next(iter(_checked)), None)
    checked.until = time.monotonic() + seconds
    _checked[token_key] = checked


def forget(token_key: str | None = None) -> None:
    """Ask the store again for one token, or (None) for every token."""
    if token_key is None:
        _checked.clear()
    else:
        _checked.pop(token_key, None)
