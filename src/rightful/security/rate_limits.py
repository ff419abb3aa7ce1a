"""Limits on public endpoints (the banner's events, appeals) counted for every process together:
in Redis when one is configured, otherwise in Rightful's own store.

Each limit is a sliding window: at most `limit` hits per key in any `seconds` (the rule each
process once kept in its own memory). Counting in a shared place means two
servers behind a load balancer allow a client its share once, not once each. Keys are keyed
hashes (of a client's address, never the address itself).

Redis keeps a key's hits in a sorted set, pruned, counted and added to by one Lua script, so two
processes never both take the last place. The store keeps them in one row per key, locked while
it is read and written: on PostgreSQL and SQLite one upsert creates or locks the row and returns
its hits, and one UPDATE writes them back.

`count` runs in the caller's transaction, so a write and its limit commit once; called as the
request's last statements, the key's row stays locked only while that commit is made, and a
refusal (the caller rolls back) counts nothing. `allow` counts in a transaction of its own.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import String, Text, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import Base, UTCDateTime, unit_of_work

SWEEP_EVERY = 600.0  # seconds between a process's removals of windows that have passed
_swept = [0.0]


class RateLimitWindow(Base):
    """The recent hits of one key of one limit (store backend)."""

    __tablename__ = "rate_limit_windows"

    key_hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    hits: Mapped[str] = mapped_column(Text, default="")  # POSIX seconds, space-separated
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # when all have passed


@dataclass(frozen=True)
class Window:
    """At most `limit` hits per key in any `seconds`."""

    limit: int
    seconds: float = 3600.0


def redis_url(settings: Settings) -> str:
    """Where shared limits live: RIGHTFUL_REDIS_URL, else a Redis broker; "" for the store."""
    if settings.redis_url:
        return settings.redis_url
    broker = settings.broker_url
    return broker if broker.startswith(("redis://", "rediss://")) else ""


def allow(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    scope: str,
    key: str,
    window: Window,
    cost: int = 1,
) -> bool:
    """Count `cost` hits for `key` under limit `scope`; False (counting nothing) when they
    would pass the limit."""
    if redis_url(settings):
        return count(None, settings, scope=scope, key=key, window=window, cost=cost)
    with unit_of_work(sessions) as session:
        return count(session, settings, scope=scope, key=key, window=window, cost=cost)


def count(
    session: Session | None,
    settings: Settings,
    *,
    scope: str,
    key: str,
    window: Window,
    cost: int = 1,
) -> bool:
    """`allow` in the caller's transaction (no store statement when Redis keeps the counts;
    `session` may then be None); the caller commits, or rolls back a refusal's other writes."""
    return count_each(session, settings, scope=scope, hits=[(key, cost)], window=window)[0]


def count_each(
    session: Session | None,
    settings: Settings,
    *,
    scope: str,
    hits: list[tuple[str, int]],
    window: Window,
) -> list[bool]:
    """`count` for several requests (key, cost) in the caller's transaction, in order, each
    refused on its own when it would pass its key's limit: in the store, every key's row
    locked in one statement (in key order, so two callers never wait for each other in a
    circle) and written back in one."""
    url = redis_url(settings)
    if url:
        return [_allow_in_redis(url, f"{scope}:{k}", window, cost) for k, cost in hits]
    assert session is not None, "the store's counts need the caller's session"
    allowed = _allow_in_store(session, [(f"{scope}:{k}", cost) for k, cost in hits], window)
    _sweep(session)
    return allowed


# --- Redis ---------------------------------------------------------------------------------

# KEYS[1] the window; ARGV: now, seconds, limit, cost, a unique prefix for the new members.
_SCRIPT = """
local now, seconds = tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, cost = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - seconds)
if redis.call('ZCARD', KEYS[1]) + cost > limit then return 0 end
for i = 1, cost do redis.call('ZADD', KEYS[1], now, ARGV[5] .. i) end
redis.call('PEXPIRE', KEYS[1], math.ceil(seconds * 1000))
return 1
"""


@cache
def _redis(url: str) -> Any:
    """One client (and connection pool) per URL and process; the script registered once."""
    import redis  # loaded only where Redis is configured

    client = redis.Redis.from_url(url)
    return client.register_script(_SCRIPT)


def _allow_in_redis(url: str, name: str, window: Window, cost: int) -> bool:
    now = utcnow().timestamp()
    args = [now, window.seconds, window.limit, cost, f"{now}:{uuid.uuid4().hex[:12]}:"]
    return bool(_redis(url)(keys=[f"rightful:limit:{name}"], args=args))


# --- Rightful's store ------------------------------------------------------------------------


_TABLE = Base.metadata.tables["rate_limit_windows"]


@cache
def _upsert(dialect: str) -> Any:
    """Create the key's row or, if it is there, lock it (a no-op update) and return its hits."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(_TABLE)
    return stmt.on_conflict_do_update(
        index_elements=["key_hash"], set_={"key_hash": stmt.excluded.key_hash}
    ).returning(_TABLE.c.key_hash, _TABLE.c.hits)


def _locked_hits(session: Session, names: list[str], now: datetime) -> dict[str, str]:
    """Each key's hits, its row created if missing and locked until commit."""
    dialect = session.get_bind().dialect.name
    rows: list[dict[str, Any]] = [{"key_hash": n, "hits": "", "until": now} for n in names]
    if dialect in ("postgresql", "sqlite"):  # one statement; no row is ever inserted twice
        found = session.execute(_upsert(dialect).values(rows)).all()
        return {name: hits for name, hits in found}
    return {n: _locked_row(session, n, now).hits for n in names}


def _locked_row(session: Session, name: str, now: datetime) -> RateLimitWindow:
    """The key's row, created if missing, locked until commit (stores without ON CONFLICT)."""
    values: dict[str, Any] = {"key_hash": name, "hits": "", "until": now}
    if session.get(RateLimitWindow, name) is None:
        session.add(RateLimitWindow(**values))
        session.flush()
    row = session.scalar(
        select(RateLimitWindow)
        .where(RateLimitWindow.key_hash == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def _allow_in_store(session: Session, hits: list[tuple[str, int]], window: Window) -> list[bool]:
    now = utcnow()
    start = now.timestamp() - window.seconds
    names = sorted({name for name, _ in hits})
    recent = {
        name: [h for h in (float(x) for x in found.split()) if h > start]
        for name, found in _locked_hits(session, names, now).items()
    }
    allowed = []
    for name, cost in hits:
        ok = len(recent[name]) + cost <= window.limit
        if ok:
            recent[name] += [now.timestamp()] * cost
        allowed.append(ok)
    rows = [
        {
            "name": name,
            "new_hits": " ".join(f"{h:.6f}" for h in found),
            "new_until": now + timedelta(seconds=window.seconds) if found else now,
        }
        for name, found in recent.items()
    ]
    session.execute(_write_back(), rows)
    return allowed


@cache
def _write_back() -> Any:
    """A key's hits and when they have all passed, by key (one statement for many keys)."""
    return (
        update(_TABLE)
        .where(_TABLE.c.key_hash == bindparam("name"))
        .values(hits=bindparam("new_hits"), until=bindparam("new_until"))
    )


def _sweep(session: Session) -> None:
    """Now and then, remove the rows whose every hit has left its window."""
    if time.monotonic() - _swept[0] < SWEEP_EVERY:
        return
    _swept[0] = time.monotonic()
    session.execute(delete(RateLimitWindow).where(RateLimitWindow.until < utcnow()))
