"""Seconds per phase of a long run, for benchmarks (kept only when a dict is given)."""

from __future__ import annotations

import time


class Phases:
    """Laps into `timings` (phase -> seconds, added up); does nothing without a dict."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self._timings = timings
        self._start = time.perf_counter()

    def restart(self) -> None:
        """Start the next lap now (time spent elsewhere is not counted)."""
        self._start = time.perf_counter()

    def lap(self, name: str) -> None:
        """Add the seconds since the last lap to `name`."""
        now = time.perf_counter()
        if self._timings is not None:
            self._timings[name] = self._timings.get(name, 0.0) + now - self._start
        self._start = now
