"""The check of a notice against the truth: a true notice passes, and one seeded mismatch per
block and direction is caught (held but not disclosed; disclosed but not held or not as done)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rightful.core.config import Settings
from rightful.notices.blocks import Block
from rightful.notices.check import check
from rightful.notices.facts import Facts, Given, Kept
from rightful.notices.mismatch import ABSENT, UNDISCLOSED, UNTRUE
from tests.support.app import make_settings

CA_RIGHTS = [
    "know_categories",
    "access",
    "portability",
    "delete",
    "correct",
    "opt_out_sale",
    "limit_sensitive",
]


def truth() -> Facts:
    """A small company: a shop that ships orders and shares e-mail addresses with an ad network."""
    facts = Facts()
    facts.held = {
        "user.contact.email": ["dataset shop, customers.email"],
        "user.financial.credit_card": ["dataset shop, cards.token"],
        "user.behavior.purchase_history": ["dataset shop, orders.total"],
    }
    facts.sources = {"Directly from you": ["system shop, declaration 'Orders'"]}
    facts.uses = {
        "essential.service": ["system shop, declaration 'Orders'"],
        "marketing.advertising.third_party.targeted": ["disclosure to partner ads"],
    }
    facts.given = [
        Given(
            "ship",
            "Ship Co",
            "service_provider",
            ("user.contact.email",),
            "essential.service",
            False,
            False,
        ),
        Given(
            "ads",
            "Ads Co",
            "third_party",
            ("user.contact.email",),
            "marketing.advertising.third_party.targeted",
            False,
            True,
        ),
    ]
    facts.partners = {"ship": "Ship Co", "ads": "Ads Co"}
    facts.purposes = ["marketing", "sale_share"]
    facts.kept = {
        "user.contact.email": [Kept(365, "dataset shop, customers")],
        "user.financial.credit_card": [Kept(None, "dataset shop, cards")],
        "user.behavior.purchase_history": [Kept(None, "dataset shop, orders")],
    }
    facts.kept_after_deletion = {
        "user.behavior.purchase_history": Kept(2557, "the erasure policy's rule"),
    }
    facts.subjects = {"customer"}
    return facts


def notice(settings: Settings) -> dict[str, Any]:
    """The notice that tells that truth, block by block."""
    return {
        "categories": [
            {
                "key": "contact",
                "name": "",
                "ccpa": "identifiers",
                "words": "Your e-mail.",
                "data_categories": ["user.contact"],
            },
            {
                "key": "payment",
                "name": "",
                "ccpa": "customer_records",
                "words": "Your card.",
                "data_categories": ["user.financial"],
            },
            {
                "key": "orders",
                "name": "",
                "ccpa": "commercial",
                "words": "Your orders.",
                "data_categories": ["user.behavior.purchase_history"],
            },
        ],
        "sources": [{"words": "From you.", "covers": ["Directly from you"]}],
        "purposes": [
            {"words": "Selling to you.", "data_uses": ["essential"]},
            {"words": "Ads.", "data_uses": ["marketing.advertising"]},
        ],
        "recipients": [
            {"partner": "ship", "words": "", "categories": ["contact"]},
            {"partner": "ads", "words": "", "categories": ["contact"]},
        ],
        "sale-share": {
            "sold": [],
            "shared": [{"partner": "ads", "words": "", "categories": ["contact"]}],
            "under_16": False,
        },
        "retention": [
            {
                "category": "contact",
                "days": 400,
                "until": "",
                "after_deletion_days": None,
                "words": "",
            },
            {
                "category": "payment",
                "days": None,
                "until": "until you remove it",
                "after_deletion_days": None,
                "words": "",
            },
            {
                "category": "orders",
                "days": None,
                "until": "while your account is open",
                "after_deletion_days": 2557,
                "words": "",
            },
        ],
        "sensitive": [{"category": "payment", "uses": ["Payments"], "only_permitted_uses": True}],
        "signals": {"gpc": "honored", "dnt": "ignored"},
        "children": {"collects_from_children": False, "minimum_age": 13},
        "rights": {"kinds": list(CA_RIGHTS)},
        "contact": {
            "email": settings.privacy_email,
            "postal_address": settings.postal_address,
            "privacy_center": "",
        },
        "choices": {"purposes": ["marketing", "sale_share"]},
    }


def blocks_of(body: dict[str, Any]) -> list[Block]:
    return [Block(k, "US-CA" if k == "rights" else "", 1, v) for k, v in body.items()]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def test_a_notice_that_tells_the_truth_passes(settings: Settings) -> None:
    assert check(blocks_of(notice(settings)), truth(), settings) == []


Seed = Callable[[Facts, dict[str, Any]], None]
CASES: list[tuple[str, str, str, Seed]] = [
    (
        "categories",
        UNDISCLOSED,
        "user.device.ip_address",
        lambda f, n: f.held.update({"user.device.ip_address": ["dataset web, visits.ip"]}),
    ),
    (
        "categories",
        ABSENT,
        "user.biometric",
        lambda f, n: n["categories"][0]["data_categories"].append("user.biometric"),
    ),
    (
        "sources",
        UNDISCLOSED,
        "A data broker",
        lambda f, n: f.sources.update({"A data broker": ["system crm, declaration 'Leads'"]}),
    ),
    (
        "sources",
        ABSENT,
        "public records",
        lambda f, n: n["sources"].append({"words": "Public records", "covers": []}),
    ),
    (
        "purposes",
        UNDISCLOSED,
        "analytics.reporting",
        lambda f, n: f.uses.update(
            {"analytics.reporting": ["consent purpose cookies.performance"]}
        ),
    ),
    (
        "purposes",
        ABSENT,
        "functional.service.improve",
        lambda f, n: n["purposes"].append(
            {"words": "Research.", "data_uses": ["functional.service.improve"]}
        ),
    ),
    (
        "recipients",
        UNDISCLOSED,
        "Repair LLC",
        lambda f, n: f.given.append(
            Given(
                "repair",
                "Repair LLC",
                "affiliate",
                ("user.contact.email",),
                "essential.service",
                False,
                False,
            )
        ),
    ),
    (
        "recipients",
        UNDISCLOSED,
        "a category the notice does not name for it",
        lambda f, n: f.given.__setitem__(
            0,
            Given(
                "ship",
                "Ship Co",
                "service_provider",
                ("user.contact.email", "user.financial.credit_card"),
                "essential.service",
                False,
                False,
            ),
        ),
    ),
    (
        "recipients",
        ABSENT,
        "ghost",
        lambda f, n: n["recipients"].append(
            {"partner": "ghost", "words": "", "categories": ["contact"]}
        ),
    ),
    (
        "recipients",
        ABSENT,
        "'orders'",
        lambda f, n: n["recipients"][0]["categories"].append("orders"),
    ),
    (
        "sale-share",
        UNDISCLOSED,
        "We sell user.contact.email to Ship Co",
        lambda f, n: f.given.__setitem__(
            0,
            Given(
                "ship",
                "Ship Co",
                "service_provider",
                ("user.contact.email",),
                "essential.service",
                True,
                False,
            ),
        ),
    ),
    (
        "sale-share",
        ABSENT,
        "ship",
        lambda f, n: n["sale-share"]["sold"].append(
            {"partner": "ship", "words": "", "categories": ["contact"]}
        ),
    ),
    ("retention", UNTRUE, "at most 30 days", lambda f, n: n["retention"][0].update({"days": 30})),
    (
        "retention",
        UNTRUE,
        "after a deletion request",
        lambda f, n: n["retention"][2].update({"after_deletion_days": 365}),
    ),
    ("retention", UNDISCLOSED, "how long it keeps 'payment'", lambda f, n: n["retention"].pop(1)),
    (
        "retention",
        ABSENT,
        "'visits'",
        lambda f, n: n["retention"].append(
            {
                "category": "visits",
                "days": 30,
                "until": "",
                "after_deletion_days": None,
                "words": "",
            }
        ),
    ),
    ("sensitive", UNDISCLOSED, "user.financial.credit_card", lambda f, n: n["sensitive"].clear()),
    (
        "sensitive",
        ABSENT,
        "'contact'",
        lambda f, n: n["sensitive"].append(
            {"category": "contact", "uses": ["Mail"], "only_permitted_uses": True}
        ),
    ),
    (
        "signals",
        UNTRUE,
        "Global Privacy Control",
        lambda f, n: n["signals"].update({"gpc": "ignored"}),
    ),
    ("signals", UNTRUE, "Do Not Track", lambda f, n: n["signals"].update({"dnt": "honored"})),
    ("children", UNDISCLOSED, "children", lambda f, n: f.subjects.add("child")),
    (
        "children",
        ABSENT,
        "children",
        lambda f, n: n["children"].update({"collects_from_children": True}),
    ),
    ("rights", UNDISCLOSED, "'correct'", lambda f, n: n["rights"]["kinds"].remove("correct")),
    (
        "rights",
        ABSENT,
        "'erase_everything'",
        lambda f, n: n["rights"]["kinds"].append("erase_everything"),
    ),
    (
        "contact",
        UNTRUE,
        "old@lumen.example",
        lambda f, n: n["contact"].update({"email": "old@lumen.example"}),
    ),
    (
        "choices",
        UNDISCLOSED,
        "marketing.offers",
        lambda f, n: f.purposes.append("marketing.offers"),
    ),
    ("choices", ABSENT, "'ghost'", lambda f, n: n["choices"]["purposes"].append("ghost")),
    ("signals", UNDISCLOSED, "no `signals` block", lambda f, n: n.pop("signals")),
]


@pytest.mark.parametrize(
    ("block", "direction", "words", "seed"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES]
)
def test_a_seeded_mismatch_is_caught_in_its_block_and_direction(
    settings: Settings, block: str, direction: str, words: str, seed: Seed
) -> None:
    facts, body = truth(), copy.deepcopy(notice(settings))
    seed(facts, body)
    found = check(blocks_of(body), facts, settings)
    assert [(m.block, m.direction) for m in found] == [(block, direction)], found
    assert words in found[0].message
    assert found[0].fix  # each says where to fix it
