"""`schemathesis run` against the OpenAPI Rightful serves: whatever a caller sends, no answer is a
server error and every error is problem+json (docs/decisions/0010).

Rightful is served by uvicorn on a loopback port and called over real HTTP with a staff API
token, so the authenticated routes run past sign-in. Every operation gets schemathesis's
boundary values (coverage), a bounded number of generated cases, valid and invalid, and short
stateful sequences, from a fixed seed: the same cases on every run of the same schema."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from rightful.web.app import create_app
from tests.support.app import App

ROOT = Path(__file__).parents[2]
EXAMPLES_PER_OPERATION = 10  # per operation and mode; the run takes ~25 CPU-seconds
SEED = 20261204
RUN_TIMEOUT_S = 240
STARTUP_TIMEOUT_S = 20.0


@pytest.fixture
def served(rightful_app: App) -> Iterator[str]:
    """The test's Rightful served by uvicorn on 127.0.0.1; its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(rightful_app.runtime, start_worker=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_no_operation_answers_a_server_error_and_every_error_is_a_problem(
    served: str, rightful_app: App, tmp_path: Path
) -> None:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",  # the problem+json check
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{served}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {rightful_app.token}",
            "--checks",
            "not_a_server_error,errors_are_problems",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--workers",
            "1",
            "--request-timeout",
            "30",
        ],
        cwd=tmp_path,  # its caches (.hypothesis, .schemathesis) stay out of the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", run.stdout)
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert selected and tested, run.stdout[-2000:]
    assert int(tested.group(1)) == int(selected.group(2)) > 0  # every operation was called
