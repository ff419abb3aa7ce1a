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

from sqlalchemy.orm import configure_mappers

from rightful import laws
from rightful.connectors import registry
from rightful.core.startup import loading

# Imported on first use in the code the jobs run; loaded here so the pool shares them.
MODULES = (
    "httpx",
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
