"""A small shop whose dataset is written the way the open-source peer's example is: some
collections without a primary key (a visit log found by e-mail, saved cards found by customer
id, order lines), a product table with no personal data, and a field-level masking override.

Written here for Rightful's tests; it follows the peer's shapes, not its text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text

from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.inventory import service as inventory
from rightful.inventory import taxonomy
from rightful.migrations import upgrade
from rightful.rights import flows, service
from rightful.rights.erasure import apply_policy
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.security.vault import Vault
from tests.support.app import latest_code

ALEX = {"email": "alex.rivera@example.com", "name": "Alex Rivera"}
SAM = {"email": "sam.okafor@example.com", "name": "Sam Okafor"}

DATASET = """
dataset:
  - fides_key: shop
    name: Shop database
    collections:
      - name: customer
        fields:
          - name: id
            data_categories: [user.unique_id]
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
          - name: name
            data_categories: [user.name]
            fides_meta: {data_type: string}
      - name: visit
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
          - name: last_visit
            data_categories: [system.operations]
      - name: payment_card
        fields:
          - name: customer_id
            data_categories: [user.unique_id]
            fides_meta:
              references: [{dataset: shop, field: customer.id, direction: from}]
          - name: card_number
            data_categories: [user.financial.credit_card]
          - name: code
            data_categories: [user.financial]
          - name: holder
            data_categories: [user.financial]
      - name: orders
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: customer_id
            data_categories: [user.unique_id]
            fides_meta:
              references: [{dataset: shop, field: customer.id, direction: from}]
      - name: order_item
        fields:
          - name: order_id
            data_categories: [system.operations]
            fides_meta:
              references: [{dataset: shop, field: orders.id, direction: from}]
          - name: product_id
            data_categories: [system.operations]
            fides_meta:
              references: [{dataset: shop, field: product.id, direction: to}]
          - name: quantity
            data_categories: [system.operations]
      - name: product
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: title
            data_categories: [system.operations]
      - name: employee
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
          - name: name
            data_categories: [user.name]
            fides_meta:
              masking_strategy_override:
                strategy: string_rewrite
                configuration: {rewrite_value: REDACTED}
system:
  - fides_key: shop
    name: Shop
    connection_type: sql
    dataset_references: [shop]
"""

# Rightful's default: every personal field no rule names is deleted with its row.
DELETE_ALL = """
policy:
  name: Delete everything personal
  request_type: delete
  rules:
    - categories: [user]
      action: delete
"""


def build_shop(url: str) -> None:
    """Create the shop's tables (no primary key where the dataset declares none) and rows."""
    meta = MetaData()
    tables = {
        "customer": Table(
            "customer",
            meta,
            Column("id", Integer, primary_key=True),
            Column("email", String(100)),
            Column("name", String(100)),
        ),
        "visit": Table(
            "visit", meta, Column("email", String(100)), Column("last_visit", String(30))
        ),
        "payment_card": Table(
            "payment_card",
            meta,
            Column("customer_id", Integer),
            Column("card_number", String(30)),
            Column("code", String(4)),
            Column("holder", String(100)),
        ),
        "orders": Table(
            "orders", meta, Column("id", Integer, primary_key=True), Column("customer_id", Integer)
        ),
        "order_item": Table(
            "order_item",
            meta,
            Column("order_id", Integer),
            Column("product_id", Integer),
            Column("quantity", Integer),
        ),
        "product": Table(
            "product", meta, Column("id", Integer, primary_key=True), Column("title", String(50))
        ),
        "employee": Table(
            "employee",
            meta,
            Column("id", Integer, primary_key=True),
            Column("email", String(100)),
            Column("name", String(100)),
        ),
    }
    rows: dict[str, list[dict[str, Any]]] = {
        "customer": [
            {"id": 1, "email": ALEX["email"], "name": ALEX["name"]},
            {"id": 2, "email": SAM["email"], "name": SAM["name"]},
        ],
        "visit": [
            {"email": ALEX["email"], "last_visit": "2026-11-02 10:00"},
            {"email": ALEX["email"], "last_visit": "2026-11-20 18:30"},
            {"email": SAM["email"], "last_visit": "2026-11-21 09:15"},
        ],
        "payment_card": [
            {"customer_id": 1, "card_number": "4111111111111111", "code": "123", "holder": "A R"},
            {"customer_id": 2, "card_number": "5500000000000004", "code": "456", "holder": "S O"},
        ],
        "orders": [{"id": 10, "customer_id": 1}, {"id": 11, "customer_id": 2}],
        "order_item": [
            {"order_id": 10, "product_id": 100, "quantity": 2},
            {"order_id": 11, "product_id": 100, "quantity": 1},
        ],
        "product": [{"id": 100, "title": "Smart plug"}],
        "employee": [{"id": 7, "email": "staff@shop.example", "name": "Pat Staff"}],
    }
    engine = create_engine(url)
    meta.create_all(engine)
    with engine.begin() as conn:
        for name, values in rows.items():
            conn.execute(insert(tables[name]), values)
    engine.dispose()


def count(url: str, sql: str, **params: Any) -> int:
    """One number from the shop's database."""
    engine = create_engine(url)
    with engine.connect() as conn:
        value = int(conn.execute(text(sql), params).scalar() or 0)
    engine.dispose()
    return value


def shop_runtime(
    settings: Settings, url: str, *, policy: str = DELETE_ALL, dataset: str = DATASET
) -> Runtime:
    """Rightful with the shop as its only system, the given erasure policy, and no partners."""
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    build_shop(url)
    with unit_of_work(runtime.sessions) as session:
        taxonomy.load_default(session)
    with unit_of_work(runtime.sessions) as session:
        inventory.apply_files(session, files=[("shop.yml", dataset)], actor=system_actor("test"))
        inventory.set_connection(
            session,
            Vault(settings, "connections"),
            system_key="shop",
            url=url,
            actor=system_actor("test"),
        )
        apply_policy(session, text=policy, actor=system_actor("test"))
    return runtime


def approved_deletion(runtime: Runtime, person: dict[str, str]) -> str:
    """A deletion request for `person`, verified with the e-mailed code and approved."""
    data = RequestIn(request_type="delete", **person)  # type: ignore[arg-type]
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client=None).id
    with unit_of_work(runtime.sessions) as session:
        flows.verify(
            session, runtime.settings, request_id=request_id, code=latest_code(runtime, request_id)
        )
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    return request_id


def sqlite_url(tmp_path: Path) -> str:
    """A file for the shop's SQLite database."""
    return f"sqlite:///{tmp_path}/shop.db"
