"""What a rule pack says, as plain frozen values: periods, rights, appeals, regulators.

A pack is the rules of one law (the CCPA, the Texas act, the GDPR...) read from a versioned
data file in `laws/packs/`; every rule carries the section it comes from, so the console and
the docs can show where each number comes from. Loading and checking the files is `packs.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

KINDS = (
    "know_categories",
    "access",
    "portability",
    "delete",
    "correct",
    "opt_out_sale",
    "limit_sensitive",
)


class Count(StrEnum):
    """How a period is counted."""

    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    # Months as the EU counts them (Regulation 1182/71): same date in the last month, the
    # month's last day when it lacks that date, then the next working day.
    MONTHS = "months"


class RulesMode(StrEnum):
    """Which rules a request gets: its own law's, or the strictest of all for everyone."""

    PER_JURISDICTION = "per_jurisdiction"
    STRICTEST = "strictest"


@dataclass(frozen=True)
class Period:
    """A length of time as a law states it: 45 calendar days, 10 business days, 1 month."""

    amount: int
    count: Count

    def describe(self) -> str:
        """In words, e.g. '45 calendar days', '1 month'."""
        unit = {
            Count.CALENDAR_DAYS: "calendar day",
            Count.BUSINESS_DAYS: "business day",
            Count.MONTHS: "month",
        }[self.count]
        return f"{self.amount} {unit}{'' if self.amount == 1 else 's'}"

    def approx_days(self) -> float:
        """Its shortest possible length in calendar days, to compare periods of different
        units (a business week has 5 days in 7; the shortest month has 28 days)."""
        if self.count is Count.BUSINESS_DAYS:
            return self.amount * 7 / 5
        if self.count is Count.MONTHS:
            return self.amount * 28.0
        return float(self.amount)


@dataclass(frozen=True)
class Rule:
    """A deadline and where it comes from. `statutory` is False for the organisation's own
    practice where the law sets nothing (shown as such, never passed off as the law)."""

    period: Period
    cite: str
    statutory: bool = True
    note: str = ""


@dataclass(frozen=True)
class Extension:
    """The one further period the law allows, and on what conditions."""

    period: Period | None
    cite: str
    conditions: str = ""
    notice_within_first_period: bool = True
    reason_required: bool = True


@dataclass(frozen=True)
class Regulator:
    """Where a person may complain: the authority the law names."""

    name: str
    url: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Appeal:
    """Whether a person may appeal a refusal, by when, and how fast the answer must come.

    `window` None with `exists` means the law says only "a reasonable period"; the console
    and e-mails then show `window_note`. `regulator_on_denial` is whether the law requires a
    denied appeal to tell the person how to reach the regulator.
    """

    exists: bool
    cite: str = ""
    window: Period | None = None
    window_note: str = ""
    answer: Period | None = None
    answer_extension: Period | None = None
    regulator_on_denial: bool = False
    statutory: bool = True


@dataclass(frozen=True)
class Rights:
    """The request kinds the law grants (`KINDS` values) and where it grants them."""

    kinds: frozenset[str]
    cite: str

    def grants(self, kind: str) -> bool:
        """Whether the law grants this request kind."""
        return kind in self.kinds


class DeclarationNeed(StrEnum):
    """Whether a person signs a declaration under penalty of perjury before receiving specific
    pieces of information (a copy): the law requires it, it is the organisation's own practice
    where the law is silent (kept or dropped with RIGHTFUL_DECLARATION_PRACTICE), or it is not
    asked (the GDPR's proportionate checks)."""

    REQUIRED = "required"
    PRACTICE = "practice"
    NONE = "none"


@dataclass(frozen=True)
class Declaration:
    """A pack's rule on the signed declaration, and where it comes from."""

    need: DeclarationNeed
    cite: str
    note: str = ""

    @property
    def statutory(self) -> bool:
        """Whether the law itself decides it (required by it, or not asked under it)."""
        return self.need is not DeclarationNeed.PRACTICE

    def asked(self, keep_practice: bool) -> bool:
        """Whether the declaration is asked: the law requires it, or it is the organisation's
        practice and the organisation keeps that practice."""
        if self.need is DeclarationNeed.PRACTICE:
            return keep_practice
        return self.need is DeclarationNeed.REQUIRED


@dataclass(frozen=True)
class Place:
    """One jurisdiction a pack covers: its code, name, clock and public holidays."""

    code: str
    name: str
    timezone: str
    holidays_country: str
    holidays_subdivision: str | None = None
    regulator: Regulator | None = None  # where a shared pack's places differ (GDPR)


@dataclass(frozen=True)
class RulePack:
    """The rules of one law, from one versioned data file (see docs/jurisdictions.md)."""

    key: str
    law: str
    short: str
    version: str
    effective: date
    places: tuple[Place, ...]
    rights: Rights
    respond: Rule
    extension: Extension
    acknowledge: Rule
    opt_out: Rule
    appeal: Appeal
    regulator: Regulator | None
    free_requests_per_12_months: int | None
    free_requests_cite: str
    verification: str
    verification_cite: str
    declaration: Declaration
    notes: str = ""
    house: bool = False  # the organisation's own rules for places no listed law covers
    strictest_of: tuple[str, ...] = field(default=())  # set when built by strictest mode

    @property
    def label(self) -> str:
        """E.g. 'TDPSA (Texas Data Privacy and Security Act) 2026.1'."""
        return f"{self.short} {self.version}"
