"""A consent receipt anyone can check: it carries each event's place in the signed log and the
proof, the privacy center checks it from its own content and the published keys, a changed
receipt is refused, and a proof still being made can be fetched later by the event's id."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from rightful.consent import catalog, ledger, receipts, sequencer, subjects
from rightful.consent.catalog import Interface, State
from rightful.core.db import unit_of_work
from tests.integration.consent.test_consent_log import rfc_verify_consistency
from tests.support.app import App

PERSON = "riley.north@example.com"


def _choose(app: App, *states: State) -> None:
    with unit_of_work(app.runtime.sessions) as session:
        person = subjects.person(session, app.runtime.settings, PERSON)
        for state in states:
            choice = [ledger.Choice(catalog.SALE_SHARE, "all", state)]
            ledger.record(
                session, app.runtime.settings, person, choice, ledger.Collected(Interface.API)
            )


def _receipt(app: App) -> dict[str, Any]:
    with unit_of_work(app.runtime.sessions) as session:
        person = subjects.person(session, app.runtime.settings, PERSON)
        return receipts.receipt(session, app.runtime.settings, person)


def _check(app: App, receipt: Any) -> str:
    page = app.client.get("/consent/receipts/verify")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    text = receipt if isinstance(receipt, str) else json.dumps(receipt)
    answer = app.client.post(
        "/consent/receipts/verify", data={"csrf": csrf.group(1), "receipt": text}
    )
    return answer.text


def _sequenced(app: App) -> int:
    return sequencer.run_once(app.runtime.sessions, app.runtime.settings)


def test_a_sequenced_receipt_carries_its_place_in_the_log_and_is_genuine(rightful_app: App) -> None:
    _choose(rightful_app, State.WITHDRAWN, State.GIVEN)
    _sequenced(rightful_app)
    receipt = _receipt(rightful_app)
    head = receipt["proof"]["tree_head"]
    positions = [e["log"]["position"] for e in receipt["events"]]
    assert {e["log"]["status"] for e in receipt["events"]} == {"included"}
    assert head["tree_size"] == positions[-1] + 1 and head["signature"]
    page = _check(rightful_app, receipt)
    assert "This receipt is genuine" in page
    entries = f"{positions[0] + 1:,}, {positions[1] + 1:,}"
    assert f"Its 2 changes are entries {entries} of our consent log" in page
    assert "Nothing in it was changed after we issued it." in page


def test_a_receipt_changed_afterwards_is_refused(rightful_app: App) -> None:
    _choose(rightful_app, State.WITHDRAWN)
    _sequenced(rightful_app)
    receipt = _receipt(rightful_app)
    shown = copy.deepcopy(receipt)
    shown["events"][0]["event_type"] = "given"  # what a reader sees, changed
    page = _check(rightful_app, shown)
    assert (
        "This receipt could not be confirmed" in page
        and "another choice (given or withdrawn)" in page
    )
    entry = copy.deepcopy(receipt)  # the change made in the entry too: the proof fails
    entry["events"][0]["event_type"] = entry["events"][0]["log"]["entry"]["state"] = "given"
    page = _check(rightful_app, entry)
    assert "Its proof does not lead to the signed log: the receipt was changed." in page
    head = copy.deepcopy(receipt)  # a head re-rooted to match: its signature fails
    head["proof"]["tree_head"]["tree_size"] += 1
    page = _check(rightful_app, head)
    assert "The signature on its log head does not hold" in page


def test_a_receipt_made_before_sequencing_says_pending_and_the_proof_comes_later(
    rightful_app: App,
) -> None:
    _choose(rightful_app, State.WITHDRAWN)
    receipt = _receipt(rightful_app)
    event = receipt["events"][0]
    assert event["log"]["status"] == "pending" and receipt["proof"]["tree_head"] is None
    assert "Part of this receipt cannot be checked yet" in _check(rightful_app, receipt)
    path = f"/consent/receipts/proof/{event['event_id']}"
    assert rightful_app.client.get(path).json()["log"]["status"] == "pending"
    _sequenced(rightful_app)
    later = rightful_app.client.get(path).json()
    assert later["log"]["status"] == "included" and later["tree_head"]["signature"]
    event["log"] = later["log"]  # the fetched proof completes the receipt
    receipt["proof"]["tree_head"] = later["tree_head"]
    assert "This receipt is genuine" in _check(rightful_app, receipt)
    missing = rightful_app.client.get("/consent/receipts/proof/" + "0" * 32)
    assert missing.status_code == 404


def test_the_public_keys_are_published_and_check_the_newest_head(rightful_app: App) -> None:
    _choose(rightful_app, State.WITHDRAWN)
    _sequenced(rightful_app)
    keys = rightful_app.client.get("/.well-known/rightful-consent-keys.json").json()
    [key] = keys["keys"]
    assert key["status"] == "current" and keys["algorithm"] == "Ed25519"
    assert keys["latest_tree_head"]["key_id"] == key["key_id"]


def test_what_is_not_a_receipt_gets_a_clear_answer(rightful_app: App) -> None:
    assert "it is not in the JSON format we issue receipts in" in _check(rightful_app, "{nope")
    assert "This is not one of our consent receipts." in _check(rightful_app, {"a": 1})
    page = rightful_app.client.get("/consent/receipts/verify")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    empty = rightful_app.client.post("/consent/receipts/verify", data={"csrf": csrf.group(1)})
    assert empty.status_code == 422 and "Paste your receipt or choose its file" in empty.text


def test_anyone_who_kept_an_old_head_can_check_the_log_only_grew(rightful_app: App) -> None:
    _choose(rightful_app, State.WITHDRAWN)
    _sequenced(rightful_app)
    kept = rightful_app.client.get("/.well-known/rightful-consent-keys.json").json()
    old = kept["latest_tree_head"]
    _choose(rightful_app, State.GIVEN, State.WITHDRAWN)
    _sequenced(rightful_app)
    new = rightful_app.client.get("/.well-known/rightful-consent-keys.json").json()
    newer = new["latest_tree_head"]
    answer = rightful_app.client.get(
        "/consent/log/consistency",
        params={"first": old["tree_size"], "second": newer["tree_size"]},
    ).json()
    assert answer["first"] == old and answer["second"] == newer
    proof = [bytes.fromhex(h) for h in answer["consistency_proof"]]
    first, second = bytes.fromhex(old["root_hash"]), bytes.fromhex(newer["root_hash"])
    assert rfc_verify_consistency(old["tree_size"], newer["tree_size"], first, second, proof)
    unsigned = rightful_app.client.get(
        "/consent/log/consistency", params={"first": 1, "second": 10**6}
    )
    assert unsigned.status_code == 404


def test_a_receipt_larger_than_a_form_s_usual_limit_is_still_checked(rightful_app: App) -> None:
    """A long-kept person's receipt (many changes, each with its proof) is far over the 64 kB a
    plain form may send; the check page takes it like an upload."""
    _choose(rightful_app, State.WITHDRAWN, State.GIVEN)
    _sequenced(rightful_app)
    receipt = _receipt(rightful_app)
    receipt["note"] = "x" * 200_000  # what the holder wrote beside it: not part of what is signed
    assert "This receipt is genuine" in _check(rightful_app, receipt)
