"""Consent changes take effect everywhere: signed webhooks to partners, rows in connected stores,
each tracked to its deadline, retried when it fails and reported to staff when overdue."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from rightful.consent import destinations, store_import
from rightful.consent.deliver import _claim, deliver_due, delivery_summary, mark_overdue, redeliver
from rightful.consent.destinations import DestinationSpec
from rightful.consent.models import ConsentDelivery
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError
from rightful.demo.estate import demo_urls
from rightful.demo.setup import HERE as DEMO_DIR
from rightful.messaging.service import list_outbox, open_letter
from rightful.worker.loop import run_once
from tests.support.app import App
from tests.support.hooks import HookServer

AVERY = "avery.quinn@example.com"  # demo estate: product_news subscribed, offers unsubscribed
STORE = "engagement_subscriptions"  # the demo's store destination


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    with HookServer() as server:
        yield server


@contextmanager
def later(**delta: float) -> Iterator[None]:
    """Run the block as if this much time had passed."""
    clock.freeze(clock.utcnow() + timedelta(**delta))
    try:
        yield
    finally:
        clock.freeze(None)


def use_webhooks(app: App, server: HookServer, *names: str, include_email: bool = True) -> None:
    """The demo's destinations plus one webhook per name, applied as a catalogue file would,
    once the demo's marketing store has had its first import (so those choices, imported
    before the partners were connected, are not among what the partners hear of)."""
    with app.runtime.sessions() as session:
        store_import.import_due(session, app.runtime.settings)
    demo = destinations.parse_destinations((DEMO_DIR / "consent.yml").read_text()) or []
    hooks = [
        DestinationSpec(
            key=name,
            name=f"Partner {name}",
            kind="webhook",
            url=server.url(name),
            include_email=include_email,
        )
        for name in names
    ]
    # The partners are local test servers on plain http, which only this setting allows (an
    # operator's RIGHTFUL_ALLOW_HTTP_WEBHOOKS): at apply time and again at each send.
    app.runtime.settings.allow_http_webhooks = True
    with unit_of_work(app.runtime.sessions) as session:
        destinations.apply_destinations(session, [*demo, *hooks], actor="test", http_webhooks=True)


def choose(
    app: App, purpose: str, state: str, *, channel: str = "email", **subject: str
) -> dict[str, Any]:
    """Record one choice through the Consent API; the event as the API returns it."""
    body = {"choices": [{"purpose": purpose, "channel": channel, "state": state}], **subject}
    response = app.client.post("/api/v1/consent/events", headers=app.auth, json=body)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()["events"][0]
    return event


def deliver(app: App) -> int:
    with app.runtime.sessions() as session:
        return deliver_due(session, app.runtime.settings)


def deliveries(app: App, destination: str) -> list[ConsentDelivery]:
    with app.runtime.sessions() as session:
        stmt = select(ConsentDelivery).where(ConsentDelivery.destination_key == destination)
        return list(session.scalars(stmt.order_by(ConsentDelivery.id)))


def subscriptions(app: App, email: str) -> dict[str, tuple[str, str, datetime]]:
    """topic → (status, source, updated_at), read straight from the demo's engagement store."""
    engine = create_engine(demo_urls(app.runtime.settings.data_dir)["engagement"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT topic, status, source, updated_at FROM marketing_subscriptions "
                    "WHERE email = :email"
                ),
                {"email": email},
            )
            return {topic: (status, source, at) for topic, status, source, at in rows}
    finally:
        engine.dispose()


