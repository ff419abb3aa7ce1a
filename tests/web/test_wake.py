"""A server process wakes the worker that runs in another process (`rightful serve --workers`)."""

from __future__ import annotations

import threading

from rightful.web.wake import WakeListener, WakeSender
from rightful.worker import jobs


class Lanes:
    """Records the lanes woken, as the embedded worker would run them."""

    def __init__(self) -> None:
        self.woken: list[str | None] = []
        self.arrived = threading.Semaphore(0)

    def wake(self, lane: str | None = None) -> None:
        self.woken.append(lane)
        self.arrived.release()


def test_a_sender_wakes_the_lane_it_names_in_the_listening_worker() -> None:
    lanes = Lanes()
    with WakeListener(lanes) as listener:
        with WakeSender(listener.address) as sender:
            sender.wake(jobs.MAIL)
        assert lanes.arrived.acquire(timeout=10)
    assert lanes.woken == [jobs.MAIL]


def test_waking_every_lane_names_each_once() -> None:
    lanes = Lanes()
    with WakeListener(lanes) as listener:
        with WakeSender(listener.address) as sender:
            sender.wake()
        for _ in jobs.LANES:
            assert lanes.arrived.acquire(timeout=10)
    assert sorted(lanes.woken) == sorted(jobs.LANES)  # type: ignore[type-var]


def test_what_is_not_a_lane_wakes_nothing() -> None:
    lanes = Lanes()
    with WakeListener(lanes) as listener:
        with WakeSender(listener.address) as sender:
            sender.wake("rm -rf")
            sender.wake(jobs.EXECUTION)
        assert lanes.arrived.acquire(timeout=10)
    assert lanes.woken == [jobs.EXECUTION]


def test_a_worker_that_is_gone_never_fails_the_sender() -> None:
    lanes = Lanes()
    with WakeListener(lanes) as listener:
        address = listener.address
    with WakeSender(address) as sender:
        sender.wake(jobs.EXECUTION)  # the request is in the store: polling finds it
    assert lanes.woken == []
