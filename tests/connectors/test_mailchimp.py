"""Mailchimp's own ways, on a local server playing its Marketing API v3: a member found by the
subscriber hash (computed from the e-mail by the config's `transform`), notes paged until
total_items, a note deleted by its id and its member's hash, problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rightful.connectors.base import FetchRequest, RowChange
from rightful.connectors.http import HTTPConnector, config_of, connect, load_config
from rightful.core.errors import ConnectorError, InvalidInputError
from tests.connectors.apiserver import serving
from tests.connectors.vendor_apis import OTHER, PERSON, MailchimpAPI, problem, subscriber_hash


@pytest.fixture
def api() -> Iterator[MailchimpAPI]:
    with serving(MailchimpAPI()) as server:
        yield server


def made(api: MailchimpAPI) -> HTTPConnector:
    settings = {
        "shipped": "mailchimp",
        "params": api.params(),
        "base_url": api.url,
        "backoff_seconds": 0,
        "rate_limits": False,
    }
    return connect(settings)


def member_of(connector: HTTPConnector, email: str) -> list[dict[str, object]]:
    return connector.fetch(
        FetchRequest("member", ("id", "email", "full_name"), (("email", (email,)),))
    )


def test_a_member_is_found_by_the_hash_of_the_lower_cased_address_never_the_address(
    api: MailchimpAPI,
) -> None:
    rows = member_of(made(api), "  ADA@example.COM ")
    assert [r["id"] for r in rows] == [subscriber_hash(PERSON)]
    assert rows[0]["full_name"] == "Ada L"
    assert rows[0]["email"] == "  ADA@example.COM "  # the value it was found by, as given
    sent = [a.path + str(a.query) for a in api.log]
    assert sent == [f"/3.0/lists/{api.audience}/members/{subscriber_hash(PERSON)}{{}}"]


def test_someone_not_in_the_audience_is_nobody_found(api: MailchimpAPI) -> None:
    assert member_of(made(api), "nobody@example.com") == []


def test_notes_are_read_until_total_items_without_asking_for_an_empty_page(
    api: MailchimpAPI,
) -> None:
    h = subscriber_hash(OTHER)
    rows = made(api).fetch(FetchRequest("note", ("id", "note"), (("subscriber_hash", (h,)),)))
    assert sorted(r["id"] for r in rows) == [200 + n for n in range(5)]
    asked = api.calls("GET", f"/3.0/lists/{api.audience}/members/{h}/notes")
    assert [(a.query["count"], a.query["offset"]) for a in asked] == [
        ("2", "0"),
        ("2", "2"),
        ("2", "4"),
    ]


def test_a_note_is_deleted_by_its_id_and_its_members_hash(api: MailchimpAPI) -> None:
    h = subscriber_hash(PERSON)
    note = RowChange("note", (("id", 101), ("email_id", h)))
    assert made(api).apply([note]) == {("note", ""): 1}
    assert 101 not in [n["id"] for n in api.notes]
    assert api.calls("DELETE", f"/3.0/lists/{api.audience}/members/{h}/notes/101")
    assert made(api).apply([note]) == {("note", ""): 0}  # already gone


def test_a_permanent_delete_takes_the_member_and_their_notes(api: MailchimpAPI) -> None:
    h = subscriber_hash(PERSON)
    assert made(api).apply([RowChange.by_key("member", "id", h)]) == {("member", ""): 1}
    assert api.calls("POST", f"/3.0/lists/{api.audience}/members/{h}/actions/delete-permanent")
    assert member_of(made(api), PERSON) == []
    assert [n for n in api.notes if n["email_id"] == h] == []


def test_a_problem_answer_is_a_readable_error_without_its_detail(api: MailchimpAPI) -> None:
    api.fail("GET", "/3.0/lists", problem(400, "Invalid Resource", f"{PERSON} looks fake"))
    with pytest.raises(ConnectorError) as failed:
        member_of(made(api), PERSON)
    assert str(failed.value) == (
        "Mailchimp: GET /3.0/lists/<list_id>/members/<subscriber_hash> answered 400 Bad Request."
    )


def test_a_wrong_key_or_audience_fails_the_connection_test(api: MailchimpAPI) -> None:
    made(api).test_connection()
    wrong = {**api.params(), "list_id": "zzzzzzzzzz"}
    with pytest.raises(ConnectorError, match="404"):
        connect({"shipped": "mailchimp", "params": wrong, "base_url": api.url}).test_connection()


def test_an_unknown_transform_is_refused_by_name() -> None:
    text = config_of({"shipped": "mailchimp"}).model_dump_json()
    assert "md5" in text
    bad = (
        "fides_key: x\nname: X\nclient_config: {host: h}\ntest_request: {method: GET, path: /}\n"
        "endpoints:\n  - name: a\n    requests:\n      read:\n        method: GET\n"
        "        path: /a/<h>\n        param_values:\n"
        "          - {name: h, identity: email, transform: [rot13]}\n"
    )
    with pytest.raises(InvalidInputError, match="transform"):
        load_config(bad)
