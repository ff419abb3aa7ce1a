"""Counting tries per key in a process's memory, for limits that guard against nuisance."""

from __future__ import annotations

from collections import deque

from rightful.core.clock import utcnow


class Throttle:
    """At most `limit` tries per key in a sliding window, counted in this process's memory.

    Used where a limit guards against nuisance (filling a stranger's inbox, a script flooding
    the ledger), not as a security boundary. So a restart resetting it, or each process allowing
    its own share, is acceptable, and it needs no table. Keys are keyed hashes, never addresses.
    """

    def __init__(self, limit: int, window_seconds: float = 3600.0) -> None:
        """Allow `limit` tries per key in any `window_seconds`."""
        self.limit, self.window = limit, window_seconds
        self.hits: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one more try for `key`; False when it is over the limit."""
        now = utcnow().timestamp()
        if len(self.hits) > 10_000:  # forget keys whose window has passed
            self.hits = {k: v for k, v in self.hits.items() if v and v[-1] > now - self.window}
        hits = self.hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True
