"""Liveness and readiness for load balancers and orchestrators (docs/operations.md#health).

`/healthz` answers as long as the process does and touches nothing. `/readyz` asks Rightful's
own store a trivial question, checks its schema is the one this Rightful needs, and, when work
runs on Celery, that the broker takes a connection. Neither needs a token, sets a cookie, writes
to the store or is audited; their answers name checks, never hosts, users or passwords.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import make_url, text

from rightful import migrations
from rightful.core.runtime import Runtime
from rightful.web.deps import runtime
from rightful.web.errors import problem

BROKER_TIMEOUT_SECONDS = 2.0
UPGRADE = "run `rightful db upgrade`"

log = logging.getLogger(__name__)
router = APIRouter()


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and in words what was found."""

    name: str
    ok: bool
    detail: str


# What drivers say (in their own words, around hosts and users we must not echo), in ours.
KNOWN_CAUSES = (
    ("connection refused", "connection refused"),
    ("timeout expired", "no answer in time"),
    ("timed out", "no answer in time"),
    ("name or service not known", "its host name is not known"),
    ("could not translate host name", "its host name is not known"),
    ("authentication failed", "the user name or password was refused"),
    ("access denied", "the user name or password was refused"),
    ("does not exist", "the database does not exist"),
    ("unable to open database file", "the database file cannot be opened"),
)


def _cause(exc: BaseException) -> str:
    """Why a connection failed, without the address or credentials the message may carry."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError | socket.timeout):
            return "no answer in time"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        said = str(seen).lower()
        for phrase, meaning in KNOWN_CAUSES:
            if phrase in said:
                return meaning
        seen = seen.__cause__ or seen.__context__
    return f"the driver reported {type(exc).__name__}"


def _store_file_missing(rt: Runtime) -> bool:
    # Connecting to a SQLite file that is not there would create it: a write, and a lie.
    url = make_url(rt.settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    return not Path(str(url.database)).exists()


def check_store(rt: Runtime) -> list[Check]:
    """The store answers `SELECT 1` and is at the newest migration this Rightful ships."""
    if _store_file_missing(rt):
        return [Check("store", False, f"The store's database file does not exist: {UPGRADE}.")]
    try:
        with rt.engine.connect() as conn:  # read only: closed without a commit
            conn.execute(text("SELECT 1"))
            at = migrations.current(conn)
    except Exception as exc:  # any driver's failure means the same thing to an operator
        log.warning("readiness: the store did not answer (%s)", type(exc).__name__)
        return [Check("store", False, f"The store did not answer: {_cause(exc)}.")]
    store = Check("store", True, "The store answers.")
    newest, known = migrations.shipped()
    if at == newest:
        return [store, Check("schema", True, f"At migration {', '.join(sorted(at))}.")]
    if not at:
        why = f"The store has no tables yet: {UPGRADE}."
    elif at - known:
        why = f"The store is at migration {', '.join(sorted(at))}, from a newer Rightful."
    else:
        why = (
            f"The store is at migration {', '.join(sorted(at))}; this Rightful needs "
            f"{', '.join(sorted(newest))}: {UPGRADE}."
        )
    return [store, Check("schema", False, why)]


def check_broker(rt: Runtime) -> list[Check]:
    """When work runs on Celery (RIGHTFUL_BROKER_URL), the broker takes a connection in time."""
    url = rt.settings.broker_url
    if not url:
        return []
    # Celery's transport, loaded only where a broker is set; kombu ships no type hints.
    from kombu.connection import Connection

    scheme = make_url(url).drivername if "://" in url else "unknown"
    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # kombu wraps each transport's errors differently
        log.warning("readiness: the broker did not answer (%s)", type(exc).__name__)
        why = (
            f"The Celery broker ({scheme}) did not take a connection within "
            f"{BROKER_TIMEOUT_SECONDS:g} seconds: {_cause(exc)}. Queued work waits until it does."
        )
        return [Check("broker", False, why)]
    return [Check("broker", True, f"The Celery broker ({scheme}) takes connections.")]


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    """Liveness: the process answers. Nothing is checked, so a store outage restarts nothing."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(rt: Runtime = Depends(runtime)) -> JSONResponse:
    """Readiness: 200 with each check when all pass, 503 problem+json naming those that fail."""
    checks = check_store(rt) + check_broker(rt)
    listed = {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}
    failed = [c for c in checks if not c.ok]
    if not failed:
        return JSONResponse({"status": "ready", "checks": listed})
    return problem(
        503,
        "Not ready",
        " ".join(c.detail for c in failed),
        code="not_ready",
        instance="/readyz",
        errors=[{"field": c.name, "message": c.detail} for c in failed],
        extensions={"checks": listed},
    )
