"""The benchmark's PostgreSQL databases: names, addresses and (re)creation."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

DEFAULT_CUSTOMERS = 1_000_000


@dataclass(frozen=True)
class Server:
    """A PostgreSQL server reached as `postgres` with trust authentication."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"

    def conninfo(self, dbname: str) -> str:
        """A libpq connection string for psycopg."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def url(self, dbname: str) -> str:
        """A SQLAlchemy URL, as Rightful's settings and connectors take it."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def exists(self, dbname: str) -> bool:
        """True when the database is there."""
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            return found.fetchone() is not None

    def recreate(self, dbname: str) -> None:
        """Drop (ending its sessions) and create an empty database."""
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            name = sql.Identifier(dbname)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def version(self) -> str:
        """The server's version string, e.g. '15.20 (Debian 15.20-0+deb12u1)'."""
        with psycopg.connect(self.conninfo("postgres")) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"


def estate_name(customers: int) -> str:
    """The estate's database; other sizes get their own, so a smoke run keeps the big one."""
    base = "rightful_bench_estate"
    return base if customers == DEFAULT_CUSTOMERS else f"{base}_{customers}"


STORE = "rightful_bench_store"
