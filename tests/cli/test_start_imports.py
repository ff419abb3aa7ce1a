"""What a process imports before it can work (issue 12: cold start and the workers' memory).

Each check runs in a fresh interpreter, so what this test process already imported does not
count. No timing: the modules themselves are the outcome that makes `rightful serve` answer
sooner and the Celery pool share its memory.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from rightful.core.startup import loading


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _under(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in packages or m.startswith(packages))


def test_the_command_line_loads_no_command_group_it_is_not_running() -> None:
    """`rightful serve` starts by importing the CLI: every other group (rights import, DROP,
    the mailbox...) is imported when that group is used, not before."""
    loaded = _modules_after("import rightful.cli.main")
    unwanted = ("celery", "kombu", "httpx", "rich", "fastapi", "uvicorn", "holidays")
    assert _under(loaded, *unwanted) == []
    assert _under(loaded, "rightful.drop", "rightful.web", "rightful.cli.rights_cmds") == []


def test_the_command_line_is_imported_without_the_collector_and_frozen() -> None:
    """What every command imports first is loaded with the cyclic collector paused (its passes
    over those objects cost about a sixth of the import) and frozen; collection is back on."""
    code = "import gc, rightful.cli.main\nassert gc.isenabled() and gc.get_freeze_count() > 0\n"
    _modules_after(code)  # check=True: the assertion failing fails the test


def test_the_server_loads_no_broker_http_client_or_holiday_calendar_before_it_answers() -> None:
    """What serving needs is loaded; Celery, httpx (only partner notices and transfers send
    with it), the holiday calendars (the first deadline reads them), PyJWT (the first signed
    assertion from the company's site), phonenumbers (the first phone number) and PyYAML (the
    first file of policy, rules or data map read) are not."""
    loaded = _modules_after("import rightful.cli.main, rightful.web.app, rightful.worker.loop")
    assert "fastapi" in loaded
    unwanted = (
        "celery",
        "kombu",
        "httpx",
        "holidays",
        "rich",
        "pygments",
        "jwt",
        "phonenumbers",
        "yaml",
    )
    assert _under(loaded, *unwanted) == []


def test_the_polling_worker_loads_no_postgresql_driver_until_it_listens() -> None:
    """`rightful worker` on SQLite or MariaDB never uses psycopg: the consent sequencer's
    wake-up (consent/sequence_wake.py) imports it in its listening thread, which only a worker
    on PostgreSQL starts."""
    loaded = _modules_after("import rightful.cli.main, rightful.worker.loop")
    assert _under(loaded, "psycopg", "psycopg_binary", "psycopg_c") == []


def test_the_server_on_sqlite_loads_no_postgresql_driver(tmp_path: Path) -> None:
    """A server on SQLite, started and answering, holds no psycopg: the consent check cache
    (consent/check_cache.py) imports it in its change feed's thread, which only a store on
    PostgreSQL starts."""
    code = (
        "from fastapi.testclient import TestClient\n"
        "from rightful.core.config import Settings\n"
        "from rightful.core.runtime import build_runtime\n"
        "from rightful.migrations import upgrade\n"
        "import rightful.cli.main, rightful.worker.loop\n"
        "from rightful.web.app import create_app\n"
        f"rt = build_runtime(Settings(data_dir='{tmp_path}', base_url='http://testserver',"
        f" secret_key='{secrets.token_urlsafe(40)}'))\n"
        "upgrade(rt.engine)\n"
        "with TestClient(create_app(rt, start_worker=False)) as client:\n"
        "    assert client.get('/healthz').status_code == 200\n"
        "    assert client.post('/api/v1/consent/check', json={}).status_code == 401\n"
    )
    loaded = _modules_after(code)
    assert "rightful.consent.check_cache" in loaded
    assert _under(loaded, "psycopg", "psycopg_binary", "psycopg_c") == []


def test_a_celery_worker_loads_what_its_pool_needs_before_forking_and_never_the_web_app() -> None:
    """The worker's app imports no FastAPI, pages or server; before its pool forks, the parent
    has loaded the connector kinds, httpx and the holiday calendars (shared by every child, not
    loaded once in each) and frozen them."""
    code = (
        "import gc, rightful.worker.celery_app\n"
        "from celery import signals\n"
        "signals.worker_init.send(sender=None)\n"  # what `celery worker` sends before forking
        "assert gc.get_freeze_count() > 0 and gc.isenabled()\n"
    )
    bare = _modules_after("import rightful.worker.celery_app")
    assert _under(bare, "fastapi", "starlette", "uvicorn", "rightful.web", "rightful.cli") == []
    forked = _modules_after(code)
    for needed in ("httpx", "httpcore", "holidays.countries", "rightful.connectors.sql"):
        assert needed in forked
    assert _under(forked, "fastapi", "starlette", "uvicorn", "rightful.web") == []


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_freezes_what_it_made_and_leaves_collection_as_it_was(enabled: bool) -> None:
    """The collector is paused inside the block and as it was after; what was made is frozen."""
    import gc

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with loading():
            assert not gc.isenabled()
            made: list[list[int]] = [[] for _ in range(100)]
        assert gc.isenabled() is enabled
        assert gc.get_freeze_count() >= len(made)
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()


def test_the_embedded_workers_first_pass_over_an_idle_store_loads_no_http_client(
    tmp_path: Path,
) -> None:
    """`rightful serve` starts its worker's lanes before it answers: with nothing to deliver,
    their first pass does not import httpx (with rich and pygments, about as much CPU as a
    fifth of the server's start), only a send does."""
    from rightful.core.config import Settings
    from rightful.core.runtime import build_runtime
    from rightful.migrations import upgrade

    values = {"data_dir": str(tmp_path), "secret_key": secrets.token_urlsafe(40)}
    runtime = build_runtime(Settings(**values))  # type: ignore[arg-type]
    upgrade(runtime.engine)  # here: Alembic's templates load pygments in the process migrating
    runtime.engine.dispose()
    code = (
        "from rightful.core.config import Settings\n"
        "from rightful.core.runtime import build_runtime\n"
        "from rightful.worker import jobs\n"
        f"runtime = build_runtime(Settings(**{values!r}))\n"
        "for job in jobs.LANES.values():\n"
        "    job(runtime)\n"
        "jobs.read_mailbox(runtime)\n"
        "runtime.engine.dispose()\n"
    )
    loaded = _modules_after(code)
    assert "rightful.consent.deliver" in loaded  # the propagation lane did run
    assert _under(loaded, "httpx", "httpcore", "rich", "pygments") == []
