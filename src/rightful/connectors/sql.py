"""SQL connector on SQLAlchemy: PostgreSQL, MariaDB/MySQL, SQLite or any dialect by URL."""

from __future__ import annotations

from threading import Lock

from sqlalchemy import (
    Connection,
    Engine,
    Float,
    MetaData,
    Numeric,
    Table,
    create_engine,
    or_,
    select,
    text,
)
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from rightful.connectors.base import FetchRequest, Row, nonempty_matches
from rightful.core.errors import ConnectorError

_engines: dict[str, Engine] = {}
_tables: dict[tuple[str, str], Table] = {}
_lock = Lock()


def _engine(url: str) -> Engine:
    # One pool per store for the whole process: requests share connections.
    with _lock:
        if url not in _engines:
            _engines[url] = create_engine(url, pool_pre_ping=True)
        return _engines[url]


def dispose_all() -> None:
    """Close every pooled connection (tests and shutdown)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _tables.clear()


def _reflect(url: str, engine: Engine, name: str) -> Table:
    # Reflected once per process: real column types make values alike across dialects.
    with _lock:
        if (url, name) not in _tables:
            tbl = Table(name, MetaData(), autoload_with=engine)
            if engine.dialect.name == "sqlite":
                for col in tbl.columns:
                    if isinstance(col.type, Numeric) and not isinstance(col.type, Float):
                        col.type = Float()  # SQLite keeps floats; avoid lossy Decimal emulation
            _tables[(url, name)] = tbl
        return _tables[(url, name)]


class SQLConnector:
    """Reads collections as tables; identifiers quoted and values bound by SQLAlchemy."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine = _engine(url)
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        # One connection for all reads of a run: one pool checkout and ping, not one per read.
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def test_connection(self) -> None:
        """Run `SELECT 1`."""
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            cause = type(getattr(exc, "orig", None) or exc).__name__
            raise ConnectorError(f"Cannot connect: {cause}") from exc

    def fetch(self, request: FetchRequest) -> list[Row]:
        """SELECT the fields WHERE any match field is IN its values."""
        matches = nonempty_matches(request)
        if not matches:
            return []
        try:
            tbl = _reflect(self._url, self._engine, request.collection)
            missing = sorted({*request.fields, *(f for f, _ in matches)} - set(tbl.c.keys()))
            if missing:
                raise ConnectorError(f"{request.collection} has no column(s) {', '.join(missing)}")
            stmt = select(*(tbl.c[f] for f in request.fields)).where(
                or_(*(tbl.c[f].in_(list(values)) for f, values in matches))
            )
            return [dict(r._mapping) for r in self._connection().execute(stmt)]
        except NoSuchTableError as exc:
            raise ConnectorError(f"There is no table {request.collection}") from exc
        except SQLAlchemyError as exc:
            self.close()  # a failed transaction cannot be read on; start afresh next time
            cause = type(getattr(exc, "orig", None) or exc).__name__
            raise ConnectorError(f"Reading {request.collection} failed: {cause}") from exc

    def close(self) -> None:
        """Give the connection back to the shared pool."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
