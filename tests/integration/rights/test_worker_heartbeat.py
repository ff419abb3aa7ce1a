"""A worker killed (SIGKILL) in the middle of a request leaves it to another worker once its
heartbeat falls silent — seconds, not the 10 minutes of its lease (issue 12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from rightful.core.runtime import Runtime
from tests.integration.rights.test_http_worker_crash import (
    Held,
    HoldingUsersAPI,
    api,  # noqa: F401 (the fixture)
    approved,
    status,
)
from tests.support.app import App
from tests.support.workers import stop, wait_for


def start_worker(runtime: Runtime) -> subprocess.Popen[bytes]:
    settings = runtime.settings
    env = {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(settings.data_dir),
        "RIGHTFUL_SECRET_KEY": settings.secret_key,
        "RIGHTFUL_BASE_URL": settings.base_url,
        "RIGHTFUL_LEASE_SECONDS": "600",  # the default: only the heartbeat frees it sooner
        "RIGHTFUL_WORKER_HEARTBEAT_SECONDS": "0.5",
        "RIGHTFUL_WORKER_SILENT_SECONDS": "3",
    }
    env.pop("RIGHTFUL_DATABASE_URL", None)
    rightful = Path(sys.executable).parent / "rightful"
    return subprocess.Popen(
        [str(rightful), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_a_request_whose_worker_was_killed_is_finished_by_another_long_before_its_lease_ends(
    rightful_app: App,
    api: HoldingUsersAPI,  # noqa: F811 (the fixture imported above)
) -> None:
    request_id = approved(rightful_app, "access")
    api.held = Held("GET", "/orders", 1, lambda a: "starting_after" in a.query)
    first = start_worker(rightful_app.runtime)
    try:
        assert api.held.arrived.wait(180), "the worker never reached the held page"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        api.held.release.set()
    assert status(rightful_app, request_id) == "executing"  # its lease runs 10 more minutes
    api.held = None
    second = start_worker(rightful_app.runtime)
    try:
        wait_for(
            lambda: status(rightful_app, request_id) == "completed",
            "another worker to take the request over",
            seconds=90,
        )
    finally:
        stop([second])
