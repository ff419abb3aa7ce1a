"""The yearly metrics of 11 CCR § 7102(a)(1): for each kind of request the regulation names,
how many were received in the calendar year, complied with in whole or in part, and denied
(split as § 7102(a)(2) allows), and the median and mean days to respond.

How they are counted (docs/reports.md says the same to readers):
- A request counts in the year it was received (the local date where its law applies), with
  its outcome as first answered, even when that answer came the next year.
- Days to respond are calendar days from receipt to the first substantive answer (complied
  with in whole or in part, or denied). An extended request counts all its days. A withdrawn
  request was never answered: it counts as received and withdrawn, not in the days.
- Scope: California consumers (`US-CA`) by default; `all` counts every request, as
  § 7102(b) allows when the disclosure says so.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_
from rightful.reports.facts import COMPLIED, RequestFacts, received_between
from rightful.rights.denial_basis import DenialBasis
from rightful.security.permissions import Actor, Permission, require

# The public page shows these in the reader's language (N_: translated where shown).
ROWS = {
    "know": N_("Requests to know"),
    "delete": N_("Requests to delete"),
    "correct": N_("Requests to correct"),
    "opt_out": N_("Requests to opt out of sale or sharing"),
    "limit": N_("Requests to limit the use of sensitive personal information"),
}
SCOPES = {"US-CA": N_("California consumers"), "all": N_("everyone, wherever they live")}
FIRST_YEAR = 2020  # the CCPA took effect on 1 January 2020


@dataclass
class TypeMetrics:
    """One row of the table: one kind of request in one year."""

    key: str
    label: str
    received: int = 0
    complied_in_whole: int = 0
    complied_in_part: int = 0
    denied: dict[DenialBasis, int] = field(default_factory=lambda: dict.fromkeys(DenialBasis, 0))
    withdrawn: int = 0
    open: int = 0
    days: list[int] = field(default_factory=list)

    @property
    def complied(self) -> int:
        """Complied with in whole or in part."""
        return self.complied_in_whole + self.complied_in_part

    @property
    def denied_total(self) -> int:
        """Denied, whatever the basis."""
        return sum(self.denied.values())

    @property
    def median_days(self) -> float | None:
        """Median calendar days to respond; None when nothing was answered."""
        return round(float(statistics.median(self.days)), 1) if self.days else None

    @property
    def mean_days(self) -> float | None:
        """Mean calendar days to respond, to one decimal; None when nothing was answered."""
        return round(statistics.fmean(self.days), 1) if self.days else None

    def add(self, facts: RequestFacts) -> None:
        """Count one request."""
        self.received += 1
        if facts.outcome == "completed":
            self.complied_in_whole += 1
        elif facts.outcome == "partially_completed":
            self.complied_in_part += 1
        elif facts.outcome == "denied":
            self.denied[facts.denial_basis or DenialBasis.OTHER] += 1
        elif facts.outcome == "withdrawn":
            self.withdrawn += 1
        else:
            self.open += 1
        if facts.outcome in COMPLIED | {"denied"} and facts.days_to_respond is not None:
            self.days.append(facts.days_to_respond)


@dataclass(frozen=True)
class YearMetrics:
    """The metrics of one calendar year, in the regulation's order."""

    year: int
    scope: str
    rows: list[TypeMetrics]
    counted_on: date  # the day they were compiled: later answers can change open counts

    @property
    def scope_label(self) -> str:
        """Whose requests these are, in words."""
        return SCOPES[self.scope]


def check_period(year: int, scope: str, today: date) -> None:
    """Refuse a year before the CCPA or after this one, or a scope not offered."""
    if not FIRST_YEAR <= year <= today.year:
        raise InvalidInputError(f"Choose a year from {FIRST_YEAR} to {today.year}.")
    if scope not in SCOPES:
        raise InvalidInputError(f"Choose the scope: {', '.join(SCOPES)}.")


def compile_year(session: Session, *, year: int, scope: str = "US-CA", today: date) -> YearMetrics:
    """The metrics of `year` for `scope` ("US-CA" or "all"); InvalidInputError otherwise."""
    check_period(year, scope, today)
    places: Iterable[str] | None = None if scope == "all" else [scope]
    rows = {key: TypeMetrics(key, label) for key, label in ROWS.items()}
    for facts in received_between(
        session, date(year, 1, 1), date(year, 12, 31), jurisdictions=places
    ):
        if facts.reported_as in rows:
            rows[facts.reported_as].add(facts)
    return YearMetrics(year=year, scope=scope, rows=list(rows.values()), counted_on=today)


CSV_COLUMNS = (
    "year",
    "scope",
    "request_kind",
    "received",
    "complied_in_whole",
    "complied_in_part",
    "complied_in_whole_or_part",
    "denied",
    *(f"denied_{b.value}" for b in DenialBasis),
    "withdrawn",
    "not_yet_answered",
    "median_days_to_respond",
    "mean_days_to_respond",
)


def to_csv(metrics: YearMetrics) -> str:
    """The year's metrics as CSV, one row per kind of request."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in metrics.rows:
        writer.writerow(
            [
                metrics.year,
                metrics.scope,
                r.key,
                r.received,
                r.complied_in_whole,
                r.complied_in_part,
                r.complied,
                r.denied_total,
                *(r.denied[b] for b in DenialBasis),
                r.withdrawn,
                r.open,
                "" if r.median_days is None else r.median_days,
                "" if r.mean_days is None else r.mean_days,
            ]
        )
    return out.getvalue()


def metrics_for_staff(
    session: Session, *, actor: Actor, year: int, scope: str, today: date
) -> YearMetrics:
    """The metrics for the console, the API and the CLI (the public page needs no actor:
    counts are no one's personal data)."""
    require(actor, Permission.REQUESTS_VIEW)
    return compile_year(session, year=year, scope=scope, today=today)
