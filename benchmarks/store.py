"""Rightful's own store for the benchmark, its settings, and the people who ask for their data."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.databases import STORE, Server
from rightful.core.config import Settings
from rightful.core.runtime import Runtime, build_runtime
from rightful.demo.estate import SYSTEMS
from rightful.demo.setup import load_data_map
from rightful.migrations import upgrade


@dataclass(frozen=True)
class Person:
    """A customer of the estate, with what they type into the privacy center."""

    customer_id: int
    email: str
    name: str
    postal_code: str


def settings_values(server: Server, data_dir: Path) -> dict[str, Any]:
    """Settings for every benchmark process; plain values, so workers can rebuild them."""
    return {
        "database_url": server.url(STORE),
        "secret_key": secrets.token_urlsafe(48),
        "data_dir": data_dir,
        "require_approval": False,
        # One client sends every request; the limits guard a public form, not this load.
        "codes_per_client_per_hour": 1_000_000,
        "codes_per_identity_per_hour": 1_000_000,
        "requests_per_client_per_hour": 1_000_000,
        "requests_per_address_per_hour": 1_000_000,
    }


def prepare(server: Server, estate_url: str, values: dict[str, Any]) -> Runtime:
    """A fresh store: migrated, with the demo data map pointing every system at the estate."""
    server.recreate(STORE)
    runtime = build_runtime(Settings(**values))
    upgrade(runtime.engine)
    load_data_map(runtime, dict.fromkeys(SYSTEMS, estate_url))
    return runtime


def sample_people(conninfo: str, customers: int, count: int, seed: int = 2024) -> list[Person]:
    """`count` distinct random customers, with the name and billing ZIP they would give."""
    ids = random.Random(seed).sample(range(1, customers + 1), min(count, customers))
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT c.id, c.email, c.first_name || ' ' || c.last_name, a.postal_code "
            "FROM customers c JOIN addresses a ON a.customer_id = c.id AND a.kind = 'billing' "
            "WHERE c.id = ANY(%s)",
            (ids,),
        ).fetchall()
    by_id = {row[0]: Person(*row) for row in rows}
    return [by_id[i] for i in ids]
