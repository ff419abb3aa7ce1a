"""Count what Rightful sends to each database: statements, connection checkouts, transactions."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

from benchmarks.databases import Server
from rightful.connectors.sql import SQLConnector


class StatementCounter:
    """Statements and pool checkouts, split into Rightful's own store and the estate."""

    def __init__(self, store_db: str) -> None:
        self.store_db = store_db
        self.counts: Counter[str] = Counter()  # a few entries are milliseconds, not counts
        self.captured: list[tuple[str, str]] | None = None
        self.engines: set[Engine] = set()

    def install(self) -> None:
        """Listen on every engine and pool of the process, Rightful's and the connectors'."""
        event.listen(Engine, "before_cursor_execute", self._on_execute)
        event.listen(Pool, "checkout", self._on_checkout)
        self._time_reads()

    def _time_reads(self) -> None:
        """Add the milliseconds spent inside the SQL connector's reads to the counts."""
        fetch = SQLConnector.fetch

        def timed(connector: SQLConnector, request: Any) -> Any:
            start = time.perf_counter()
            try:
                return fetch(connector, request)
            finally:
                self.counts["estate.read_ms"] += 1000 * (time.perf_counter() - start)

        SQLConnector.fetch = timed  # type: ignore[method-assign]

    def close_pools(self) -> None:
        """Close every pooled connection seen so far; reflected tables stay cached."""
        for engine in self.engines:
            engine.dispose()

    def _side(self, dbname: str | None) -> str:
        return "store" if dbname == self.store_db else "estate"

    def _on_execute(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.engines.add(conn.engine)
        side = self._side(conn.engine.url.database)
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        self.counts[f"{side}.statements"] += 1
        self.counts[f"{side}.{verb}"] += 1
        if self.captured is not None:
            self.captured.append((side, " ".join(statement.split())))

    def _on_checkout(self, dbapi_conn: Any, *_: Any) -> None:
        self.counts[f"{self._side(dbapi_conn.info.dbname)}.checkouts"] += 1

    def snapshot(self) -> Counter[str]:
        """A copy of the counts so far."""
        return Counter(self.counts)


def delta(before: Counter[str], after: Counter[str]) -> dict[str, float]:
    """What happened between two snapshots."""
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def transactions(server: Server, dbnames: list[str]) -> dict[str, int]:
    """Committed plus rolled-back transactions per database, as the server counts them.

    Backends report their statistics when they exit, so close the pools before calling this.
    """
    time.sleep(1.0)  # let the closed backends finish exiting and flush
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = conn.execute(
            "SELECT datname, xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = ANY(%s)",
            (dbnames,),
        ).fetchall()
    return {name: int(count) for name, count in rows}
