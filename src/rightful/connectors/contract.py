"""The contract every connector passes, importable by a plug-in's own tests.

A plug-in subclasses `ConnectorContract` in a test module (named `Test...` so pytest collects
it) and gives a `connector` fixture: a connector over a store holding `ROWS` in a collection
named `user` (fields id, email, order, select; `id` its key), fresh for each test::

    from rightful.connectors.contract import ROWS, ConnectorContract

    class TestMyConnector(ConnectorContract):
        @pytest.fixture
        def connector(self) -> Iterator[Connector]:
            store = start_my_store(ROWS)
            yield MyConnector(store.url)
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from rightful.connectors.base import Connector, FetchRequest, RowChange
from rightful.core.errors import ConnectorError

ROWS: list[dict[str, Any]] = [
    {"id": 1, "email": "a@example.com", "order": "first", "select": "x"},
    {"id": 2, "email": "b@example.com", "order": "second", "select": "y"},
    {"id": 3, "email": "o'hara@example.com", "order": "third", "select": "z"},
]


def read(conn: Connector, **match: tuple[object, ...]) -> list[dict[str, object]]:
    """Rows of `user` by the given matches, in id order."""
    rows = conn.fetch(FetchRequest("user", ("id", "email", "order"), tuple(match.items())))
    return sorted(rows, key=lambda r: int(str(r["id"])))


class ConnectorContract:
    """Read by matches, never splice values, change rows idempotently, fail clearly."""

    @pytest.fixture
    def connector(self) -> Connector:
        """A connector over a store holding ROWS in `user`; the subclass provides it."""
        raise NotImplementedError("A connector contract test class provides `connector`.")

    def test_reads_rows_matching_any_value(self, connector: Connector) -> None:
        rows = read(connector, email=("a@example.com", "o'hara@example.com"))
        assert [r["id"] for r in rows] == [1, 3]
        assert rows[1] == {"id": 3, "email": "o'hara@example.com", "order": "third"}

    def test_matches_on_several_fields_are_alternatives(self, connector: Connector) -> None:
        assert [r["id"] for r in read(connector, email=("b@example.com",), id=(3,))] == [2, 3]

    def test_values_are_bound_not_spliced(self, connector: Connector) -> None:
        assert read(connector, email=("' OR '1'='1",)) == []

    def test_a_long_list_of_values_finds_every_match_once(self, connector: Connector) -> None:
        # A batch of requests reads many people at once: more values than one statement of
        # any SQL dialect may bind (65,535), each matching row returned once.
        asked = (*(f"nobody{i}@example.com" for i in range(70_000)), "a@example.com")
        assert [r["id"] for r in read(connector, email=(*asked, "b@example.com"))] == [1, 2]

    def test_no_values_means_no_rows(self, connector: Connector) -> None:
        assert read(connector, email=()) == []

    def test_connection_test_passes(self, connector: Connector) -> None:
        connector.test_connection()

    def test_apply_deletes_and_updates_in_one_go(self, connector: Connector) -> None:
        changes = [
            RowChange.by_key("user", "id", 1),
            RowChange.by_key("user", "id", 2, {"email": "masked"}),
        ]
        assert connector.apply(changes) == {("user", ""): 2}
        rows = read(connector, id=(1, 2, 3))
        assert [(r["id"], r["email"]) for r in rows] == [(2, "masked"), (3, "o'hara@example.com")]

    def test_applying_the_same_changes_twice_ends_in_the_same_state(
        self, connector: Connector
    ) -> None:
        changes = [
            RowChange.by_key("user", "id", 1),
            RowChange.by_key("user", "id", 2, {"email": "masked"}),
        ]
        connector.apply(changes)
        first = read(connector, id=(1, 2, 3))
        connector.apply(changes)
        assert read(connector, id=(1, 2, 3)) == first

    def test_a_change_can_find_rows_by_several_values_and_nulls(self, connector: Connector) -> None:
        changes = [
            # No key: found by the value that found it plus the current value it changes.
            RowChange(
                "user", (("email", "a@example.com"), ("order", "first")), {"order": "masked"}
            ),
            RowChange("user", (("email", "b@example.com"), ("order", None)), {"order": "never"}),
            RowChange("user", (("email", "o'hara@example.com"),), None, tag="r2"),
        ]
        assert connector.apply(changes) == {("user", ""): 1, ("user", "r2"): 1}
        rows = read(connector, id=(1, 2, 3))
        assert [(r["id"], r["order"]) for r in rows] == [(1, "masked"), (2, "second")]
        # The masked row no longer matches its `where`: applying again changes nothing.
        assert connector.apply(changes) == {("user", ""): 0, ("user", "r2"): 0}

    def test_failures_are_connector_errors(self, connector: Connector) -> None:
        # Whatever a store does with an unknown collection, it never raises anything but a
        # ConnectorError (a plain empty answer is fine).
        with contextlib.suppress(ConnectorError):
            connector.fetch(FetchRequest("no_such_collection", ("id",), (("id", (1,)),)))
