"""Every connector passes the same contract: read by matches, quote names, fail clearly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

from rightful.connectors.base import Connector, FetchRequest
from rightful.connectors.sql import SQLConnector, dispose_all
from rightful.connectors.testing import FakeConnector
from rightful.core.errors import ConnectorError

ROWS = [
    {"id": 1, "email": "a@example.com", "order": "first", "select": "x"},
    {"id": 2, "email": "b@example.com", "order": "second", "select": "y"},
    {"id": 3, "email": "o'hara@example.com", "order": "third", "select": "z"},
]


def _sql(url: str) -> Connector:
    engine = create_engine(url)
    meta = MetaData()
    # Reserved words as names prove identifiers are quoted.
    table = Table(
        "user",
        meta,
        Column("id", Integer, primary_key=True),
        Column("email", String(100)),
        Column("order", String(20)),
        Column("select", String(5)),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), ROWS)
    engine.dispose()
    return SQLConnector(url)


SQL_KINDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture(
    params=[
        "fake",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def connector(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Connector]:
    factories: dict[str, Callable[[], Connector]] = {
        "fake": lambda: FakeConnector({"user": [dict(r) for r in ROWS]}),
        "sqlite": lambda: _sql(f"sqlite:///{tmp_path}/contract.db"),
        "postgres": lambda: _sql(request.getfixturevalue("postgres_url")),
        "mariadb": lambda: _sql(request.getfixturevalue("mariadb_url")),
    }
    made = factories[request.param]()
    yield made
    made.close()
    dispose_all()


def read(conn: Connector, **match: tuple[object, ...]) -> list[dict[str, object]]:
    rows = conn.fetch(FetchRequest("user", ("id", "email", "order"), tuple(match.items())))
    return sorted(rows, key=lambda r: int(str(r["id"])))


def test_reads_rows_matching_any_value(connector: Connector) -> None:
    rows = read(connector, email=("a@example.com", "o'hara@example.com"))
    assert [r["id"] for r in rows] == [1, 3]
    assert rows[1] == {"id": 3, "email": "o'hara@example.com", "order": "third"}


def test_matches_on_several_fields_are_alternatives(connector: Connector) -> None:
    assert [r["id"] for r in read(connector, email=("b@example.com",), id=(3,))] == [2, 3]


def test_values_are_bound_not_spliced(connector: Connector) -> None:
    assert read(connector, email=("' OR '1'='1",)) == []


def test_no_values_means_no_rows(connector: Connector) -> None:
    assert read(connector, email=()) == []


def test_connection_test_passes(connector: Connector) -> None:
    connector.test_connection()


@pytest.fixture(params=SQL_KINDS)
def sql_connector(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Connector]:
    if request.param == "sqlite":
        made = _sql(f"sqlite:///{tmp_path}/contract.db")
    else:
        made = _sql(request.getfixturevalue(f"{request.param}_url"))
    yield made
    made.close()
    dispose_all()


def test_unknown_column_is_a_clear_error(sql_connector: Connector) -> None:
    connector = sql_connector
    with pytest.raises(ConnectorError, match="no column"):
        connector.fetch(FetchRequest("user", ("id", "nickname"), (("id", (1,)),)))


def test_unknown_table_is_a_clear_error(sql_connector: Connector) -> None:
    connector = sql_connector
    with pytest.raises(ConnectorError, match="no table"):
        connector.fetch(FetchRequest("nowhere", ("id",), (("id", (1,)),)))


def test_unreachable_store_fails_with_connector_error() -> None:
    with pytest.raises(ConnectorError, match="Cannot connect"):
        SQLConnector(
            "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
        ).test_connection()
    with pytest.raises(ConnectorError):
        FakeConnector(reachable=False).test_connection()


def test_apply_deletes_and_updates_in_one_go(connector: Connector) -> None:
    from rightful.connectors.base import RowChange

    changes = [
        RowChange.by_key("user", "id", 1),
        RowChange.by_key("user", "id", 2, {"email": "masked"}),
    ]
    assert connector.apply(changes) == {("user", ""): 2}
    rows = read(connector, id=(1, 2, 3))
    assert [(r["id"], r["email"]) for r in rows] == [(2, "masked"), (3, "o'hara@example.com")]


def test_applying_the_same_changes_twice_ends_in_the_same_state(connector: Connector) -> None:
    from rightful.connectors.base import RowChange

    changes = [
        RowChange.by_key("user", "id", 1),
        RowChange.by_key("user", "id", 2, {"email": "masked"}),
    ]
    connector.apply(changes)
    first = read(connector, id=(1, 2, 3))
    connector.apply(changes)
    assert read(connector, id=(1, 2, 3)) == first


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)  # the stores that enforce foreign keys
def test_rows_that_reference_others_change_first(kind: str, request: pytest.FixtureRequest) -> None:
    from sqlalchemy import ForeignKey

    from rightful.connectors.base import RowChange

    url = request.getfixturevalue(f"{kind}_url")
    connector = _sql(url)
    engine = create_engine(url)
    meta = MetaData()
    Table("user", meta, autoload_with=engine)
    note = Table(
        "note",
        meta,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("user.id")),
    )
    note.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(note), [{"id": 1, "user_id": 1}])
    engine.dispose()
    # Given parent first, the connector still deletes the referencing row first.
    changes = [RowChange.by_key("user", "id", 1), RowChange.by_key("note", "id", 1)]
    assert connector.apply(changes) == {("user", ""): 1, ("note", ""): 1}
    assert read(connector, id=(1,)) == []
    connector.close()
    dispose_all()


def test_rows_older_than_a_moment_are_found_for_retention(tmp_path: Path) -> None:
    from datetime import datetime

    from sqlalchemy import DateTime

    url = f"sqlite:///{tmp_path}/dated.db"
    engine = create_engine(url)
    meta = MetaData()
    visits = Table("visit", meta, Column("id", Integer, primary_key=True), Column("at", DateTime))
    meta.create_all(engine)
    rows = [{"id": 1, "at": datetime(2020, 1, 1)}, {"id": 2, "at": datetime(2026, 1, 1)}]
    with engine.begin() as conn:
        conn.execute(insert(visits), rows)
    engine.dispose()
    cutoff = datetime(2024, 1, 1)
    for connector in (SQLConnector(url), FakeConnector({"visit": [dict(r) for r in rows]})):
        found = connector.fetch(FetchRequest("visit", ("id",), (), older_than=("at", cutoff)))
        assert [r["id"] for r in found] == [1]
        connector.close()
    dispose_all()


def test_a_change_can_find_rows_by_several_values_and_nulls(connector: Connector) -> None:
    from rightful.connectors.base import RowChange

    changes = [
        # No key: found by the value that found it plus the current value it changes.
        RowChange("user", (("email", "a@example.com"), ("order", "first")), {"order": "masked"}),
        RowChange("user", (("email", "b@example.com"), ("order", None)), {"order": "never"}),
        RowChange("user", (("email", "o'hara@example.com"),), None, tag="r2"),
    ]
    assert connector.apply(changes) == {("user", ""): 1, ("user", "r2"): 1}
    rows = read(connector, id=(1, 2, 3))
    assert [(r["id"], r["order"]) for r in rows] == [(1, "masked"), (2, "second")]
    # The masked row no longer matches its `where`: applying again changes nothing.
    assert connector.apply(changes) == {("user", ""): 0, ("user", "r2"): 0}
