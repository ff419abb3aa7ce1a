"""Lumen Devices' own data estate: three systems with synthetic customers in them.

Longer than our ~400-line guide on purpose: the table definitions, the featured people and the
generator change together, and splitting them would scatter one picture of the estate.
"""

from __future__ import annotations

import base64
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from faker import Faker
from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
    select,
)

from rightful.core.db import NAMING, make_engine
from rightful.core.files import private_dir
from rightful.demo.vocabulary import (
    AGENT_LINES,
    BRANDS,
    CATALOG,
    DOMAINS,
    ORDER_STATUSES,
    QUESTIONS,
    SOURCES,
    SUBJECTS,
    TOPICS,
)

__all__ = [
    "ANCHOR",
    "FEATURED_PEOPLE",
    "SYSTEMS",
    "DemoPerson",
    "build_estate",
    "demo_urls",
    "estate_metadata",
]

SYSTEMS: tuple[str, ...] = ("storefront", "support_desk", "engagement")
# Every date is relative to this fixed moment, never the clock, so a seed always gives the same
# rows. Times are naive UTC, like most line-of-business databases store them.
ANCHOR = datetime(2026, 11, 15, 12, 0, 0)
CHUNK = 2000  # people generated per batch, and rows per executemany
Row = dict[str, Any]
Items = Iterable[tuple[str, int]]  # (sku, quantity)
Chat = tuple[str, Iterable[tuple[str, str]]]  # (ticket status, [(sender, body)])
Seen = Iterable[tuple[str, str, datetime, int]]  # [(ip, user agent, started, pages viewed)]


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _ref(name: str, target: str | None = None, *, nullable: bool = False) -> Column[int]:
    """An indexed integer column, a foreign key when the target lives in the same system."""
    if target is None:  # points into another system, so the database cannot enforce it
        return Column(name, Integer, nullable=nullable, index=True)
    return Column(name, Integer, ForeignKey(target), nullable=nullable, index=True)


def _storefront() -> MetaData:
    """The online store: accounts, addresses, orders, saved cards, reviews."""
    md = MetaData(naming_convention=NAMING)
    Table(
        "customers",
        md,
        _id(),
        Column("email", String(254), nullable=False, unique=True, index=True),
        Column("first_name", String(100), nullable=False),
        Column("last_name", String(100), nullable=False),
        Column("phone", String(20), index=True),
        Column("birth_date", Date),
        Column("password_hash", String(200), nullable=False),
        Column("security_question", String(200)),
        Column("security_answer", String(200)),
        Column("state", String(2)),
        Column("created_at", DateTime, nullable=False),
    )
    Table(
        "addresses",
        md,
        _id(),
        _ref("customer_id", "customers.id"),
        Column("kind", String(10), nullable=False),
        Column("street", String(200), nullable=False),
        Column("city", String(100), nullable=False),
        Column("state", String(2), nullable=False),
        Column("postal_code", String(10), nullable=False),
        Column("country", String(2), nullable=False),
    )
    Table(
        "orders",
        md,
        _id(),
        # Nullable: orders are kept for tax after an erasure, no longer tied to the person.
        _ref("customer_id", "customers.id", nullable=True),
        Column("placed_at", DateTime, nullable=False),
        Column("status", String(20), nullable=False),
        Column("total", Numeric(10, 2), nullable=False),
        _ref("shipping_address_id", "addresses.id", nullable=True),
    )
    Table(
        "order_items",
        md,
        _id(),
        _ref("order_id", "orders.id"),
        Column("sku", String(40), nullable=False),
        Column("product_name", String(200), nullable=False),
        Column("quantity", Integer, nullable=False),
        Column("unit_price", Numeric(10, 2), nullable=False),
    )
    # Tokenised by the payment processor: never a full card number or security code.
    Table(
        "payment_methods",
        md,
        _id(),
        _ref("customer_id", "customers.id"),
        Column("brand", String(20), nullable=False),
        Column("card_last4", String(4), nullable=False),
        Column("card_token", String(64), nullable=False),
        Column("exp_month", Integer, nullable=False),
        Column("exp_year", Integer, nullable=False),
        Column("created_at", DateTime, nullable=False),
    )
    Table(
        "product_reviews",
        md,
        _id(),
        _ref("customer_id", "customers.id"),
        Column("sku", String(40), nullable=False),
        Column("rating", Integer, nullable=False),
        Column("title", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime, nullable=False),
    )
    return md


