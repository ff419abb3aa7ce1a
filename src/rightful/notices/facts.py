"""What Rightful holds to be true, gathered once for a check or a fill: the data map (datasets,
systems' declarations, partners, disclosures), the consent catalogue and the retention rules."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent.catalog import BUILT_IN
from rightful.consent.models import ConsentPurpose
from rightful.core.errors import NotFoundError
from rightful.inventory.models import Disclosure, Partner, System
from rightful.inventory.service import load_datasets
from rightful.notices.ccpa import covers
from rightful.rights.erasure import current_policy


@dataclass(frozen=True)
class Given:
    """One disclosure to a partner, as plain values."""

    partner: str
    partner_name: str
    role: str
    data_categories: tuple[str, ...]
    data_use: str
    sale: bool
    share: bool


@dataclass(frozen=True)
class Kept:
    """A period the company keeps a category for, and the rule that says so."""

    days: int | None  # None: nothing removes it (kept while the record exists)
    where: str


@dataclass
class Facts:
    """The truth a notice is held to."""

    # data category -> where it is held ("dataset storefront, customers.email")
    held: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sources: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    uses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # data category -> the declarations (their names) that use it: what sensitive data is for
    used_for: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    given: list[Given] = field(default_factory=list)
    partners: dict[str, str] = field(default_factory=dict)
    purposes: list[str] = field(default_factory=list)
    # data category -> how long each place keeps it; after a deletion request, what the
    # erasure policy keeps and for how long
    kept: dict[str, list[Kept]] = field(default_factory=lambda: defaultdict(list))
    kept_after_deletion: dict[str, Kept] = field(default_factory=dict)
    subjects: set[str] = field(default_factory=set)

    def held_under(self, notice_key: str) -> list[str]:
        """The held categories a notice category key covers."""
        return [c for c in self.held if covers(notice_key, c)]


def _add_datasets(session: Session, facts: Facts, schedules: dict[str, int]) -> None:
    for dataset in load_datasets(session):
        for coll in dataset.collections:
            keep = schedules.get(f"{dataset.key}.{coll.name}")
            for path, spec in coll.walk():
                for category in spec.data_categories:
                    if not category.startswith("user"):
                        continue
                    where = f"dataset {dataset.key}, {coll.name}.{path}"
                    facts.held[category].append(where)
                    facts.kept[category].append(Kept(keep, f"dataset {dataset.key}, {coll.name}"))


def _add_systems(session: Session, facts: Facts) -> None:
    for system in session.scalars(select(System).order_by(System.key)):
        for decl in system.declarations:
            name = decl.get("name") or decl.get("data_use", "")
            where = f"system {system.key}, declaration '{name}'"
            facts.uses[str(decl["data_use"])].append(where)
            facts.subjects.update(decl.get("data_subjects") or ["customer"])
            for source in decl.get("sources") or []:
                facts.sources[str(source)].append(where)
            for category in decl.get("data_categories") or []:
                facts.used_for[category].append(str(name))
                if where not in facts.held[category]:
                    facts.held[category].append(where)


def _add_disclosures(session: Session, facts: Facts) -> None:
    partners = {p.key: p for p in session.scalars(select(Partner))}
    facts.partners = {k: p.name for k, p in partners.items()}
    for d in session.scalars(select(Disclosure).order_by(Disclosure.id)):
        partner = partners[d.partner_key]
        facts.given.append(
            Given(
                d.partner_key,
                partner.name,
                partner.role,
                tuple(d.data_categories),
                d.data_use,
                d.is_sale,
                d.is_share,
            )
        )
        facts.uses[d.data_use].append(f"disclosure to partner {d.partner_key}")


def _retention(session: Session, facts: Facts) -> dict[str, int]:
    try:
        schedules = {
            s.collection: s.keep_days for s in current_policy(session, "retention").schedules
        }
    except NotFoundError:  # no retention schedule: nothing is removed by age
        schedules = {}
    try:
        rules = current_policy(session, "delete").rules
    except NotFoundError:
        rules = []
    for rule in rules:
        if rule.action == "retain" and rule.retain_days:
            for category in rule.categories:
                facts.kept_after_deletion[category] = Kept(
                    rule.retain_days, f"the erasure policy's rule for {category}"
                )
    return schedules


def gather(session: Session) -> Facts:
    """Everything a notice is checked against, read now."""
    facts = Facts()
    schedules = _retention(session, facts)
    _add_datasets(session, facts, schedules)
    _add_systems(session, facts)
    _add_disclosures(session, facts)
    built_in = {p.key for p in BUILT_IN}  # the law's choices, offered whatever the practice
    for purpose in session.scalars(select(ConsentPurpose).order_by(ConsentPurpose.position)):
        facts.purposes.append(purpose.key)
        if purpose.data_use and purpose.key not in built_in:
            facts.uses[purpose.data_use].append(f"consent purpose {purpose.key}")
    facts.held = dict(facts.held)
    return facts
