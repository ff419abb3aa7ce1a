"""Checks at memory speed: what a check read, kept per process for at most a bound.

`RIGHTFUL_CONSENT_CACHE_SECONDS` (0: off) is the bound. An answer is kept at most that long
after the read that made it *began*, so no process answers from anything older, whatever happens
to notifications. Within it, the change feed (consent/change_feed.py) drops entries as soon as a
change commits: one listener thread a process holds `LISTEN rightful_consent` on a connection of
its own. While that connection is down (killed, a restart of PostgreSQL) the cache holds nothing
and keeps nothing, and it starts empty when the listener is back, since notifications sent in
between are lost. A read racing a notification for the subjects it read is not kept. The same
connection hears API tokens stopped (`rightful_tokens`, security/checked_tokens.py), so a
revoked token stops working in this process when the revocation commits, not only within
`api_token_cache_seconds`; the cached check on the event loop (web/api/check_path.py) relies on
both.

PostgreSQL only. On SQLite a check is one indexed read of a local file, about what a shared
change counter would cost to poll, so there is no cache there (decision 0018).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session

from rightful.consent import change_feed, snapshot
from rightful.consent.state import Looked
from rightful.consent.state import look_up as read
from rightful.core.config import Settings
from rightful.security import checked_tokens

log = logging.getLogger(__name__)

Key = tuple[Any, ...]  # (by id, the subject's lookup hash or id, the suppression asked about)
MAX_ENTRIES = 200_000  # about 100 MB at most; the oldest go first
_RECENT = 4096  # invalidations remembered for reads in flight
PING_SECONDS = 5.0  # an idle listener asks its connection to answer this often
RECONNECT_SECONDS = 1.0


@dataclass(frozen=True)
class _Entry:
    looked: Looked
    tokens: frozenset[str]
    expires: float  # time.monotonic()


class CheckCache:
    """One process's answers for one store, and (given a conninfo) the listener keeping them."""

    def __init__(self, seconds: float, conninfo: str | None = None) -> None:
        self.seconds = seconds
        self._conninfo = conninfo
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._by_token: dict[str, set[Key]] = {}
        self._lock = threading.Lock()
        self._seq = 0  # invalidations so far
        self._recent: deque[tuple[int, frozenset[str] | None]] = deque(maxlen=_RECENT)
        self._live = conninfo is None  # without a listener: the bound alone (tests, tools)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listener_pid: int | None = None  # the listening backend, while connected
        self.connections = 0  # how many times the listener has connected
        self.attempts = 0  # how many times it has tried to
        self.served = 0  # answers given from memory

    # ------------------------------------------------------------------ reads and writes

    def ticket(self) -> tuple[int, float]:
        """Taken before reading the store: what `put` needs to tell whether the read raced a
        change, and when the read began (the bound counts from it)."""
        with self._lock:
            return self._seq, time.monotonic()

    def get(self, key: Key) -> Looked | None:
        """A kept answer younger than the bound, or None."""
        with self._lock:
            if not self._live:
                return None
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() >= entry.expires:
                self._drop(key)
                return None
            self.served += 1
            return entry.looked

    def put(self, key: Key, looked: Looked, ticket: tuple[int, float]) -> None:
        """Keep what a read found, unless a change to its subjects was heard since it began."""
        seq, began = ticket
        tokens = frozenset(t for t in (key[1], looked.subject_id, looked.person_id) if t)
        with self._lock:
            if not self._live or self._raced(seq, tokens):
                return
            self._drop(key)
            self._entries[key] = _Entry(looked, tokens, began + self.seconds)
            for token in tokens:
                self._by_token.setdefault(token, set()).add(key)
            while len(self._entries) > MAX_ENTRIES:
                self._drop(next(iter(self._entries)))

    def invalidate(self, tokens: Iterable[str] | None) -> None:
        """Forget answers about these subjects (None or `*`: every answer)."""
        wanted = None if tokens is None else frozenset(tokens)
        if wanted is not None and change_feed.EVERYTHING in wanted:
            wanted = None
        with self._lock:
            self._seq += 1
            self._recent.append((self._seq, wanted))
            if wanted is None:
                self._entries.clear()
                self._by_token.clear()
                return
            for token in wanted:
                for key in list(self._by_token.get(token, ())):
                    self._drop(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _raced(self, seq: int, tokens: frozenset[str]) -> bool:
        if self._seq == seq:
            return False
        if self._seq - seq > len(self._recent):
            return True  # too many since: cannot tell
        for done, touched in reversed(self._recent):
            if done <= seq:
                break
            if touched is None or touched & tokens:
                return True
        return False

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for token in entry.tokens:
            keys = self._by_token.get(token)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_token[token]

    # ----------------------------------------------------------------------- the listener

    def start(self) -> None:
        """Start listening (a daemon thread); the cache serves nothing until it is connected."""
        if self._conninfo is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._listen, name="consent-feed", daemon=True)
        self._thread.start()

    def stop(self, wait: float = PING_SECONDS + 2) -> None:
        """Stop listening; the cache then serves nothing. The listener leaves at its next
        wake-up (at most PING_SECONDS); `wait` says how long to wait for it."""
        self._stop.set()
        self._set_live(False)
        if self._thread is not None and wait > 0:
            self._thread.join(timeout=wait)

    @property
    def stopped(self) -> bool:
        """Whether `stop` was called: it never serves again."""
        return self._stop.is_set()

    @property
    def live(self) -> bool:
        """Whether answers may be served: the listener is connected (or there is none)."""
        with self._lock:
            return self._live

    def _set_live(self, live: bool, pid: int | None = None) -> None:
        with self._lock:
            if not live and not self._live:
                return  # still down: nothing was kept or trusted on the feed's word since
            if live and self._stop.is_set():
                return  # connected as it was being stopped
        self.invalidate(None)  # whichever way it goes, what was kept may have been missed
        checked_tokens.forget()
        with self._lock:
            self._live = live
            self.listener_pid = pid
            if live:
                self.connections += 1

    def _listen(self) -> None:
        # The driver is imported here, in the listener's thread: a server on SQLite or MariaDB
        # never starts one, so it never loads psycopg.
        import psycopg

        assert self._conninfo is not None
        while not self._stop.is_set():
            self.attempts += 1
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {change_feed.CHANNEL}")
                    conn.execute(f"LISTEN {checked_tokens.CHANNEL}")
                    self._set_live(True, conn.info.backend_pid)
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=PING_SECONDS):
                            if note.channel == checked_tokens.CHANNEL:
                                checked_tokens.forget()
                            else:
                                self.invalidate(note.payload.split())
                        conn.execute("SELECT 1")  # a half-open connection shows here
            except psycopg.Error as exc:
                log.warning("consent change feed lost its connection (%s)", type(exc).__name__)
            finally:
                self._set_live(False)
            self._stop.wait(RECONNECT_SECONDS)