def _support_desk() -> MetaData:
    """The help desk: tickets and their chat transcripts."""
    md = MetaData(naming_convention=NAMING)
    Table(
        "support_tickets",
        md,
        _id(),
        _ref("customer_id"),
        Column("customer_email", String(254), nullable=False, index=True),
        Column("subject", String(200), nullable=False),
        Column("status", String(20), nullable=False),
        Column("opened_at", DateTime, nullable=False),
    )
    Table(
        "chat_messages",
        md,
        _id(),
        _ref("ticket_id", "support_tickets.id"),
        Column("sender", String(10), nullable=False),
        Column("body", Text, nullable=False),
        Column("sent_at", DateTime, nullable=False),
    )
    return md


def _engagement() -> MetaData:
    """Marketing and analytics: email subscriptions, devices, web sessions."""
    md = MetaData(naming_convention=NAMING)
    Table(
        "marketing_subscriptions",
        md,
        _id(),
        Column("email", String(254), nullable=False, index=True),
        Column("topic", String(50), nullable=False),
        Column("status", String(20), nullable=False),
        Column("source", String(50), nullable=False),
        Column("updated_at", DateTime, nullable=False),
    )
    Table(
        "devices",
        md,
        _id(),
        Column("device_id", String(64), nullable=False, unique=True, index=True),
        _ref("customer_id"),
        Column("model", String(80), nullable=False),
        Column("first_seen", DateTime, nullable=False),
    )
    Table(
        "web_sessions",
        md,
        _id(),
        Column("device_id", String(64), nullable=False, index=True),
        Column("ip_address", String(45), nullable=False),
        Column("user_agent", String(500), nullable=False),
        Column("started_at", DateTime, nullable=False),
        Column("pages_viewed", Integer, nullable=False),
    )
    return md


_METADATA: dict[str, MetaData] = {
    "storefront": _storefront(),
    "support_desk": _support_desk(),
    "engagement": _engagement(),
}


_COLUMNS = {
    table.name: [column.name for column in table.columns]
    for metadata in _METADATA.values()
    for table in metadata.tables.values()
}


def estate_metadata() -> dict[str, MetaData]:
    """The table definitions of each system, keyed by system."""
    return dict(_METADATA)


def demo_urls(data_dir: Path) -> dict[str, str]:
    """SQLite URLs for the demo estate under `data_dir/estate`, creating the folder."""
    folder = private_dir(data_dir / "estate")
    return {system: f"sqlite:///{folder / system}.db" for system in SYSTEMS}


@dataclass(frozen=True)
class DemoPerson:
    """A customer whose details a newcomer can type into the privacy center."""

    email: str
    first_name: str
    last_name: str
    phone: str
    postal_code: str
    state: str

    @property
    def phone_e164(self) -> str:
        """The phone number as the storefront stores it."""
        return re.sub(r"[^\d+]", "", self.phone)


FEATURED_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("avery.quinn@example.com", "Avery", "Quinn", "+1 415 555 0134", "94107", "CA"),
    DemoPerson("jordan.lee@example.com", "Jordan", "Lee", "+1 510 555 0199", "94612", "CA"),
)

_PRODUCT = {sku: (name, price) for sku, name, price in CATALOG}
_SF = ("CA", "94107", "US")
# Plausible area codes (no N11 service codes, no x9x), minus the featured people's own.
_AREA_CODES = [
    a for a in range(201, 990) if a % 100 != 11 and a // 10 % 10 != 9 and a not in (415, 510)
]


class _Rows:
    """Rows waiting to be inserted, keyed by table name, with ids assigned here."""

    def __init__(self) -> None:
        self.tables: dict[str, list[Row]] = defaultdict(list)
        self._last_id: dict[str, int] = defaultdict(int)

    def add(self, table: str, *values: Any) -> int:
        """Append a row given in the table's column order (after id); return its new id."""
        self._last_id[table] += 1
        row = dict(zip(_COLUMNS[table], (self._last_id[table], *values), strict=True))
        self.tables[table].append(row)
        return self._last_id[table]

    def next_id(self, table: str) -> int:
        """The id the next row added to `table` will get."""
        return self._last_id[table] + 1

    def take(self) -> dict[str, list[Row]]:
        """Hand over the pending rows, keeping the id counters."""
        pending, self.tables = self.tables, defaultdict(list)
        return pending


