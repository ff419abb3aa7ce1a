"""The stand-in vendors' data, drawn from the demo company's own people: the help desk holds
questions some customers asked through the help center, the marketing service holds everyone
the engagement database has subscribed to a list (with the lists as tags)."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from rightful.core.db import make_engine
from rightful.demo.estate import ANCHOR, FEATURED_PEOPLE
from rightful.demo.vendors.store import DocStore

Docs = Iterator[tuple[str, Any, Any, dict[str, Any]]]
_HELP_SUBJECTS = (
    ("Warranty replacement", "My device stopped working within a year. How do I get it replaced?"),
    ("Return label", "Could you send me a return label? The item arrived damaged."),
    ("Invoice for my order", "I need an invoice with my company name for my last order."),
    ("Change my delivery address", "I moved last week; please ship my order to my new place."),
)
_FEATURED_TICKETS = {
    FEATURED_PEOPLE[0].email: (
        "Return label for an indoor cam",
        "One of the two indoor cams I ordered has a cracked lens. Can I get a return label?",
        "solved",
        30,
    ),
    FEATURED_PEOPLE[1].email: (
        "Doorbell replacement under warranty",
        "My doorbell's battery lasts three weeks. Is it covered by the warranty?",
        "open",
        19,
    ),
}
_FEATURED_NOTES = {
    FEATURED_PEOPLE[0].email: "Asked by phone for product news only, no offers.",
    FEATURED_PEOPLE[1].email: "Interested in the beta program; met at the Oakland pop-up.",
}
_STAFF = ("Sam Rivera", "Kim Osei")


def subscriber_hash(email: str) -> str:
    """The marketing service's id for a member: the MD5 of the lower-cased address."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def _people(urls: Mapping[str, str]) -> list[dict[str, Any]]:
    engine = make_engine(urls["storefront"])
    try:
        with engine.connect() as db:
            query = "SELECT id, email, first_name, last_name, phone, created_at FROM customers"
            return [dict(r._mapping) for r in db.execute(text(query + " ORDER BY id"))]
    finally:
        engine.dispose()


def _subscriptions(urls: Mapping[str, str]) -> dict[str, list[tuple[str, Any]]]:
    engine = make_engine(urls["engagement"])
    lists: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    try:
        with engine.connect() as db:
            query = (
                "SELECT email, topic, updated_at FROM marketing_subscriptions "
                "WHERE status = 'subscribed' ORDER BY id"
            )
            for email, topic, at in db.execute(text(query)):
                lists[email].append((topic, at))
    finally:
        engine.dispose()
    return lists


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _help_desk(people: list[dict[str, Any]], rng: random.Random) -> Docs:
    ticket_id = 5000
    for person in people:
        featured = _FEATURED_TICKETS.get(person["email"])
        if featured is None and rng.random() >= 0.15:
            continue
        user_id = 360000 + int(person["id"])
        joined = _moment(person["created_at"])
        user = {
            "id": user_id,
            "email": person["email"],
            "name": f"{person['first_name']} {person['last_name']}",
            "phone": person["phone"],
            "notes": None,
            "created_at": _iso(joined),
        }
        yield "user", user_id, person["email"].lower(), user
        asked = [featured] if featured else [(*rng.choice(_HELP_SUBJECTS), "solved", None)]
        for subject, description, status, days in asked:
            ticket_id += 1
            at = (
                ANCHOR - timedelta(days=days) if days else joined + (ANCHOR - joined) * rng.random()
            )
            ticket = {
                "id": ticket_id,
                "requester_id": user_id,
                "subject": subject,
                "description": description,
                "status": status,
                "created_at": _iso(at),
            }
            yield "ticket", ticket_id, user_id, ticket


def _marketing(
    people: list[dict[str, Any]], lists: Mapping[str, list[tuple[str, Any]]], rng: random.Random
) -> Docs:
    note_id = 0
    for person in people:
        topics = lists.get(person["email"])
        if not topics:
            continue
        email, h = person["email"], subscriber_hash(person["email"])
        first = min(_moment(at) for _, at in topics)
        member = {
            "id": h,
            "email_address": email,
            "full_name": f"{person['first_name']} {person['last_name']}",
            "merge_fields": {"FNAME": person["first_name"], "LNAME": person["last_name"]},
            "status": "subscribed",
            "ip_signup": "",
            "timestamp_signup": _iso(first),
            "language": "en",
            "location": {"country_code": "US", "timezone": "America/Los_Angeles"},
            "tags": [{"id": n + 1, "name": topic} for n, (topic, _) in enumerate(topics)],
            "last_changed": _iso(max(_moment(at) for _, at in topics)),
            "list_id": "lumen00001",
        }
        yield "member", h, h, member
        said = _FEATURED_NOTES.get(email)
        if said is None and rng.random() < 0.05:
            said = "Asked to hear about new products only."
        if said:
            note_id += 1
            note = {
                "id": note_id,
                "email_id": h,
                "note": said,
                "created_by": rng.choice(_STAFF),
                "created_at": _iso(first + (ANCHOR - first) / 2),
                "list_id": "lumen00001",
            }
            yield "note", note_id, h, note


def build_vendors(
    stores: Mapping[str, DocStore], urls: Mapping[str, str], *, seed: int = 7
) -> None:
    """(Re)create both stand-ins' records from the people in the demo estate at `urls`."""
    people = _people(urls)
    rng = random.Random(seed)
    stores["helpdesk"].create(_help_desk(people, rng))
    stores["marketing"].create(_marketing(people, _subscriptions(urls), rng))
