"""The access package: JSON, one CSV per collection and a readable page, zipped and encrypted."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from rightful.connectors.base import Row
from rightful.inventory.specs import CollectionSpec, FieldSpec
from rightful.rights.values import plain
from rightful.security.vault import Vault

# Never disclosed, by law and for the person's own safety; the package says we hold them.
WITHHELD_PREFIXES = (
    "user.authorization",
    "user.government_id",
    "user.financial.bank_account",
    "user.financial.credit_card",
)
WITHHELD = "[held by us, not shown for your security]"

_PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_ISO_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$")


def readable(value: Any) -> str:
    """A value as a person reads it: `2023-07-24 12:00`, not `2023-07-24T12:00:00`."""
    text = str(value)
    found = _ISO_MOMENT.match(text)
    return f"{found.group(1)} {found.group(2)}" if found else text


_PAGES.filters["readable"] = readable


@dataclass
class PackageContent:
    """What goes into a package, before it is written."""

    records: dict[str, dict[str, list[Row]]] = field(default_factory=dict)
    withheld: list[dict[str, str]] = field(default_factory=list)
    by_category: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def is_withheld(spec: FieldSpec) -> bool:
    """True when a field's categories must never be disclosed."""
    return any(c.startswith(WITHHELD_PREFIXES) for c in spec.data_categories)


def _in_range(coll: CollectionSpec, row: Row, start: date | None, end: date | None) -> bool:
    if not coll.date_field or row.get(coll.date_field) is None:
        return True
    day = date.fromisoformat(str(row[coll.date_field])[:10])
    return (start is None or day >= start) and (end is None or day <= end)


def _sort_key(value: Any) -> tuple[int, float, str]:
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _group(spec: FieldSpec, names: Mapping[str, str]) -> str:
    cat = spec.data_categories[0] if spec.data_categories else "system"
    top = ".".join(cat.split(".")[:2])
    return names.get(top, top)


def assemble(
    found: Mapping[str, list[Row]],
    collections: Mapping[str, CollectionSpec],
    *,
    system_names: Mapping[str, str],
    category_names: Mapping[str, str],
    date_from: date | None,
    date_to: date | None,
) -> PackageContent:
    """Filter, withhold and group what the steps found."""
    content = PackageContent()
    for address in sorted(found):
        coll = collections[address]
        system = system_names.get(coll.dataset, coll.dataset)
        rows = []
        keys = [f.name for f in coll.fields if f.primary_key] or [coll.fields[0].name]
        # Stores return rows in any order; sorting by key makes every dialect's package alike.
        ordered = sorted(found[address], key=lambda r: tuple(_sort_key(r.get(k)) for k in keys))
        for raw in ordered:
            if not _in_range(coll, raw, date_from, date_to):
                continue
            row: Row = {}
            for spec in coll.fields:
                value = plain(raw.get(spec.name), spec.data_type)
                if is_withheld(spec) and value is not None:
                    value = WITHHELD
                row[spec.name] = value
                if value is not None and any(c.startswith("user") for c in spec.data_categories):
                    content.by_category.setdefault(_group(spec, category_names), []).append(
                        {
                            "system": system,
                            "collection": coll.name,
                            "field": spec.description or spec.name,
                            "value": value,
                        }
                    )
            rows.append(row)
        content.counts[address] = len(rows)
        if not rows:
            continue
        content.records.setdefault(system, {})[coll.name] = rows
        for spec in coll.fields:
            if is_withheld(spec) and any(r.get(spec.name) == WITHHELD for r in rows):
                content.withheld.append(
                    {
                        "system": system,
                        "collection": coll.name,
                        "field": spec.description or spec.name,
                    }
                )
    return content


def _csv(rows: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def render_zip(
    content: PackageContent,
    *,
    meta: dict[str, Any],
    template: str = "package.html",
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The zip: data.json, csv/<system>/<collection>.csv and index.html."""
    payload = {
        "request": meta,
        "data": content.records,
        "withheld": content.withheld,
        **(extra or {}),
    }
    page = _PAGES.get_template(template).render(meta=meta, content=content, extra=extra or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.html", page)
        zf.writestr("data.json", json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        for system, colls in content.records.items():
            for name, rows in colls.items():
                zf.writestr(f"csv/{system}/{name}.csv", _csv(rows))
        zf.writestr(
            "README.txt",
            "Open index.html in a browser to read your information.\n"
            "data.json and the csv folder hold the same information for other programs.\n",
        )
    return buf.getvalue()


def store(vault: Vault, directory: Path, request_id: str, data: bytes) -> str:
    """Encrypt and write the package; returns the file name. Safe to repeat."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{request_id}.zip.enc"
    tmp = directory / f"{name}.tmp"
    tmp.write_bytes(vault.encrypt(data))
    tmp.replace(directory / name)  # atomic: a crash never leaves half a package
    return name


def load(vault: Vault, directory: Path, name: str) -> bytes:
    """Decrypt a stored package."""
    return vault.decrypt((directory / name).read_bytes())
