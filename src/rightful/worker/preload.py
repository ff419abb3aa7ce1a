"""What a Celery worker loads once, in the parent, before it forks its pool.

Prefork children share the parent's memory until they write to it. Whatever a child imports or
reads for itself (a connector kind loaded from its entry point, httpx for partner notices, the
rule packs and ~250 holiday calendars for the first deadline) is made again in every child and
counted once per child. Loaded here, before the fork, it is made once and shared; `loading()`
then freezes it (core/startup.py), so the children's collections do not write to those pages.
The web app is not part of it: a worker never imports FastAPI or the pages.
"""

from __future__ import annotations

import importlib
import logging

from kombu.transport import get_transport_cls
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import configure_mappers

from rightful import laws
from rightful.connectors import registry
from rightful.core.config import Settings
from rightful.core.startup import loading

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
    with loading():
        for module in MODULES:
            importlib.import_module(module)
        registry.kinds()  # each connector kind's module (sql, http, manual, plug-ins)
        laws.all_jurisdictions()  # the rule packs and their holiday calendars
        configure_mappers()  # SQLAlchemy's mapper set-up, done once instead of per child
        _clients(Settings())


def _clients(settings: Settings) -> None:
    """The store's driver (psycopg: some 80 modules) and the broker's client (redis: some 60),
    which each child would otherwise import at its first statement and its first message."""
    make_url(settings.resolved_database_url).get_dialect().import_dbapi()
    if settings.broker_url:
        try:
            get_transport_cls(make_url(settings.broker_url).get_backend_name())
        except (ArgumentError, ImportError, KeyError):  # only sharing lost: Celery reports it
            log.warning("the broker's client could not be loaded before the fork")
