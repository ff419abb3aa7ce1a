"""Rightful's own store: SQLite by default, PostgreSQL at scale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from rightful.core.clock import as_utc
from rightful.core.files import private_sqlite_file

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[Any]):
    """Stores aware datetimes; SQLite returns them naive, so put UTC back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return as_utc(value) if value is not None else None


class Base(DeclarativeBase):
    """Declarative base for every Rightful table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    """An engine for Rightful's store; SQLite gets WAL and foreign keys.

    A pool smaller than the requests in flight opens and closes a connection (a PostgreSQL
    backend to start) for every burst: with SQLAlchemy's default of 5 that cost a consent check
    more PostgreSQL CPU than its statements (docs/benchmarks.md).

    `hide_parameters`: a failing statement's error (logged, or shown in a traceback) would
    otherwise print its bound values, which are often personal data."""
    if url.startswith("sqlite"):
        private_sqlite_file(url)  # before SQLite creates it with the umask's mode
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        hide_parameters=True,
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


_readers: WeakKeyDictionary[sessionmaker[Session], sessionmaker[Session]] = WeakKeyDictionary()


@contextmanager
def single_reads(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose statements each stand alone (autocommit), for an entry point that only
    reads, each answer from one statement: no transaction, so no BEGIN and COMMIT round trips
    (psycopg sends each on its own). Anything it writes commits at once."""
    readers = _readers.get(factory)
    if readers is None:
        bind = factory.kw["bind"].execution_options(isolation_level="AUTOCOMMIT")
        readers = _readers[factory] = sessionmaker(**{**factory.kw, "bind": bind})
    with unit_of_work(readers) as session:
        yield session


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
