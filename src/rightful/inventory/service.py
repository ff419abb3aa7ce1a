"""Apply, read and export the data map; all changes go through here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rightful.connectors import registry
from rightful.core.errors import InventoryError, NotFoundError
from rightful.core.urls import webhook_problem
from rightful.inventory import taxonomy
from rightful.inventory.erasability import check_overrides, erasure_notes
from rightful.inventory.lint import lint
from rightful.inventory.models import Dataset, Disclosure, Partner, System
from rightful.inventory.revision import SystemView, bump_revision
from rightful.inventory.schemas import ApplySummary, DisclosureIn, PartnerIn, SystemIn
from rightful.inventory.specs import DatasetSpec, dataset_from_document
from rightful.inventory.validation import Problem, check_format, check_graph, describe, problem
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require
from rightful.security.vault import Vault

SECTIONS = ("dataset", "system", "partner", "disclosure")


class _Parsed:
    def __init__(self) -> None:
        self.datasets: list[DatasetSpec] = []
        self.systems: list[SystemIn] = []
        self.partners: list[PartnerIn] = []
        self.disclosures: list[DisclosureIn] = []
        self.problems: list[Problem] = []


def _typed(
    model: type[BaseModel],
    raw: Any,
    file: str,
    section: str,
    out: list[Any],
    problems: list[Problem],
) -> None:
    try:
        out.append(model.model_validate(raw))
    except ValidationError as exc:
        key = raw.get("fides_key", raw.get("partner", "?")) if isinstance(raw, dict) else "?"
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"])
            problems.append(problem(f"{section} '{key}': {where}: {err['msg']}", file=file))


def _parse(files: list[tuple[str, str]]) -> _Parsed:
    import yaml  # when first used: the server's start does not wait for it

    parsed = _Parsed()
    for name, text in files:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            parsed.problems.append(problem(f"not valid YAML: {exc}", file=name))
            continue
        if not isinstance(doc, dict) or not set(doc) & set(SECTIONS):
            parsed.problems.append(
                problem("expected top-level keys dataset, system, partner or disclosure", file=name)
            )
            continue
        for raw in doc.get("dataset") or []:
            found = check_format(raw, file=name)
            parsed.problems += found
            if not found:
                parsed.datasets.append(dataset_from_document(raw, source_file=name))
        for section, model, bucket in (
            ("system", SystemIn, parsed.systems),
            ("partner", PartnerIn, parsed.partners),
            ("disclosure", DisclosureIn, parsed.disclosures),
        ):
            for raw in doc.get(section) or []:
                _typed(model, raw, name, section, bucket, parsed.problems)
    return parsed


def parse_datasets(files: list[tuple[str, str]]) -> list[DatasetSpec]:
    """The datasets in data-map files, or InventoryError naming every problem in them."""
    parsed = _parse(files)
    if parsed.problems:
        lines = "\n".join(describe(p) for p in parsed.problems)
        raise InventoryError(f"{len(parsed.problems)} problem(s).\n{lines}", errors=parsed.problems)
    return parsed.datasets


def load_datasets(session: Session) -> list[DatasetSpec]:
    """Every stored dataset as frozen specs."""
    return [
        dataset_from_document(d.document, source_file=d.source_file)
        for d in session.scalars(select(Dataset).order_by(Dataset.key))
    ]


def _check_links(session: Session, parsed: _Parsed, datasets: list[DatasetSpec]) -> list[Problem]:
    problems: list[Problem] = []
    categories = taxonomy.keys(session, "data_category")
    uses = taxonomy.keys(session, "data_use")
    partner_keys = {p.key for p in session.scalars(select(Partner))} | {
        p.fides_key for p in parsed.partners
    }
    dataset_keys = {d.key for d in datasets}
    for system in parsed.systems:
        if system.operated_by and system.operated_by not in partner_keys:
            problems.append(
                problem(
                    f"system '{system.fides_key}': unknown partner "
                    f"'{system.operated_by}' in operated_by"
                )
            )
        problems += [
            problem(f"system '{system.fides_key}': unknown dataset '{k}'")
            for k in system.dataset_references
            if k not in dataset_keys
        ]
        for decl in system.privacy_declarations:
            if decl.data_use not in uses:
                problems.append(
                    problem(f"system '{system.fides_key}': unknown data use '{decl.data_use}'")
                )
            problems += [
                problem(f"system '{system.fides_key}': unknown data category '{c}'")
                for c in decl.data_categories
                if c not in categories
            ]
    for disc in parsed.disclosures:
        if disc.partner not in partner_keys:
            problems.append(problem(f"disclosure: unknown partner '{disc.partner}'"))
        if disc.data_use not in uses:
            problems.append(
                problem(f"disclosure to '{disc.partner}': unknown data use '{disc.data_use}'")
            )
        problems += [
            problem(f"disclosure to '{disc.partner}': unknown data category '{c}'")
            for c in disc.data_categories
            if c not in categories
        ]
    return problems


def _check_webhooks(partners: list[PartnerIn], *, allow_http: bool) -> list[Problem]:
    """Erasure notices name the person: they go to https addresses only, unless allowed."""
    return [
        problem(f"partner '{p.fides_key}': erasure_webhook {why}")
        for p in partners
        if p.erasure_webhook and (why := webhook_problem(p.erasure_webhook, allow_http=allow_http))
    ]


def apply_files(
    session: Session,
    *,
    files: list[tuple[str, str]],
    actor: Actor,
    strict: bool = False,
    http_webhooks: bool = False,
) -> ApplySummary:
    """Validate the files together with what is stored, then save them all or nothing.

    Card and password rules (`inventory.lint`) are warnings in the summary, or, `strict`,
    problems that stop the apply. Partners' erasure webhooks must be https unless
    `http_webhooks` (demo mode, RIGHTFUL_ALLOW_HTTP_WEBHOOKS)."""
    require(actor, Permission.INVENTORY_MANAGE)
    parsed = _parse(files)
    stored = {d.key: d for d in load_datasets(session)}
    merged = list({**stored, **{d.key: d for d in parsed.datasets}}.values())
    problems = parsed.problems
    if not problems:
        problems = check_graph(merged, categories=taxonomy.keys(session, "data_category"))
        problems += _check_links(session, parsed, merged)
        problems += check_overrides(parsed.datasets)
        problems += _check_webhooks(parsed.partners, allow_http=http_webhooks)
    findings = lint(parsed.datasets)
    if strict and not problems:
        problems = [
            problem(
                f"{f.message} ({f.rule})", dataset=f.dataset, collection=f.collection, field=f.field
            )
            for f in findings
        ]
    if problems:
        lines = "\n".join(describe(p) for p in problems)
        raise InventoryError(
            f"The data map was not changed: {len(problems)} problem(s).\n{lines}", errors=problems
        )
    summary = _save(session, parsed, actor.name)
    summary.notes = erasure_notes(merged)
    summary.warnings = [str(f) for f in findings]
    return summary


def _save(session: Session, parsed: _Parsed, actor: str) -> ApplySummary:
    summary = ApplySummary()
    for p in parsed.partners:
        session.merge(
            Partner(
                key=p.fides_key,
                name=p.name,
                role=p.role,
                description=p.description,
                contact_email=p.contact_email,
                erasure_webhook=p.erasure_webhook,
            )
        )
        summary.partners.append(p.fides_key)
    session.flush()
    for d in parsed.datasets:
        session.merge(
            Dataset(key=d.key, name=d.name, document=d.document, source_file=d.source_file)
        )
        summary.datasets.append(d.key)
    for s in parsed.systems:
        row = session.get(System, s.fides_key) or System(key=s.fides_key)
        row.name, row.description, row.system_type = s.name, s.description, s.system_type
        row.operated_by, row.dataset_keys = s.operated_by, list(s.dataset_references)
        row.declarations = [d.model_dump() for d in s.privacy_declarations]
        row.connection_type = s.connection_type or row.connection_type
        row.owner = s.owner
        session.add(row)
        summary.systems.append(s.fides_key)
    for partner_key in {d.partner for d in parsed.disclosures}:
        session.execute(delete(Disclosure).where(Disclosure.partner_key == partner_key))
    for disc in parsed.disclosures:
        session.add(
            Disclosure(
                partner_key=disc.partner,
                data_categories=disc.data_categories,
                data_use=disc.data_use,
                is_sale=disc.sale,
                is_share=disc.share,
                description=disc.description,
            )
        )
        summary.disclosures += 1
    bump_revision(session)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="inventory.applied",
        subject_type="inventory",
        subject_id="data-map",
        detail=summary.model_dump(),
    )
    return summary


def set_connection(
    session: Session,
    vault: Vault,
    *,
    system_key: str,
    actor: Actor,
    url: str | None = None,
    kind: str = "sql",
    settings: Mapping[str, Any] | None = None,
) -> None:
    """Store a system's connection (a connector kind and its settings) sealed; it is never
    shown back. A bare `url` is the SQL kind's settings, as before."""
    require(actor, Permission.INVENTORY_MANAGE)
    system = session.get(System, system_key)
    if system is None:
        raise NotFoundError(f"There is no system '{system_key}' in the data map.")
    given = dict(settings or {})
    if url is not None:
        given.setdefault("url", url)
    registry.check_settings(kind, given)
    sealed_json = json.dumps({_MARKER: 1, "kind": kind, "settings": given})
    system.connection_type = kind
    system.connection_secret = vault.encrypt(sealed_json.encode()).decode()
    bump_revision(session)
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="system.connection_set",
        subject_type="system",
        subject_id=system_key,
        detail={"kind": kind},
    )


