"""Time is UTC and timezone-aware everywhere; tests may freeze it."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    """The current time in UTC (or the frozen time in tests)."""
    return _frozen or datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at `at`, or unfreeze it with None."""
    global _frozen
    _frozen = at


def as_utc(value: datetime) -> datetime:
    """Attach UTC to a naive datetime read back from SQLite."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
