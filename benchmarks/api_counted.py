"""Run a real Rightful command (`rightful serve`, `rightful worker`, `celery ... worker`) with
its database work counted: `python -m benchmarks.api_counted rightful serve --port 8000`.

The command runs unchanged; listeners on every SQLAlchemy engine count statements and commits
per database (Rightful's store or the estate), and each process — Celery's prefork children
too, re-armed after the fork — writes its counts to RIGHTFUL_BENCH_COUNTS_DIR/PID.json ten times
a second for the benchmark to read (benchmarks/api_stack.py).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

COUNTS_ENV = "RIGHTFUL_BENCH_COUNTS_DIR"
STORE_ENV = "RIGHTFUL_BENCH_STORE_DB"  # the store's database name; any other is the estate
_counts: Counter[str] = Counter()


def _side(conn: Any) -> str:
    return "store" if conn.engine.url.database == os.environ.get(STORE_ENV) else "estate"


def _on_execute(conn: Any, *_: Any) -> None:
    _counts[f"{_side(conn)}.statements"] += 1


def _on_commit(conn: Any) -> None:
    _counts[f"{_side(conn)}.commits"] += 1


def _write_forever(directory: Path) -> None:
    path = directory / f"{os.getpid()}.json"
    while directory.exists():
        path.with_suffix(".tmp").write_text(json.dumps({"argv": sys.argv[:3], **_counts}))
        path.with_suffix(".tmp").replace(path)
        time.sleep(0.1)


def _start_writer() -> None:
    directory = Path(os.environ[COUNTS_ENV])
    threading.Thread(target=_write_forever, args=(directory,), daemon=True).start()


def _after_fork() -> None:
    # A forked child starts with its parent's counts and without its threads.
    _counts.clear()
    _start_writer()


def install() -> None:
    """Count this process's statements and commits, and its forked children's."""
    event.listen(Engine, "before_cursor_execute", _on_execute)
    event.listen(Engine, "commit", _on_commit)
    _start_writer()
    os.register_at_fork(after_in_child=_after_fork)


def main() -> None:
    """Install the counters, then hand over to the command named in argv."""
    install()
    command, sys.argv = sys.argv[1], sys.argv[1:]
    if command == "rightful":
        from rightful.cli.main import app

        app()
    elif command == "celery":
        from celery.__main__ import main as celery_main

        celery_main()
    else:
        raise SystemExit(f"unknown command {command!r}: rightful or celery")


if __name__ == "__main__":
    main()