def signed_correctly(app: App, destination: str, headers: dict[str, str], body: bytes) -> bool:
    secret = destinations.destination_secret(app.runtime.settings, destination)
    stamp = headers["X-Rightful-Timestamp"].encode()
    mac = hmac.new(secret.encode(), stamp + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Rightful-Signature"], "sha256=" + mac)


def test_a_webhook_receives_each_change_signed_with_its_uid_as_idempotency_key(
    rightful_app: App, hooks: HookServer
) -> None:
    use_webhooks(rightful_app, hooks, "brightads")
    event = choose(rightful_app, "sale_share", "withdrawn", channel="all", email=AVERY)
    assert deliver(rightful_app) == 1
    [post] = hooks.posts_to("brightads")
    assert signed_correctly(rightful_app, "brightads", post.headers, post.body)
    assert post.headers["Idempotency-Key"] == event["id"]
    assert post.json() == {
        "type": "consent.changed",
        "id": event["id"],
        "sequence": post.json()["sequence"],
        "purpose": "sale_share",
        "channel": "all",
        "state": "withdrawn",
        "interface": "api",
        "at": event["at"],
        "notice_version": event["notice_version"],
        "jurisdiction": event["jurisdiction"],
        "subject": {
            "id": event["subject_id"],
            "device": False,
            "email": AVERY,
            "email_sha256": hashlib.sha256(AVERY.encode()).hexdigest(),
        },
    }
    [delivery] = deliveries(rightful_app, "brightads")
    assert (delivery.status, delivery.attempts) == ("acknowledged", 1)
    assert delivery.acknowledged_at is not None


def test_a_plain_http_address_gets_nothing_once_the_operator_turns_http_off(
    rightful_app: App, hooks: HookServer
) -> None:
    use_webhooks(rightful_app, hooks, "brightads")
    rightful_app.runtime.settings.allow_http_webhooks = False  # stored while it was allowed
    choose(rightful_app, "sale_share", "withdrawn", channel="all", email=AVERY)
    assert deliver(rightful_app) == 0
    assert hooks.posts_to("brightads") == []  # the person's address went nowhere
    [delivery] = deliveries(rightful_app, "brightads")
    assert delivery.status != "acknowledged" and delivery.last_error == "insecure address"


def test_a_device_choice_reaches_webhooks_without_any_address(
    rightful_app: App, hooks: HookServer
) -> None:
    use_webhooks(rightful_app, hooks, "brightads")
    event = choose(
        rightful_app, "cookies.targeting", "withdrawn", channel="web", device_id="d" * 24
    )
    deliver(rightful_app)
    [post] = hooks.posts_to("brightads")
    assert post.json()["subject"] == {"id": event["subject_id"], "device": True}


def test_a_stop_reply_reaches_the_sms_platform_with_the_number(
    rightful_app: App, hooks: HookServer
) -> None:
    use_webhooks(rightful_app, hooks, "textline")
    answer = rightful_app.client.post(
        "/api/v1/consent/sms-replies",
        json={"phone": "(415) 555-0177", "text": "STOP"},
        headers=rightful_app.auth,
    )
    deliver(rightful_app)
    [post] = hooks.posts_to("textline")
    body = post.json()
    assert body["subject"] == {
        "id": answer.json()["subject_id"],
        "device": False,
        "phone": "+14155550177",
    }
    assert (body["purpose"], body["channel"], body["state"]) == ("marketing", "sms", "withdrawn")
    assert body["interface"] == "sms_reply"


def test_a_webhook_can_be_sent_pseudonymous_ids_only(rightful_app: App, hooks: HookServer) -> None:
    use_webhooks(rightful_app, hooks, "brightads", include_email=False)
    event = choose(rightful_app, "sale_share", "withdrawn", channel="all", email=AVERY)
    deliver(rightful_app)
    [post] = hooks.posts_to("brightads")
    assert post.json()["subject"] == {
        "id": event["subject_id"],
        "device": False,
        "email_sha256": hashlib.sha256(AVERY.encode()).hexdigest(),
    }


def test_a_delivered_change_is_not_delivered_again(rightful_app: App, hooks: HookServer) -> None:
    use_webhooks(rightful_app, hooks, "brightads")
    choose(rightful_app, "marketing.offers", "given", email=AVERY)
    assert deliver(rightful_app) == 2  # the partner and the marketing store
    with later(days=30):
        assert deliver(rightful_app) == 0
    assert len(hooks.posts_to("brightads")) == 1
    assert [d.attempts for d in deliveries(rightful_app, "brightads")] == [1]


def test_a_failing_partner_is_retried_with_backoff_until_it_acknowledges(
    rightful_app: App, hooks: HookServer
) -> None:
    hooks.answer("payflow", 500, 200)
    use_webhooks(rightful_app, hooks, "payflow")
    choose(rightful_app, "targeted_advertising", "withdrawn", channel="all", email=AVERY)
    deliver(rightful_app)
    [failed] = deliveries(rightful_app, "payflow")
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 1, "HTTP 500")
    deliver(rightful_app)  # not due again yet
    assert len(hooks.posts_to("payflow")) == 1
    with later(minutes=2):
        assert deliver(rightful_app) == 1
    [done] = deliveries(rightful_app, "payflow")
    assert (done.status, done.attempts, done.last_error) == ("acknowledged", 2, None)
    first, second = hooks.posts_to("payflow")
    assert first.body == second.body  # the same change, so the partner can tell it is a retry
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_a_partner_that_is_down_holds_back_its_other_changes_until_it_is_due_again(
    rightful_app: App, hooks: HookServer
) -> None:
    hooks.answer("payflow", 500, 200)
    use_webhooks(rightful_app, hooks, "payflow")
    choose(rightful_app, "sale_share", "withdrawn", channel="all", email=AVERY)
    choose(rightful_app, "targeted_advertising", "withdrawn", channel="all", email=AVERY)
    deliver(rightful_app)
    assert len(hooks.posts_to("payflow")) == 1  # one failure, not one per change
    with later(minutes=2):
        assert deliver(rightful_app) == 2
    assert [d.attempts for d in deliveries(rightful_app, "payflow")] == [2, 1]


