"""SQL connector on SQLAlchemy: PostgreSQL, MariaDB/MySQL, SQLite or any dialect by URL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from threading import Lock
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Float,
    MetaData,
    Numeric,
    Table,
    and_,
    create_engine,
    delete,
    make_url,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import ArgumentError, NoSuchTableError, SQLAlchemyError

from rightful.connectors.base import Changed, FetchRequest, Row, RowChange, nonempty_matches
from rightful.connectors.registry import ConnectorKind
from rightful.core.errors import ConnectorError, InvalidInputError

_engines: dict[str, Engine] = {}
_tables: dict[tuple[str, str], Table] = {}
_lock = Lock()


def _engine(url: str) -> Engine:
    # One pool per store for the whole process: requests share connections. Errors never
    # print bound values (a person's e-mail, a corrected name).
    with _lock:
        if url not in _engines:
            _engines[url] = create_engine(url, pool_pre_ping=True, hide_parameters=True)
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


def _typed(tbl: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Values as the columns take them: ISO text back to dates, numeric text to numbers."""
    out = {}
    for name, value in values.items():
        try:
            kind = tbl.c[name].type.python_type
        except NotImplementedError:
            kind = object
        if isinstance(value, str) and kind is datetime:
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and kind is date:
            value = date.fromisoformat(value[:10])
        elif isinstance(value, str) and kind in (Decimal, float):
            value = kind(value)  # a stored plan keeps numbers as text (JSON of a Decimal)
        out[name] = value
    return out


_BATCH = 500


def _condition(tbl: Table, fields: tuple[str, ...], nulls: tuple[str, ...], keys: list[Any]) -> Any:
    """`fields` IN the given value tuples (one field: plain IN), and every null field IS NULL."""
    parts = [tbl.c[f].is_(None) for f in nulls]
    if len(fields) == 1:
        parts.append(tbl.c[fields[0]].in_([k[0] for k in keys]))
    elif fields:
        parts.append(tuple_(*(tbl.c[f] for f in fields)).in_(keys))
    return and_(*parts)


Keys = dict[str, list[tuple[Any, ...]]]  # per tag, the `where` values of the rows it asked for


@dataclass(frozen=True)
class _Statement:
    """One DELETE or UPDATE, the `where` fields it finds rows by, and the rows each tag asked."""

    stmt: Any
    fields: tuple[str, ...]
    condition: Any
    asked: Keys


def _statements(tbl: Table, changes: list[RowChange]) -> list[_Statement]:
    """Few statements for many rows: one DELETE per shape of `where` and tag, one UPDATE per
    distinct values; each with the tags it serves and the rows each asked for.

    An UPDATE by the table's whole primary key serves every tag setting the same values (two
    people correcting a field to the same value): a key is one row, so each tag's count can be
    told apart afterwards (`_counts`). Any other statement serves one tag."""
    Group = tuple[str | None, tuple[str, ...], tuple[str, ...], str | None]
    primary = {c.name for c in tbl.primary_key.columns}
    groups: dict[Group, tuple[dict[str, Any] | None, dict[str, dict[tuple[Any, ...], None]]]] = {}
    for change in changes:
        where = _typed(tbl, dict(change.where))
        fields = tuple(f for f, v in where.items() if v is not None)
        nulls = tuple(f for f, v in where.items() if v is None)
        values = _typed(tbl, change.values) if change.values is not None else None
        marker = None if values is None else repr(sorted(values.items()))
        shared = (
            values is not None
            and bool(primary)
            and primary <= set(fields)
            and not values.keys() & where.keys()
        )
        group = groups.setdefault(
            (None if shared else change.tag, fields, nulls, marker), (values, {})
        )
        # A row found twice (two people sharing it) is changed once.
        group[1].setdefault(change.tag, {})[tuple(where[f] for f in fields)] = None
    out: list[_Statement] = []
    for (_, fields, nulls, _), (values, by_tag) in groups.items():
        keys = list(dict.fromkeys(k for asked in by_tag.values() for k in asked))
        for start in range(0, len(keys), _BATCH):
            part = keys[start : start + _BATCH]
            inside = set(part)
            asked = {t: [k for k in ks if k in inside] for t, ks in by_tag.items()}
            where = _condition(tbl, fields, nulls, part)
            stmt = delete(tbl) if values is None else update(tbl).values(values)
            served = {t: ks for t, ks in asked.items() if ks}
            out.append(_Statement(stmt.where(where), fields, where, served))
    return out


def _counts(conn: Connection, tbl: Table, done: _Statement, rowcount: int) -> dict[str, int]:
    """Rows changed per tag: a statement serving one tag counts for it; one serving several
    (by whole primary keys) counts each tag's keys, all of them when the store changed as many
    rows as keys were asked, else those the store holds (read in the same transaction)."""
    if len(done.asked) == 1:
        return {tag: rowcount for tag in done.asked}
    if rowcount == len({k for ks in done.asked.values() for k in ks}):
        return {t: len(ks) for t, ks in done.asked.items()}
    found = select(*(tbl.c[f] for f in done.fields)).where(done.condition)
    held = {tuple(r) for r in conn.execute(found)}
    return {t: len([k for k in ks if k in held]) for t, ks in done.asked.items()}