def _ago(days: int, hours: int = 0) -> datetime:
    return ANCHOR - timedelta(days=days, hours=hours)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randint(0, max(0, int((end - start).total_seconds()))))


def _token(rng: random.Random, size: int) -> str:
    return base64.b64encode(rng.randbytes(size), altchars=b"-_").decode().rstrip("=")


def _customer(rows: _Rows, p: DemoPerson, born: date, joined: datetime, rng: random.Random) -> int:
    """A customer row; the password hash is argon2-shaped noise, as the demo never logs in."""
    question, answers = rng.choice(QUESTIONS)
    answer = rng.choice(answers)
    hashed = f"$argon2id$v=19$m=65536,t=3,p=4${_token(rng, 16)}${_token(rng, 32)}"
    values = (p.first_name, p.last_name, p.phone_e164, born, hashed, question, answer)
    return rows.add("customers", p.email, *values, p.state, joined)


def _order(rows: _Rows, cid: int, ship_to: int, at: datetime, status: str, items: Items) -> None:
    """One order and its items; the total is the sum of the lines."""
    lines = [(sku, *_PRODUCT[sku], qty) for sku, qty in items]
    total = sum((price * qty for _, _, price, qty in lines), Decimal("0.00"))
    order_id = rows.add("orders", cid, at, status, total, ship_to)
    for sku, name, price, qty in lines:
        rows.add("order_items", order_id, sku, name, qty, price)


def _ticket(rows: _Rows, cid: int, email: str, subject: str, at: datetime, chat: Chat) -> None:
    """One support ticket with its chat transcript, a few minutes between messages."""
    ticket_id = rows.add("support_tickets", cid, email, subject, chat[0], at)
    for n, (sender, body) in enumerate(chat[1]):
        rows.add("chat_messages", ticket_id, sender, body, at + timedelta(minutes=3 * n + 1))


def _device(rows: _Rows, cid: int, device: tuple[str, str], at: datetime, seen: Seen) -> None:
    """One device, as (device id, model), and the web sessions seen from it."""
    rows.add("devices", device[0], cid, device[1], at)
    for ip, agent, started, pages in seen:
        rows.add("web_sessions", device[0], ip, agent, started, pages)


_SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"
_CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/126.0.0.0 Safari/537.36"
_AVERY_CHAT = (
    ("customer", "Hi, my thermostat dropped off Wi-Fi after we replaced the router."),
    ("agent", "Thanks for reaching out, I'm happy to help with that."),
    ("agent", "Hold the dial for ten seconds to reopen setup, then pick the new network."),
    ("customer", "That did it, it's back online. Thank you!"),
)
_AVERY_REVIEW = (
    "Quiet, smart, and easy to install",
    "Setup took ten minutes and the schedule learned our routine within a week. "
    "The app could show energy use more clearly.",
)


def _add_avery(rows: _Rows) -> None:
    """Person 1: a long-time customer with something in every table, old and recent."""
    p = FEATURED_PEOPLE[0]
    rng = random.Random(p.email)  # her secrets come out the same whatever the seed
    cid = _customer(rows, p, date(1988, 3, 14), _ago(1210), rng)
    home = rows.add("addresses", cid, "billing", "742 De Haro St", "San Francisco", *_SF)
    work = rows.add("addresses", cid, "shipping", "88 King St Ste 300", "San Francisco", *_SF)
    _order(rows, cid, home, _ago(1190), "delivered", [("LUM-HUB-2", 1), ("LUM-BULB-C", 4)])
    _order(rows, cid, home, _ago(270), "delivered", [("LUM-THERM-3", 1)])
    _order(rows, cid, work, _ago(41), "shipped", [("LUM-CAM-IN", 2), ("LUM-SENS-MO", 1)])
    rows.add("payment_methods", cid, "visa", "4242", f"tok_{_token(rng, 18)}", 8, 2028, _ago(1190))
    rows.add("product_reviews", cid, "LUM-THERM-3", 4, *_AVERY_REVIEW, _ago(240))
    subject = "Thermostat won't connect to Wi-Fi"
    _ticket(rows, cid, p.email, subject, _ago(95), ("solved", _AVERY_CHAT))
    rows.add(
        "marketing_subscriptions", p.email, "product_news", "subscribed", "checkout", _ago(1190)
    )
    rows.add("marketing_subscriptions", p.email, "offers", "unsubscribed", "app", _ago(60))
    thermostat = ("LMN-THERM-00A1B2C3D4", "Lumen Smart Thermostat")
    visits = [("198.51.100.23", _CHROME, _ago(265), 6), ("198.51.100.23", _CHROME, _ago(95, 1), 3)]
    _device(rows, cid, thermostat, _ago(268), visits)
    phone = ("AAID-3F2504E0-4F89-11D3-9A0C-0305E82C3301", "Lumen App (iOS)")
    visits = [("203.0.113.77", _SAFARI, _ago(1185), 4), ("203.0.113.77", _SAFARI, _ago(30), 9)]
    visits.append(("2001:db8:85a3::8a2e:370:7334", _SAFARI, _ago(2), 2))
    _device(rows, cid, phone, _ago(1185), visits)


