"""The right to know categories, answered from the data map alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.inventory import taxonomy
from rightful.inventory.models import Disclosure, Partner, System
from rightful.inventory.service import load_datasets

ROLE_LABELS = {
    "affiliate": "Our affiliated companies",
    "service_provider": "Service providers",
    "contractor": "Contractors",
    "third_party": "Third parties",
}


def _top(key: str) -> str:
    return ".".join(key.split(".")[:2])


def categories_report(session: Session) -> dict[str, Any]:
    """Categories collected, sources, purposes, and categories of partners with sale/share."""
    cat_names = taxonomy.names(session, "data_category")
    use_names = taxonomy.names(session, "data_use")
    collected: set[str] = set()
    for ds in load_datasets(session):
        for coll in ds.collections:
            for _, spec in coll.walk():
                collected.update(_top(c) for c in spec.data_categories if c.startswith("user"))
    sources: set[str] = set()
    purposes: set[str] = set()
    for system in session.scalars(select(System)):
        for decl in system.declarations:
            collected.update(
                _top(c) for c in decl.get("data_categories", []) if c.startswith("user")
            )
            sources.update(decl.get("sources", []))
            purposes.add(use_names.get(decl["data_use"], decl["data_use"]))
    partners = {p.key: p for p in session.scalars(select(Partner))}
    recipients: dict[str, dict[str, Any]] = {}
    for disc in session.scalars(select(Disclosure)):
        role = partners[disc.partner_key].role
        entry = recipients.setdefault(
            role,
            {
                "label": ROLE_LABELS.get(role, role),
                "categories": set(),
                "sold": False,
                "shared": False,
            },
        )
        entry["categories"].update(cat_names.get(_top(c), _top(c)) for c in disc.data_categories)
        entry["sold"] |= disc.is_sale
        entry["shared"] |= disc.is_share
    return {
        "categories": sorted(cat_names.get(c, c) for c in collected),
        "sources": sorted(sources),
        "purposes": sorted(purposes),
        "recipients": [
            {**v, "categories": sorted(v["categories"])} for _, v in sorted(recipients.items())
        ],
        "sold": any(v["sold"] for v in recipients.values()),
        "shared": any(v["shared"] for v in recipients.values()),
    }
