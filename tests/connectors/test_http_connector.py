"""The HTTP connector against a local API: pagination, retries, rate limits, readable errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rightful.connectors.base import FetchRequest, RowChange
from rightful.connectors.http import HTTPConnector, Tuning, connect, load_config
from rightful.core.errors import ConnectorError
from tests.connectors.apiserver import Answer, serving
from tests.connectors.users_api import API_KEY, CONFIG, UsersAPI


class Sleeps(list[float]):
    """Records the waits the connector asks for, without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def api() -> Iterator[UsersAPI]:
    with serving(UsersAPI()) as server:
        yield server


def made(api: UsersAPI, sleeps: Sleeps | None = None, **tuning: Any) -> HTTPConnector:
    return HTTPConnector(
        load_config(CONFIG),
        params={"host": "unused.example", "api_key": API_KEY},
        base_url=api.url,
        tuning=Tuning(**{"backoff_seconds": 0.0, **tuning}),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def orders_of(connector: HTTPConnector, *user_ids: int) -> list[dict[str, Any]]:
    return connector.fetch(FetchRequest("order", ("id", "user", "item"), (("user_id", user_ids),)))


def test_every_page_is_read(api: UsersAPI) -> None:
    rows = orders_of(made(api), 1, 2)
    assert sorted(r["id"] for r in rows) == sorted(f"o{u}-{n}" for u in (1, 2) for n in range(5))
    # Five orders at two a page, has_more false on the last: three pages per user.
    assert len(api.calls("GET", "/orders")) == 6


def test_a_429_storm_is_waited_out_as_retry_after_asks(api: UsersAPI) -> None:
    storm = Answer(429, {"error": {"message": "Rate limit"}}, {"Retry-After": "7"})
    api.fail("GET", "/orders", storm, storm, storm)
    sleeps = Sleeps()
    rows = orders_of(made(api, sleeps), 1)
    assert len(rows) == 5
    assert len(api.calls("GET", "/orders")) == 3 + 3  # three refused, then three pages
    assert sleeps == [7.0, 7.0, 7.0]


def test_a_500_in_the_middle_of_pagination_is_retried_without_duplicates(api: UsersAPI) -> None:
    # The first page, then the second fails twice before it is read.
    api.fail(
        "GET", "/orders", Answer(200, {"data": [api.orders[0], api.orders[1]], "has_more": True})
    )
    api.fail("GET", "/orders", Answer(500, {"error": "boom"}), Answer(503, None))
    rows = orders_of(made(api), 1)
    assert sorted(r["id"] for r in rows) == [f"o1-{n}" for n in range(5)]
    asked = api.calls("GET", "/orders")
    assert len(asked) == 1 + 2 + 2  # first page, two failures, the second page again, the last
    assert [a.query.get("starting_after") for a in asked[1:4]] == ["o1-1"] * 3


def test_backoff_without_retry_after_doubles(api: UsersAPI) -> None:
    api.fail("GET", "/orders", Answer(502), Answer(502))
    sleeps = Sleeps()
    orders_of(made(api, sleeps, backoff_seconds=0.5), 1)
    assert sleeps == [0.5, 1.0]


def test_retries_give_up_with_a_readable_error_naming_no_values(api: UsersAPI) -> None:
    api.fail("GET", "/users", *[Answer(503, {"error": "a@example.com down"})] * 3)
    connector = made(api, max_attempts=3)
    with pytest.raises(ConnectorError) as failed:
        connector.fetch(FetchRequest("user", ("id",), (("email", ("a@example.com",)),)))
    message = str(failed.value)
    assert message == "Users API: GET /users still answered 503 after 3 attempts."
    assert len(api.calls("GET", "/users")) == 3


def test_a_refusal_is_a_readable_error_without_personal_data_or_secrets(api: UsersAPI) -> None:
    api.fail("GET", "/users", Answer(403, {"error": {"message": "a@example.com is locked"}}))
    with pytest.raises(ConnectorError) as failed:
        made(api).fetch(FetchRequest("user", ("id",), (("email", ("a@example.com",)),)))
    message = str(failed.value)
    assert "403" in message and "GET /users" in message
    assert "a@example.com" not in message and API_KEY not in message


def test_a_wrong_key_fails_the_connection_test(api: UsersAPI) -> None:
    connector = connect({**api.settings(), "params": {"host": "x", "api_key": "wrong"}})
    with pytest.raises(ConnectorError, match="401"):
        connector.test_connection()


def test_an_unreachable_api_is_a_connector_error() -> None:
    connector = connect(
        {
            "config": CONFIG,
            "params": {"host": "x", "api_key": "k"},
            "base_url": "http://127.0.0.1:1",
            "max_attempts": 2,
            "backoff_seconds": 0,
        }
    )
    with pytest.raises(ConnectorError, match="Cannot connect"):
        connector.test_connection()


def test_a_rate_limit_paces_calls(api: UsersAPI) -> None:
    limited = CONFIG.replace(
        "  test_request:",
        "  rate_limit_config:\n    limits:\n      - rate: 2\n        period: minute\n"
        "  test_request:",
    )
    sleeps = Sleeps()
    connector = HTTPConnector(
        load_config(limited),
        params={"host": "x", "api_key": API_KEY},
        base_url=api.url,
        sleep=sleeps,
    )
    orders_of(connector, 1)  # three pages: the third waits for the first to leave the window
    assert len(sleeps) == 1 and 59 < sleeps[0] <= 60


def test_rows_carry_the_value_that_found_them(api: UsersAPI) -> None:
    rows = made(api).fetch(FetchRequest("order", ("id", "user_id"), (("user_id", (2,)),)))
    assert {r["user_id"] for r in rows} == {2}


def test_deleting_through_the_api_reads_back_first(api: UsersAPI) -> None:
    connector = made(api)
    changes = [RowChange.by_key("order", "id", "o1-0"), RowChange.by_key("order", "id", "o9-9")]
    # Orders cannot be read by id: each delete is sent, a 404 counting as already gone.
    assert connector.apply(changes) == {("order", ""): 1}
    assert "o1-0" not in {o["id"] for o in api.orders}
    assert connector.apply(changes) == {("order", ""): 0}


def test_a_collection_without_an_erasing_request_is_refused(api: UsersAPI) -> None:
    with pytest.raises(ConnectorError, match="no update request"):
        made(api).apply([RowChange.by_key("order", "id", "o1-0", {"item": "masked"})])


def test_the_next_page_is_never_fetched_from_another_host(api: UsersAPI) -> None:
    linked = CONFIG.replace(
        """              cursor_param: starting_after
              field: id
              has_next: has_more""",
        """              source: body
              path: next""",
    ).replace(
        "strategy: cursor\n            configuration:\n              source",
        "strategy: link\n            configuration:\n              source",
    )
    api.fail(
        "GET",
        "/orders",
        Answer(200, {"data": [api.orders[0]], "next": "https://elsewhere.example/orders?page=2"}),
    )
    connector = HTTPConnector(
        load_config(linked), params={"host": "x", "api_key": API_KEY}, base_url=api.url
    )
    with pytest.raises(ConnectorError, match="another host"):
        orders_of(connector, 1)