def _add_jordan(rows: _Rows) -> None:
    """Person 2: a newer customer with one of everything."""
    p = FEATURED_PEOPLE[1]
    rng = random.Random(p.email)
    cid = _customer(rows, p, date(1995, 10, 2), _ago(520), rng)
    home = rows.add(
        "addresses", cid, "shipping", "415 Grand Ave Apt 6", "Oakland", "CA", "94612", "US"
    )
    _order(rows, cid, home, _ago(500), "delivered", [("LUM-BELL-1", 1)])
    token = f"tok_{_token(rng, 18)}"
    rows.add("payment_methods", cid, "mastercard", "4444", token, 3, 2027, _ago(500))
    review = ("Great picture, short battery life", "Sharp at night; I recharge it every 3 weeks.")
    rows.add("product_reviews", cid, "LUM-BELL-1", 3, *review, _ago(150))
    chat = (
        ("customer", "My doorbell battery only lasts about three weeks."),
        ("agent", "Could you confirm the serial number on the back of the device?"),
    )
    _ticket(rows, cid, p.email, "Doorbell battery drains quickly", _ago(20), ("open", chat))
    rows.add("marketing_subscriptions", p.email, "newsletter", "subscribed", "app", _ago(500))
    doorbell = ("LMN-BELL-00F9E8D7C6", "Lumen Video Doorbell")
    _device(rows, cid, doorbell, _ago(495), [("192.0.2.41", _CHROME, _ago(20, 2), 5)])


def _synthetic_person(fake: Faker, index: int) -> DemoPerson:
    """A Faker customer with a unique example-domain email and a fictional 555-01xx phone."""
    first, last = fake.first_name(), fake.last_name()
    local = ".".join(re.sub(r"[^a-z]", "", name.lower()) for name in (first, last))
    phone = f"+1 {_AREA_CODES[index // 100 % len(_AREA_CODES)]} 555 0{100 + index % 100}"
    state = fake.state_abbr(include_territories=False, include_freely_associated_states=False)
    domain = DOMAINS[index % len(DOMAINS)]
    return DemoPerson(
        f"{local}.{index}@{domain}", first, last, phone, fake.zipcode_in_state(state), state
    )


def _add_person(rows: _Rows, fake: Faker, rng: random.Random, index: int) -> None:
    """One synthetic customer and their storefront history; engagement follows."""
    p = _synthetic_person(fake, index)
    joined = _between(rng, _ago(4 * 365), _ago(1))
    born = (ANCHOR - timedelta(days=rng.randint(6600, 29000))).date()  # aged 18 to 79
    cid = _customer(rows, p, born, joined, rng)
    where = (fake.street_address(), fake.city(), p.state, p.postal_code, "US")
    ship_to = rows.add("addresses", cid, "billing", *where)
    if rng.random() < 0.4:  # some people ship somewhere else, e.g. to work
        where = (fake.street_address(), fake.city(), p.state, fake.zipcode_in_state(p.state), "US")
        ship_to = rows.add("addresses", cid, "shipping", *where)
    bought: list[tuple[str, datetime]] = []
    for _ in range(rng.randint(0, 6)):
        at = _between(rng, joined, ANCHOR)
        items = [(sku, rng.randint(1, 3)) for sku in rng.sample(list(_PRODUCT), rng.randint(1, 4))]
        _order(rows, cid, ship_to, at, rng.choice(ORDER_STATUSES), items)
        bought += [(sku, at) for sku, _ in items]
    for _ in range(rng.randint(0, 2)):
        card = (rng.choice(BRANDS), f"{rng.randint(0, 9999):04d}", f"tok_{_token(rng, 18)}")
        expires = (rng.randint(1, 12), ANCHOR.year + rng.randint(0, 5))
        rows.add("payment_methods", cid, *card, *expires, _between(rng, joined, ANCHOR))
    for sku, at in rng.sample(bought, min(len(bought), rng.randint(0, 3))):
        text = (fake.sentence(nb_words=5).rstrip("."), fake.paragraph(3))
        rows.add("product_reviews", cid, sku, rng.randint(1, 5), *text, _between(rng, at, ANCHOR))
    _add_engagement(rows, fake, rng, cid, p.email, joined)


