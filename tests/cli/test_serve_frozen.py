"""A server process freezes what it imported and built before it serves (web/serving.py).

Unfrozen, the first request that makes many objects (a bulk check of a million digests) paid
for the process's first full garbage collection over every module, class and route, about
0.1 s of CPU that later requests did not pay (issue 14). No timing here: the outcome is what
the collector is left to scan. Each check runs in a fresh interpreter, as uvicorn's are.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path


def _after_building(tmp_path: Path) -> dict[str, int]:
    code = (
        "import gc, json\n"
        "from rightful.web import serving\n"
        "app = serving.server_process_app()\n"
        "print(json.dumps({'frozen': gc.get_freeze_count(), 'scanned': len(gc.get_objects()),"
        " 'enabled': gc.isenabled()}))\n"
    )
    env = {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(tmp_path),
        "RIGHTFUL_SECRET_KEY": secrets.token_urlsafe(40),
        "RIGHTFUL_EMBEDDED_WORKER": "false",
    }
    env.pop("RIGHTFUL_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    found: dict[str, int] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_a_server_process_leaves_the_collector_nothing_it_built_before_serving(
    tmp_path: Path,
) -> None:
    """After uvicorn's factory builds the app, what the imports and the app made is frozen
    (some hundred thousand objects), nothing is left for a full collection to scan, and the
    collector still runs for what requests make."""
    found = _after_building(tmp_path)
    assert found["frozen"] > 50_000
    assert found["scanned"] < found["frozen"] // 100
    assert found["enabled"]
