"""Small pools of plausible values that the server-side generator picks from by hash.

PostgreSQL walks a text array to reach an element, so the pools stay a few hundred long;
numbers, serials, dates and tokens are made per row in SQL, which keeps the rows varied.
"""

from __future__ import annotations

import re
from typing import Any

from faker import Faker

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

SIZE = 250
# First octets of public unicast ranges (no 10/8, 127/8, 172.16/12, 192.168/16 or multicast).
IP_FIRST_OCTETS = (
    23,
    24,
    31,
    45,
    50,
    63,
    64,
    66,
    68,
    69,
    71,
    73,
    74,
    76,
    96,
    98,
    99,
    104,
    107,
    108,
    142,
    151,
    162,
    173,
    174,
    184,
    185,
    198,
    203,
    208,
)
# Plausible area codes (no N11 service codes, no x9x), as in the demo generator.
AREA_CODES = [a for a in range(201, 990) if a % 100 != 11 and a // 10 % 10 != 9]


def _letters(value: str) -> str:
    return re.sub(r"[^a-z]", "", value.lower())


def pools(seed: int) -> dict[str, Any]:
    """Every pool, keyed by the SQL parameter name the generator uses."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    first = [fake.unique.first_name() for _ in range(SIZE)]
    last = [fake.unique.last_name() for _ in range(SIZE)]
    states = [
        fake.state_abbr(include_territories=False, include_freely_associated_states=False)
        for _ in range(SIZE)
    ]
    pairs = [(q, a) for q, answers in QUESTIONS for a in answers]
    return {
        "first": first,
        "first_key": [_letters(n) for n in first],
        "last": last,
        "last_key": [_letters(n) for n in last],
        "state": states,
        "zip3": [fake.zipcode_in_state(s)[:3] for s in states],
        "street": [fake.street_name() for _ in range(SIZE)],
        "city": [fake.city() for _ in range(SIZE)],
        "question": [q for q, _ in pairs],
        "answer": [a for _, a in pairs],
        "area": AREA_CODES,
        "domain": list(DOMAINS),
        "sku": [sku for sku, _, _ in CATALOG],
        "product": [name for _, name, _ in CATALOG],
        "price": [price for _, _, price in CATALOG],
        "model_part": [sku.split("-")[1] for sku, _, _ in CATALOG],
        "order_status": list(ORDER_STATUSES),
        "brand": list(BRANDS),
        "title": [fake.sentence(nb_words=5).rstrip(".") for _ in range(SIZE)],
        "review": [fake.paragraph(3) for _ in range(SIZE)],
        "subject": list(SUBJECTS),
        "agent_line": list(AGENT_LINES),
        "opening": [fake.sentence(nb_words=12) for _ in range(SIZE)],
        "reply": [fake.sentence() for _ in range(SIZE)],
        "topic": list(TOPICS),
        "source": list(SOURCES),
        "agent": [fake.user_agent() for _ in range(SIZE)],
        "octet": list(IP_FIRST_OCTETS),
    }
