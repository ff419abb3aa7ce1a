"""A believable consent history for the demo, so the console has something to show.

Every choice goes through the real ledger (chained, with its state, suppression and deliveries)
at a time in the past 90 days, and each is delivered to the demo's store as the worker would
have done a few hours later. What the marketing store holds that the ledger does not (the
subscriptions people made at checkout or in the app) is imported at the worker's first pass
after setup, as it is whenever a store destination is added (its import is due from then, and
the history's past moments come before it), so a person's preference center shows what Lumen
actually sends them. Seeded only into an empty ledger; the featured people (Avery, Jordan)
make no choices, so the tour starts from what the store says of them (Avery: product news by
e-mail).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from rightful.consent import banner, catalog, deliver, ledger, sms, subjects
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.models import ConsentEvent
from rightful.core import clock
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import FEATURED_PEOPLE, demo_urls

DAYS = 90
W, G = State.WITHDRAWN, State.GIVEN

Scenario = Callable[[Session, Settings, str, random.Random], None]


def _choices(
    session: Session,
    settings: Settings,
    email: str,
    choices: Sequence[tuple[str, str, State]],
    interface: Interface,
    proof: dict[str, str],
    actor: str | None = None,
) -> None:
    person = subjects.person(session, settings, email)
    ledger.record(
        session,
        settings,
        person,
        [ledger.Choice(p, ch, state) for p, ch, state in choices],
        ledger.Collected(interface=interface, jurisdiction="US-CA", proof=proof, actor=actor),
    )


def _newsletter(session: Session, settings: Settings, email: str, rng: random.Random) -> None:
    picks = [("marketing.newsletter", Channel.EMAIL, G), ("marketing.offers", Channel.SMS, W)]
    if rng.random() < 0.5:
        picks.append(("marketing.product_news", Channel.EMAIL, G))
    proof = {"method": "e-mailed link", "signed_in_by": "magic_link"}
    _choices(session, settings, email, picks, Interface.PREFERENCE_CENTER, proof)


def _unsubscribed(session: Session, settings: Settings, email: str, rng: random.Random) -> None:
    topic = rng.choice(["marketing.offers", "marketing.newsletter", "marketing.product_news"])
    proof = {"method": rng.choice(["RFC 8058 one-click POST", "confirmation page"])}
    _choices(
        session, settings, email, [(topic, Channel.EMAIL, W)], Interface.UNSUBSCRIBE_LINK, proof
    )


def _list_removal(session: Session, settings: Settings, email: str, rng: random.Random) -> None:
    every = [(catalog.ALL_MARKETING, ch, W) for ch in catalog.MARKETING_CHANNELS]
    proof = {"method": "list-removal page, confirmed from the e-mailed link"}
    _choices(session, settings, email, every, Interface.LIST_REMOVAL, proof)


def _do_not_sell(session: Session, settings: Settings, email: str, rng: random.Random) -> None:
    picks = [(catalog.SALE_SHARE, Channel.ALL, W), (catalog.TARGETED_ADS, Channel.ALL, W)]
    proof = {"request": f"R-DEMO-{rng.randrange(1000, 9999)}"}
    _choices(session, settings, email, picks, Interface.RIGHTS_REQUEST, proof)


def _by_post(session: Session, settings: Settings, email: str, rng: random.Random) -> None:
    picks = [(catalog.ALL_MARKETING, Channel.POST, W), (catalog.ALL_MARKETING, Channel.PHONE, W)]
    proof = {"note": f"Letter received, reference {rng.randrange(2000, 2999)}"}
    actor = "privacy.officer@lumen.example"
    _choices(session, settings, email, picks, Interface.STAFF, proof, actor)


def _stop_by_text(session: Session, settings: Settings, email: str, rng: random.Random) -> None:
    # Numbers in 555-0100..0199, the range set aside for fiction.
    phone = f"+1 415 555 01{rng.randrange(40, 100)}"  # not Avery's 0134
    number = subjects.phone_number(session, settings, phone)
    subjects.link_to_person(session, number, subjects.person(session, settings, email).id)
    sms.record_reply(session, settings, phone=phone, text="STOP")


SCENARIOS: tuple[tuple[Scenario, int], ...] = (
    (_newsletter, 5),
    (_stop_by_text, 2),
    (_unsubscribed, 4),
    (_list_removal, 2),
    (_do_not_sell, 2),
    (_by_post, 1),
)


def _visitor(session: Session, settings: Settings, rng: random.Random) -> None:
    """A browser on the shop: accepts, rejects, picks, or sends Global Privacy Control."""
    device_id = "".join(rng.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(24))
    where = rng.choice(["US-CA", "US-CA", "US-TX", "FR", "GB"])
    roll = rng.random()
    offered = [c.key for c in banner.config(session, settings, where).switches()]
    optional = [k for k in offered if k != "strictly_necessary"]
    if roll < 0.15:
        answer = banner.Answer(device_id, where, {}, gpc_source="Sec-GPC", action="gpc")
    elif roll < 0.55:
        answer = banner.Answer(device_id, where, dict.fromkeys(optional, True), action="accept_all")
    elif roll < 0.85:
        answer = banner.Answer(
            device_id, where, dict.fromkeys(optional, False), action="reject_all"
        )
    else:
        picked = {k: rng.random() < 0.5 for k in optional}
        answer = banner.Answer(device_id, where, picked, action="save")
    banner.record(session, settings, answer)


def _customers(runtime: Runtime, count: int) -> list[str]:
    featured = {p.email for p in FEATURED_PEOPLE}
    engine = create_engine(demo_urls(runtime.settings.data_dir)["storefront"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT email FROM customers ORDER BY id LIMIT :n"), {"n": count + 5}
            )
            return [e for (e,) in rows if e not in featured][:count]
    finally:
        engine.dispose()


def seed_consent_history(runtime: Runtime, *, people: int = 40, visitors: int = 60) -> int:
    """Record a past of choices into an empty ledger; returns the events written (0 if the
    ledger already had some)."""
    with runtime.sessions() as session:
        if session.scalar(select(func.count()).select_from(ConsentEvent)):
            return 0
    rng = random.Random(2026)
    weighted = [s for s, weight in SCENARIOS for _ in range(weight)]
    now = clock.utcnow()
    moments = sorted(now - timedelta(days=rng.uniform(1, DAYS)) for _ in range(people + visitors))
    who: list[str | None] = [*_customers(runtime, people), *[None] * visitors]
    rng.shuffle(who)
    try:
        for at, email in zip(moments, who, strict=False):
            clock.freeze(at)
            with unit_of_work(runtime.sessions) as session:
                if email is None:
                    _visitor(session, runtime.settings, rng)
                else:
                    rng.choice(weighted)(session, runtime.settings, email, rng)
            # Delivered a few hours later, as the worker would have done.
            clock.freeze(at + timedelta(hours=rng.uniform(0.2, 20)))
            with runtime.sessions() as session:
                while deliver.deliver_due(session, runtime.settings):
                    pass
    finally:
        clock.freeze(None)
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)
