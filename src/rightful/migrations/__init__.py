"""Alembic migrations for Rightful's own store, runnable from the installed package."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only to migrate: every process asks at its start which migrations it
# ships and the store is at (`shipped`, `current`), answered without Alembic, whose import
# and reading of every script took about a twentieth of a server's start.

HERE = Path(__file__).parent
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def _config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema."""
    from alembic import command

    with engine.begin() as conn:
        cfg = _config(str(engine.url))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration from the models (developers only)."""
    from alembic import command

    command.revision(_config(url), message=message, autogenerate=True)


_ASSIGNED = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@functools.cache
def shipped() -> tuple[frozenset[str], frozenset[str]]:
    """The newest migrations this Rightful ships (its heads), and every one it knows.

    Read from the scripts' `revision` and `down_revision` lines, as Alembic reads them, without
    importing Alembic or running the scripts: every server and worker asks this as it starts
    (`tests/integration/store/test_migration_heads.py` checks it against Alembic's own answer)."""
    known: set[str] = set()
    below: set[str] = set()
    for script in (HERE / "versions").glob("*.py"):
        values = dict(_ASSIGNED.findall(script.read_text(encoding="utf-8")))
        if "revision" not in values:
            continue
        known.add(ast.literal_eval(values["revision"]))
        down = ast.literal_eval(values.get("down_revision", "None"))
        below.update([down] if isinstance(down, str) else down or ())
    return frozenset(known - below), frozenset(known)


def current(conn: Connection) -> frozenset[str]:
    """The migrations a store is at (empty when it has no tables); reads only."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(conn.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))  # noqa: S608 - a constant
