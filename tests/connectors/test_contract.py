"""Every connector passes the same contract: read by matches, quote names, fail clearly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

from rightful.connectors.base import Connector, FetchRequest
from rightful.connectors.contract import ROWS, ConnectorContract, read
from rightful.connectors.sql import SQLConnector, dispose_all
from rightful.connectors.testing import FakeConnector
from rightful.core.errors import ConnectorError


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


class TestContract(ConnectorContract):
    """The fake and the SQL connector on every database pass the shared contract."""

    @pytest.fixture(
        params=[
            "fake",
            "sqlite",
            pytest.param("postgres", marks=pytest.mark.postgres),
            pytest.param("mariadb", marks=pytest.mark.mariadb),
        ]
    )
    def connector(self, request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Connector]:
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


def test_people_setting_the_same_value_share_one_update_and_are_counted_apart(
    sql_connector: Connector,
) -> None:
    from sqlalchemy import event

    from rightful.connectors.base import RowChange
    from rightful.connectors.sql import SQLConnector, _engine

    def same(tag: str, key: int) -> RowChange:
        return RowChange("user", (("id", key),), {"order": "fixed"}, tag)

    assert isinstance(sql_connector, SQLConnector)
    updates: list[str] = []
    engine = _engine(sql_connector._url)
    listen = lambda *a: updates.append(str(a[2])) if str(a[2]).startswith("UPDATE") else None  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        # Rows 1 and 2 to the same value for two people, 3 to another: two UPDATEs, not three;
        # row 9 is not there, so its person is counted by what the store holds.
        changes = [same("p1", 1), same("p2", 2), same("p2", 9)]
        other = RowChange("user", (("id", 3),), {"order": "other"}, "p3")
        assert sql_connector.apply([*changes, other]) == {
            ("user", "p1"): 1,
            ("user", "p2"): 1,
            ("user", "p3"): 1,
        }
        assert len(updates) == 2
        assert [r["order"] for r in read(sql_connector, id=(1, 2, 3))] == [
            "fixed",
            "fixed",
            "other",
        ]
        # Applied again, the same counts: rows matched, not rows whose value moved.
        assert sql_connector.apply(changes) == {("user", "p1"): 1, ("user", "p2"): 1}
    finally:
        event.remove(engine, "before_cursor_execute", listen)
