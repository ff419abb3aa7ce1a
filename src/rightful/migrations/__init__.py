"""Alembic migrations for Rightful's own store, runnable from the installed package."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

HERE = Path(__file__).parent


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema."""
    with engine.begin() as conn:
        cfg = _config(str(engine.url))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration from the models (developers only)."""
    command.revision(_config(url), message=message, autogenerate=True)


@functools.cache
def shipped() -> tuple[frozenset[str], frozenset[str]]:
    """The newest migrations this Rightful ships (its heads), and every one it knows."""
    script = ScriptDirectory(str(HERE))
    known = frozenset(r.revision for r in script.walk_revisions())
    return frozenset(script.get_heads()), known


def current(conn: Connection) -> frozenset[str]:
    """The migrations a store is at (empty when it has no tables); reads only."""
    return frozenset(MigrationContext.configure(conn).get_current_heads())
