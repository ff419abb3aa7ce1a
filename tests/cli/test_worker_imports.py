"""What a Celery worker's parent holds once it has loaded its pool's needs (worker/preload.py):
shared by every pool process, so anything it need not hold costs memory once per worker."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys, rightful.worker.celery_app
from celery import signals
signals.worker_init.send(sender=None)  # what `celery worker` sends before forking
import httpx
assert httpx.Client and callable(httpx.main)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_worker_loads_httpx_without_its_command_line_client() -> None:
    """httpx is loaded for partner notices and transfers; its command-line client, and the
    rich and pygments it brings, are not (nothing in a worker runs it)."""
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert {"httpx", "httpcore"} <= loaded
    assert sorted(m for m in loaded if m.split(".")[0] in ("rich", "pygments")) == []
