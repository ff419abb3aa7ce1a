"""What a Celery worker loads once, in the parent, before it forks its pool.

Prefork children share the parent's memory until they write to it. Whatever a child imports or
reads for itself (a connector kind loaded from its entry point, httpx for partner notices, the
rule packs and ~250 holiday calendars for the first deadline) is made again in every child and
counted once per child. Loaded here, before the fork, it is made once and shared; `loading()`
then freezes it (core/startup.py), so the children's collections do not write to those pages.
The web app is not part of it: a worker never imports FastAPI or the pages.

Importing is not all: the first run of a job builds much more that lives on (SQLAlchemy's
statement caches and the attributes its constructs work out on first use, compiled SQL, the
driver's type set-up), each child its own copy. On PostgreSQL the parent therefore rehearses
the jobs once before forking (`rehearse`): against empty temporary copies of Rightful's tables,
in a transaction it rolls back, so the rehearsal finds no work, reads no data and changes
nothing, and the children share what it built.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

from kombu.transport import get_transport_cls
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import configure_mappers, sessionmaker

from rightful import laws
from rightful.connectors import registry
from rightful.core.config import Settings
from rightful.core.db import Base
from rightful.core.runtime import Runtime
from rightful.core.startup import loading
from rightful.worker import pending

log = logging.getLogger(__name__)

# Imported on first use in the code the jobs run; loaded here so the pool shares them.
MODULES = (
    "httpx",
    "httpcore",  # httpx's transport, imported by its first client
    "rightful.all_models",
    "rightful.rights.packaging",
    "rightful.messaging.render",
)


def before_fork() -> None:
    """Load what every child would otherwise load for itself, then freeze it."""
    _without_httpx_cli()
    with loading():
        for module in MODULES:
            importlib.import_module(module)
        registry.kinds()  # each connector kind's module (sql, http, manual, plug-ins)
        laws.all_jurisdictions()  # the rule packs and their holiday calendars
        configure_mappers()  # SQLAlchemy's mapper set-up, done once instead of per child
        _clients(Settings())


def _without_httpx_cli() -> None:
    """httpx's package imports its command-line client when it can, and with it rich (and
    pygments, which a worker also loads through other imports; together some 70 modules and 4
    MiB in a bare interpreter); nothing in a worker runs it. A None in `sys.modules`
    makes that import fail, and httpx then leaves its `main` a stub, as it does when the
    client's extras are not installed."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _clients(settings: Settings) -> None:
    """The store's driver (psycopg: some 80 modules) and the broker's client (redis: some 60),
    which each child would otherwise import at its first statement and its first message."""
    make_url(settings.resolved_database_url).get_dialect().import_dbapi()
    if settings.broker_url:
        try:
            get_transport_cls(make_url(settings.broker_url).get_backend_name())
        except (ArgumentError, ImportError, KeyError):  # only sharing lost: Celery reports it
            log.warning("the broker's client could not be loaded before the fork")


def rehearse(runtime: Runtime, passes: Iterable[Callable[[Runtime], object]]) -> None:
    """Run `passes` (the jobs a child runs) once in this process, on PostgreSQL, against empty
    temporary copies of Rightful's tables, then roll everything back and freeze what the run
    left behind (see the module's docstring). Elsewhere nothing is run.

    A temporary table hides the permanent one of its name for its session, so every statement
    of the rehearsal, ORM or text, reads and writes only the empty copies: no request, message
    or notice is found, so nothing outside the store is called either. Process-wide caches of
    the data map and consent catalogue (inventory/revision.py, consent/snapshot.py) never reuse
    what they read at revision 0, which is all an empty store has; a row the rehearsal adds may
    take a value from a real sequence (not rolled back), a gap nobody reads. A store that cannot be
    reached or a job that fails here only costs the sharing: the children run as before."""
    settings, engine = runtime.settings, runtime.engine
    if engine.dialect.name != "postgresql":
        return
    quiet = logging.root.manager.disable
    logging.disable(logging.WARNING)  # what an empty store makes a job say is not news
    event.listen(engine, "do_connect", _give_up_soon)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            conn.exec_driver_sql("SET LOCAL statement_timeout = '10s'")
            for table in Base.metadata.sorted_tables:
                name = conn.dialect.identifier_preparer.quote(table.name)
                conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} (LIKE {name} INCLUDING ALL)")
            sessions = sessionmaker(
                conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            rehearsal = Runtime(settings=settings, engine=engine, sessions=sessions)
            for run in passes:
                run(rehearsal)
            conn.rollback()
    except Exception as exc:  # only sharing lost
        logging.disable(quiet)  # so the warning is seen
        log.warning("the jobs could not be rehearsed before the fork (%s)", type(exc).__name__)
    finally:
        logging.disable(quiet)
        event.remove(engine, "do_connect", _give_up_soon)
        engine.dispose()  # the children open their own connections
        for lane in set(pending.LANE_OF_TABLE.values()):
            pending.take(lane)  # nothing the rehearsal noted is the children's to announce
        gc.collect()  # the rehearsal's garbage, so it is not frozen with the rest
        gc.freeze()


def _give_up_soon(_dialect: object, _record: object, _args: object, params: dict[str, Any]) -> None:
    """The rehearsal's connection waits 5 seconds at most for a store that does not answer:
    the worker starts anyway (its own connections wait as configured)."""
    params.setdefault("connect_timeout", 5)