def test_a_worker_that_dies_mid_delivery_leaves_it_to_be_retried_after_its_lease(
    rightful_app: App, hooks: HookServer
) -> None:
    use_webhooks(rightful_app, hooks, "brightads")
    choose(rightful_app, "sale_share", "withdrawn", channel="all", email=AVERY)
    settings = rightful_app.runtime.settings
    [delivery] = deliveries(rightful_app, "brightads")
    with rightful_app.runtime.sessions() as session:  # a worker claims it, then dies
        assert _claim(session, settings, 1).ids == [delivery.id]
    assert deliver(rightful_app) == 0  # the others keep off while the lease runs
    assert hooks.posts_to("brightads") == []
    with later(seconds=settings.claim_seconds + 11):  # the lease of one send
        assert deliver(rightful_app) == 1
    assert len(hooks.posts_to("brightads")) == 1
    assert deliveries(rightful_app, "brightads")[0].attempts == 1  # the cut-short try is not


def test_a_change_not_acknowledged_within_48_hours_is_reported_late(
    rightful_app: App, hooks: HookServer
) -> None:
    hooks.answer("brightads", 503)
    use_webhooks(rightful_app, hooks, "brightads")
    event = choose(rightful_app, "sale_share", "withdrawn", channel="all", email=AVERY)
    deliver(rightful_app)
    with later(hours=49), rightful_app.runtime.sessions() as session:
        summary = delivery_summary(session)
    assert [(d.event_uid, d.last_error) for d in summary.late] == [(event["id"], "HTTP 503")]
    assert summary.overdue == []
    brightads = next(d for d in summary.destinations if d.key == "brightads")
    assert (brightads.counts, brightads.late, brightads.overdue) == ({"pending": 1}, 1, 0)


def test_a_partner_that_never_answers_becomes_overdue_and_staff_are_told_once(
    rightful_app: App, hooks: HookServer
) -> None:
    hooks.answer("brightads", 503)
    use_webhooks(rightful_app, hooks, "brightads")
    choose(rightful_app, "sale_share", "withdrawn", channel="all", email=AVERY)
    deliver(rightful_app)
    with later(days=20), rightful_app.runtime.sessions() as session:
        assert mark_overdue(session, rightful_app.runtime.settings) == 1
        assert mark_overdue(session, rightful_app.runtime.settings) == 0
        summary = delivery_summary(session)
        alerts = [
            open_letter(rightful_app.runtime.settings, m)
            for m in list_outbox(session)
            if m.template == "consent_overdue"
        ]
    [delivery] = deliveries(rightful_app, "brightads")
    assert delivery.status == "overdue" and delivery.alerted_at is not None
    assert [d.id for d in summary.overdue] == [delivery.id]
    [alert] = alerts
    assert alert.to == rightful_app.runtime.settings.privacy_email
    assert "Partner brightads (brightads): 1 overdue" in alert.text
    assert AVERY not in alert.text and AVERY not in alert.html


