"""Password checks off the event loop, a few at a time.

Argon2 is slow on purpose (tens of milliseconds of CPU and 64 MiB each). Run on the event loop,
a handful of sign-ins in flight stall every other page; run in unbounded threads, a flood of
them takes every core. So each check runs in a worker thread, at most `THREADS` at once per
process, and when more than `QUEUE` are already waiting a new one is refused at once.
"""

from __future__ import annotations

import os

import anyio
from anyio import to_thread
from fastapi import FastAPI

from rightful.core.errors import RateLimitedError
from rightful.security.passwords import verify_secret

THREADS = max(1, (os.cpu_count() or 2) // 2)  # leave the other half of the cores for pages
QUEUE = 32


def _limiter(app: FastAPI) -> anyio.CapacityLimiter:
    # Made on first use, inside the running loop the limiter belongs to.
    limiter: anyio.CapacityLimiter | None = getattr(app.state, "password_limiter", None)
    if limiter is None:
        limiter = app.state.password_limiter = anyio.CapacityLimiter(THREADS)
    return limiter


async def verify_password(app: FastAPI, stored_hash: str | None, password: str) -> bool:
    """`passwords.verify_secret` in a worker thread; RateLimitedError when too many wait."""
    limiter = _limiter(app)
    if limiter.statistics().tasks_waiting >= QUEUE:
        raise RateLimitedError("Sign-in is busy. Try again in a few seconds.")
    return await to_thread.run_sync(verify_secret, stored_hash, password, limiter=limiter)