def _max_params(engine: Engine) -> int:
    """Values bound in one read, well under the dialect's limit (SQLite before 3.32: 999;
    since, PostgreSQL's and MySQL's protocols: 32,766 and 65,535)."""
    if engine.dialect.name == "sqlite":
        return 30_000 if sqlite3.sqlite_version_info >= (3, 32) else 900
    return 30_000 if engine.dialect.name in ("postgresql", "mysql", "mariadb") else 900


def _parts(
    matches: list[tuple[str, Sequence[Any]]], limit: int
) -> list[list[tuple[str, Sequence[Any]]]]:
    """The matches in reads of at most `limit` values. Only one field's values are split: a row
    then matches in exactly one read. Several fields over the limit would find a row twice."""
    if sum(len(v) for _, v in matches) <= limit:
        return [matches]
    if len(matches) > 1:
        raise ConnectorError("Too many values to read at once for several fields")
    field, values = matches[0]
    return [[(field, values[i : i + limit])] for i in range(0, len(values), limit)]


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
        if not matches and request.older_than is None:
            return []
        try:
            tbl = _reflect(self._url, self._engine, request.collection)
            dated = [request.older_than[0]] if request.older_than else []
            wanted = {*request.fields, *(f for f, _ in matches), *dated}
            missing = sorted(wanted - set(tbl.c.keys()))
            if missing:
                raise ConnectorError(f"{request.collection} has no column(s) {', '.join(missing)}")
            rows: list[Row] = []
            for part in _parts(matches, _max_params(self._engine)):
                stmt = select(*(tbl.c[f] for f in request.fields))
                if part:
                    stmt = stmt.where(or_(*(tbl.c[f].in_(list(values)) for f, values in part)))
                if request.older_than:
                    field, moment = request.older_than
                    stmt = stmt.where(tbl.c[field] < moment)
                rows.extend(dict(r._mapping) for r in self._connection().execute(stmt))
            return rows
        except NoSuchTableError as exc:
            raise ConnectorError(f"There is no table {request.collection}") from exc
        except SQLAlchemyError as exc:
            self.close()  # a failed transaction cannot be read on; start afresh next time
            cause = type(getattr(exc, "orig", None) or exc).__name__
            raise ConnectorError(f"Reading {request.collection} failed: {cause}") from exc

    def scan(
        self, collection: str, fields: Sequence[str], batch: int = 10_000
    ) -> Iterator[list[Row]]:
        """Every row's `fields`, streamed in batches: a full read, for an index built from the
        store (DROP's keyed hashes, drop/index.py); never for a request."""
        try:
            tbl = _reflect(self._url, self._engine, collection)
            with self._engine.connect() as conn:
                stmt = select(*(tbl.c[f] for f in fields))
                result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
                for part in result.partitions():
                    yield [dict(r._mapping) for r in part]
        except (NoSuchTableError, KeyError) as exc:
            raise ConnectorError(f"Cannot read {collection}: no such table or column") from exc
        except SQLAlchemyError as exc:
            cause = type(getattr(exc, "orig", None) or exc).__name__
            raise ConnectorError(f"Reading {collection} failed: {cause}") from exc

    def apply(self, changes: Sequence[RowChange]) -> Changed:
        """All changes in one transaction, tables that reference others first."""
        changed: Changed = {(c.collection, c.tag): 0 for c in changes}
        if not changes:
            return changed
        self.close()  # end the read transaction: SQLite lets no writer commit past it
        try:
            order = self._dependents_first(list(dict.fromkeys(c.collection for c in changes)))
            with self._engine.begin() as conn:
                for collection in order:
                    tbl = _reflect(self._url, self._engine, collection)
                    mine = [c for c in changes if c.collection == collection]
                    for done in _statements(tbl, mine):
                        rowcount = conn.execute(done.stmt).rowcount
                        for tag, n in _counts(conn, tbl, done, rowcount).items():
                            changed[(collection, tag)] += n
            return changed
        except (NoSuchTableError, KeyError) as exc:
            raise ConnectorError(f"Cannot change {exc}: no such table or column") from exc
        except SQLAlchemyError as exc:
            cause = type(getattr(exc, "orig", None) or exc).__name__
            raise ConnectorError(f"Changing rows failed and was rolled back: {cause}") from exc

    def _dependents_first(self, collections: list[str]) -> list[str]:
        # A table whose foreign key points at another changes before it, so deleting the
        # referenced rows never trips the key; otherwise the given (plan) order holds.
        parents = {
            c: {fk.column.table.name for fk in _reflect(self._url, self._engine, c).foreign_keys}
            & set(collections)
            for c in collections
        }
        ordered: list[str] = []
        while len(ordered) < len(collections):
            ready = [
                c
                for c in collections
                if c not in ordered
                and not any(
                    c in parents[other]
                    for other in collections
                    if other not in ordered and other != c
                )
            ]
            ordered.append(ready[0] if ready else next(c for c in collections if c not in ordered))
        return ordered

    def close(self) -> None:
        """Give the connection back to the shared pool."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _check(settings: Mapping[str, Any]) -> None:
    """A URL SQLAlchemy can parse, naming no secret in the error."""
    try:
        make_url(str(settings.get("url") or ""))
    except ArgumentError as exc:
        raise InvalidInputError("The SQL connection URL cannot be parsed.") from exc


KIND = ConnectorKind(
    name="sql",
    connect=lambda settings: SQLConnector(str(settings["url"])),
    check=_check,
    required=("url",),
    description="A SQL database reached by a SQLAlchemy URL.",
)