# Sealed connections are JSON carrying this marker (with its format's version); anything else
# is a connection URL stored before connector kinds had settings.
_MARKER = "rightful_connection"


def connection_settings(vault: Vault, system: System | SystemView) -> dict[str, Any] | None:
    """The decrypted settings of a system's connection, for connectors only."""
    if not system.connection_secret:
        return None
    plain = vault.decrypt(system.connection_secret.encode()).decode()
    if plain.startswith("{"):
        try:
            stored = json.loads(plain)
        except ValueError:
            stored = None
        if isinstance(stored, dict) and stored.get(_MARKER) == 1:
            return dict(stored.get("settings") or {})
    return {"url": plain}


def connection_url(vault: Vault, system: System | SystemView) -> str | None:
    """The decrypted connection URL of a SQL system, for connectors only."""
    found = connection_settings(vault, system)
    return str(found["url"]) if found and found.get("url") else None


def stored_datasets(session: Session, *, actor: Actor) -> list[DatasetSpec]:
    """The stored datasets, as staff read the data map (never secrets)."""
    require(actor, Permission.INVENTORY_VIEW)
    return load_datasets(session)


def summary(session: Session, *, actor: Actor) -> dict[str, Any]:
    """The whole data map for display: secrets are reported as set or not, never shown."""
    require(actor, Permission.INVENTORY_VIEW)
    systems = []
    for s in session.scalars(select(System).order_by(System.key)):
        systems.append(
            {
                "key": s.key,
                "name": s.name,
                "description": s.description,
                "operated_by": s.operated_by,
                "datasets": s.dataset_keys,
                "connection_type": s.connection_type,
                "connection_configured": bool(s.connection_secret),
                "owner": s.owner,
                "declarations": s.declarations,
            }
        )
    datasets = [
        {
            "key": d.key,
            "name": d.name,
            "collections": [{"name": c.name, "fields": len(list(c.walk()))} for c in d.collections],
        }
        for d in load_datasets(session)
    ]
    partners = [
        {"key": p.key, "name": p.name, "role": p.role}
        for p in session.scalars(select(Partner).order_by(Partner.key))
    ]
    disclosures = [
        {
            "partner": d.partner_key,
            "data_categories": d.data_categories,
            "data_use": d.data_use,
            "sale": d.is_sale,
            "share": d.is_share,
        }
        for d in session.scalars(select(Disclosure).order_by(Disclosure.id))
    ]
    return {
        "systems": systems,
        "datasets": datasets,
        "partners": partners,
        "disclosures": disclosures,
    }


def export_yaml(session: Session, *, actor: Actor) -> str:
    """The data map as one fideslang-compatible YAML document (no secrets)."""
    import yaml

    data = summary(session, actor=actor)
    doc = {
        "dataset": [d.document for d in load_datasets(session)],
        "system": [
            {
                "fides_key": s["key"],
                "name": s["name"],
                "description": s["description"],
                "operated_by": s["operated_by"],
                "dataset_references": s["datasets"],
                "connection_type": s["connection_type"],
                **({"owner": s["owner"]} if s["owner"] else {}),
                "privacy_declarations": s["declarations"],
            }
            for s in data["systems"]
        ],
        "partner": [
            {
                "fides_key": p.key,
                "name": p.name,
                "role": p.role,
                "description": p.description,
                "contact_email": p.contact_email,
            }
            for p in session.scalars(select(Partner).order_by(Partner.key))
        ],
        "disclosure": [
            {
                "partner": d["partner"],
                "data_categories": d["data_categories"],
                "data_use": d["data_use"],
                "sale": d["sale"],
                "share": d["share"],
            }
            for d in data["disclosures"]
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