# ---------------------------------------------------------------------------- per process

_caches: dict[tuple[int, str, float], CheckCache] = {}
_caches_lock = threading.Lock()
_urls: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _conninfo(url: URL) -> str:
    """libpq's form of the store's SQLAlchemy URL."""
    plain = url.set(drivername="postgresql")
    return plain.render_as_string(hide_password=False)


def for_store(session: Session, settings: Settings) -> CheckCache | None:
    """This process's cache for the session's store, started on first use; None when off."""
    return for_engine(session.get_bind().engine, settings)


def for_engine(engine: Engine, settings: Settings) -> CheckCache | None:
    """This process's cache for the engine's store, started on first use; None when off."""
    seconds = settings.consent_cache_seconds
    if seconds <= 0 or engine.dialect.name != "postgresql":
        return None
    key = (os.getpid(), _url(engine), seconds)  # a forked child starts its own thread
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None or cache.stopped:
            cache = _caches[key] = CheckCache(seconds, _conninfo(engine.url))
            cache.start()
    return cache


def stop_for(store: Engine | str) -> None:
    """Stop this process's caches for a store, given its engine or URL (its app is shutting
    down, or it is about to be dropped): their listeners leave, and one left behind cannot
    make the process forget its tokens later."""
    if isinstance(store, Engine):
        url = _url(store)
    else:
        url = make_url(store).render_as_string(hide_password=False)
    with _caches_lock:
        stopping = [cache for key, cache in _caches.items() if key[1] == url]
        for key in [key for key in _caches if key[1] == url]:
            del _caches[key]
    for cache in stopping:
        cache.stop(wait=0)


def _url(engine: Engine) -> str:
    """The engine's URL with its password (two stores may differ only in it); rendered once
    an engine, as every cached check asks."""
    url = _urls.get(engine)
    if url is None:
        url = _urls[engine] = engine.url.render_as_string(hide_password=False)
    return url


def _key(lookup_hash: str | None, subject_id: str | None, suppression: Any) -> Key:
    return (bool(subject_id), subject_id or lookup_hash or "", suppression)


def held(
    engine: Engine,
    settings: Settings,
    *,
    revision: int,
    lookup_hash: str | None = None,
    subject_id: str | None = None,
    suppression: tuple[str, str, str] | None = None,
) -> Looked | None:
    """What `look_up` would answer from memory, read with the catalogue at `revision`, without
    a session or the store (web/api/check_path.py answers on the event loop with it); None:
    the store must be asked."""
    cache = for_engine(engine, settings)
    if cache is None:
        return None
    found = cache.get(_key(lookup_hash, subject_id, suppression))
    return found if found is not None and found.revision == revision else None


def look_up(
    session: Session,
    settings: Settings,
    *,
    lookup_hash: str | None = None,
    subject_id: str | None = None,
    suppression: tuple[str, str, str] | None = None,
) -> Looked:
    """`state.look_up`, answered from this process's cache when it may be."""
    cache = None if change_feed.changed_here(session) else for_store(session, settings)
    if cache is None:
        return read(
            session, lookup_hash=lookup_hash, subject_id=subject_id, suppression=suppression
        )
    key = _key(lookup_hash, subject_id, suppression)
    held = cache.get(key)
    # Served only with the catalogue it was read with, so a check never mixes two.
    if held is not None and held.revision == snapshot.held_revision(session):
        return held
    ticket = cache.ticket()
    found = read(session, lookup_hash=lookup_hash, subject_id=subject_id, suppression=suppression)
    cache.put(key, found, ticket)
    return found