def test_staff_retry_an_overdue_delivery_once_the_partner_is_fixed(
    rightful_app: App, hooks: HookServer
) -> None:
    hooks.answer("brightads", 503)
    use_webhooks(rightful_app, hooks, "brightads")
    choose(rightful_app, "sale_share", "withdrawn", channel="all", email=AVERY)
    deliver(rightful_app)
    [delivery] = deliveries(rightful_app, "brightads")
    with later(days=20):
        with rightful_app.runtime.sessions() as session:
            mark_overdue(session, rightful_app.runtime.settings)
        hooks.answer("brightads", 200)
        with unit_of_work(rightful_app.runtime.sessions) as session:
            redeliver(session, delivery.id, actor="officer@lumen.example")
        assert deliver(rightful_app) == 1
    [done] = deliveries(rightful_app, "brightads")
    assert done.status == "acknowledged" and done.acknowledged_at is not None


def test_withdrawing_a_topic_unsubscribes_it_in_the_marketing_database(
    rightful_app: App,
) -> None:
    before = subscriptions(rightful_app, AVERY)
    assert before["product_news"][0] == "subscribed"
    choose(rightful_app, "marketing.product_news", "withdrawn", email=AVERY)
    run_once(rightful_app.runtime)  # the worker's pass delivers consent changes too
    after = subscriptions(rightful_app, AVERY)
    assert after["product_news"][:2] == ("unsubscribed", "rightful")
    assert after["offers"] == before["offers"]  # already unsubscribed: left alone
    [delivery] = deliveries(rightful_app, STORE)
    assert (delivery.status, delivery.attempts) == ("acknowledged", 1)


def test_a_choice_on_another_channel_leaves_the_email_subscriptions_alone(
    rightful_app: App,
) -> None:
    choose(rightful_app, "marketing.product_news", "withdrawn", channel="sms", email=AVERY)
    assert deliveries(rightful_app, STORE) == []


def test_no_marketing_at_all_unsubscribes_every_topic_and_giving_it_back_restores_only_chosen(
    rightful_app: App,
) -> None:
    choose(rightful_app, "marketing.offers", "given", email=AVERY)
    choose(rightful_app, "marketing", "withdrawn", email=AVERY)
    deliver(rightful_app)
    assert {s for s, _, _ in subscriptions(rightful_app, AVERY).values()} == {"unsubscribed"}
    choose(rightful_app, "marketing", "given", email=AVERY)
    deliver(rightful_app)
    statuses = {topic: s for topic, (s, _, _) in subscriptions(rightful_app, AVERY).items()}
    # Offers were chosen in Rightful; product news never was, so nobody subscribes it again.
    assert statuses == {"offers": "subscribed", "product_news": "unsubscribed"}


def test_a_store_delivered_again_changes_nothing(rightful_app: App) -> None:
    choose(rightful_app, "marketing.product_news", "withdrawn", email=AVERY)
    deliver(rightful_app)
    written = subscriptions(rightful_app, AVERY)
    with rightful_app.runtime.sessions() as session:  # as if the answer was lost in a crash
        delivery = session.get(ConsentDelivery, deliveries(rightful_app, STORE)[0].id)
        assert delivery is not None
        delivery.status = "pending"
        session.commit()
        redeliver(session, delivery.id)
        session.commit()
    assert deliver(rightful_app) == 1
    assert subscriptions(rightful_app, AVERY) == written


def test_a_destination_that_does_not_fit_the_data_map_is_refused_with_each_problem_named(
    rightful_app: App,
) -> None:
    document = """
destinations:
  - key: wrong_table
    name: A table that is not there
    kind: store
    target:
      system: engagement
      collection: newsletters
      field: status
      match: {topic: {marketing.offers: offers}}
      values: {withdrawn: unsubscribed}
  - key: unknown_purpose
    name: Ads partner
    kind: webhook
    url: https://ads.example/consent
    purposes: [sale_share, cookies.everything]
"""
    specs = destinations.parse_destinations(document)
    assert specs is not None
    with (
        pytest.raises(InvalidInputError) as refused,
        unit_of_work(rightful_app.runtime.sessions) as session,
    ):
        destinations.apply_destinations(session, specs)
    problems = {e["field"]: e["message"] for e in refused.value.errors}
    assert "no collection 'newsletters'" in problems["destinations.0.target"]
    assert "cookies.everything" in problems["destinations.1.purposes"]


def test_a_webhook_without_an_address_is_refused_when_the_file_is_read() -> None:
    document = "destinations:\n  - {key: ads, name: Ads partner, kind: webhook}\n"
    with pytest.raises(InvalidInputError) as refused:
        destinations.parse_destinations(document)
    assert "needs `url`" in refused.value.errors[0]["message"]