def _add_engagement(
    rows: _Rows, fake: Faker, rng: random.Random, cid: int, email: str, joined: datetime
) -> None:
    """The person's support tickets, subscriptions, devices and web sessions."""
    for _ in range(rng.randint(0, 2)):
        chat = [("customer", fake.sentence(nb_words=12))]
        for n in range(1, rng.randint(2, 6)):
            chat.append(
                ("agent", rng.choice(AGENT_LINES)) if n % 2 else ("customer", fake.sentence())
            )
        status = rng.choice(("open", "pending", "solved"))
        _ticket(
            rows, cid, email, rng.choice(SUBJECTS), _between(rng, joined, ANCHOR), (status, chat)
        )
    for topic in rng.sample(TOPICS, rng.randint(0, 3)):
        choice = (rng.choice(("subscribed", "subscribed", "unsubscribed")), rng.choice(SOURCES))
        rows.add("marketing_subscriptions", email, topic, *choice, _between(rng, joined, ANCHOR))
    for _ in range(rng.randint(1, 3)):
        sku, name, _price = rng.choice(CATALOG)
        first_seen, agent = _between(rng, joined, ANCHOR), fake.user_agent()
        visits = [
            (fake.ipv4_public(), agent, _between(rng, first_seen, ANCHOR), rng.randint(1, 20))
            for _ in range(rng.randint(1, 5))
        ]
        # The row id keeps serials unique; the random tail makes them look like serials.
        serial = f"LMN-{sku.split('-')[1]}-{rows.next_id('devices'):07d}{rng.getrandbits(16):04X}"
        _device(rows, cid, (serial, name), first_seen, visits)


def _people(people: int, seed: int) -> Iterator[dict[str, list[Row]]]:
    """Rows for the featured people and then synthetic ones, a batch at a time."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    rows = _Rows()
    _add_avery(rows)
    _add_jordan(rows)
    for index in range(len(FEATURED_PEOPLE) + 1, people + 1):
        _add_person(rows, fake, rng, index)
        if index % CHUNK == 0:
            yield rows.take()
    yield rows.take()


def _insert(conns: Mapping[str, Connection], batch: Mapping[str, list[Row]]) -> None:
    """Insert one batch, parents before children, in chunks of executemany."""
    for system, conn in conns.items():
        for table in _METADATA[system].sorted_tables:
            pending = batch.get(table.name, [])
            for start in range(0, len(pending), CHUNK):
                conn.execute(table.insert(), pending[start : start + CHUNK])


def _resync_ids(conn: Connection, metadata: MetaData) -> None:
    """Move PostgreSQL's id sequences past the ids we inserted ourselves."""
    for table in metadata.sorted_tables:
        sequence = func.pg_get_serial_sequence(table.name, "id")
        conn.execute(select(func.setval(sequence, func.coalesce(func.max(table.c.id), 1))))


def build_estate(urls: Mapping[str, str], *, people: int = 2000, seed: int = 7) -> None:
    """(Re)create every system's tables and fill them with `people` deterministic customers."""
    if people < len(FEATURED_PEOPLE):
        raise ValueError(f"people must be at least {len(FEATURED_PEOPLE)}")
    engines = {system: make_engine(urls[system]) for system in SYSTEMS}
    try:
        for system, engine in engines.items():
            _METADATA[system].drop_all(engine)
            _METADATA[system].create_all(engine)
        with ExitStack() as stack:
            conns = {system: stack.enter_context(e.begin()) for system, e in engines.items()}
            for batch in _people(people, seed):
                _insert(conns, batch)
            for system, conn in conns.items():
                if conn.dialect.name == "postgresql":
                    _resync_ids(conn, _METADATA[system])
    finally:
        for engine in engines.values():
            engine.dispose()
