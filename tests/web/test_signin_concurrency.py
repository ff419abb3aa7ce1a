"""Sign-ins in flight never stall other pages: the password check runs in a worker thread.

Shown by structure, not timing: every password check is held until the test lets it go, and
an unrelated page is asked for meanwhile. Were a check on the event loop, that page could not
be answered until the checks were released.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from rightful.security import passwords
from tests.support.app import App
from tests.support.signin import form_token, post_login

SIGN_INS = 8
PATIENCE = 60  # seconds before a test that would otherwise hang gives up


class HeldHasher:
    """Argon2, but each check waits for `release` and records whether it ran on an event loop."""

    def __init__(self, real: Any) -> None:
        self.real, self.release = real, threading.Event()
        self.entered = threading.Semaphore(0)
        self.on_event_loop: list[bool] = []

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            asyncio.get_running_loop()
            self.on_event_loop.append(True)
        except RuntimeError:
            self.on_event_loop.append(False)
        self.entered.release()
        self.release.wait(PATIENCE)
        return bool(self.real.verify(stored_hash, password))

    def hash(self, secret: str) -> str:
        return str(self.real.hash(secret))


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldHasher]:
    hasher = HeldHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    yield hasher
    hasher.release.set()


def wait_until(condition: Any, hasher: HeldHasher) -> None:
    """Wait (at most PATIENCE seconds, so a broken build fails instead of hanging)."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        hasher.entered.acquire(timeout=0.05)


def in_thread(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_other_pages_are_served_while_sign_ins_wait_on_their_password_checks(
    rightful_app: App, held: HeldHasher
) -> None:
    client, token, answers = rightful_app.client, form_token(rightful_app.client), []
    sign_ins = [
        in_thread(
            lambda i=i: answers.append(
                post_login(client, f"flood{i}@lumen.example", "wrong password!", token=token)
            )
        )
        for i in range(SIGN_INS)
    ]
    assert held.entered.acquire(timeout=PATIENCE), "no password check started"
    page: list[int] = []
    unrelated = in_thread(lambda: page.append(client.get("/").status_code))
    unrelated.join(PATIENCE)
    assert page == [200], "the page was not served while a password check was held"
    limiter = client.app.state.password_limiter  # type: ignore[attr-defined]

    def in_flight() -> int:
        return int(limiter.statistics().tasks_waiting + limiter.borrowed_tokens)

    wait_until(lambda: in_flight() == SIGN_INS, held)
    assert all(t.is_alive() for t in sign_ins)  # all eight in flight, none answered yet
    held.release.set()
    for thread in sign_ins:
        thread.join(PATIENCE)
    assert [r.status_code for r in answers] == [401] * SIGN_INS
    assert held.on_event_loop == [False] * SIGN_INS


def test_at_most_a_few_password_checks_run_at_once(rightful_app: App, held: HeldHasher) -> None:
    from rightful.web.hashing import THREADS

    client, token = rightful_app.client, form_token(rightful_app.client)
    sign_ins = [
        in_thread(lambda i=i: post_login(client, f"f{i}@lumen.example", "wrong pw!", token=token))
        for i in range(SIGN_INS)
    ]
    for _ in range(THREADS):
        assert held.entered.acquire(timeout=PATIENCE)
    limiter = client.app.state.password_limiter  # type: ignore[attr-defined]
    wait_until(lambda: limiter.statistics().tasks_waiting == SIGN_INS - THREADS, held)
    assert len(held.on_event_loop) == THREADS == limiter.borrowed_tokens
    held.release.set()
    for thread in sign_ins:
        thread.join(PATIENCE)
    assert len(held.on_event_loop) == SIGN_INS


def test_with_too_many_waiting_a_sign_in_is_told_to_try_again_at_once(
    rightful_app: App, held: HeldHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rightful.web import hashing

    monkeypatch.setattr(hashing, "QUEUE", 2)
    client, token = rightful_app.client, form_token(rightful_app.client)
    sign_ins = [
        in_thread(lambda i=i: post_login(client, f"q{i}@lumen.example", "wrong pw!", token=token))
        for i in range(hashing.THREADS + 2)
    ]
    assert held.entered.acquire(timeout=PATIENCE)
    limiter = client.app.state.password_limiter  # type: ignore[attr-defined]
    wait_until(lambda: limiter.statistics().tasks_waiting == 2, held)
    r = post_login(client, "one.more@lumen.example", "wrong pw!", token=token)
    assert r.status_code == 429 and r.headers["Retry-After"] == "5"
    assert "Sign-in is busy" in r.text
    held.release.set()
    for thread in sign_ins:
        thread.join(PATIENCE)
