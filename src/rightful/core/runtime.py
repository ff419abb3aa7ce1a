"""What an entry point builds once: settings, engine and session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from rightful.core.config import Settings
from rightful.core.db import make_engine, make_sessionmaker
from rightful.core.files import new_private_dir


@dataclass(frozen=True)
class Runtime:
    """Settings plus Rightful's own database, shared by one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def build_runtime(settings: Settings | None = None) -> Runtime:
    """Read settings (unless given) and open the database."""
    settings = settings or Settings()
    new_private_dir(settings.data_dir)
    engine = make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    return Runtime(settings=settings, engine=engine, sessions=make_sessionmaker(engine))
