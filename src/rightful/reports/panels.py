"""The morning view's panels that other capabilities fill: the privacy notice's age and check
(rightful.notices) and the Delete Request and Opt-out Platform's cycle (rightful.drop). Each
reads that capability's own functions; nothing here decides what they decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.drop.status import summary as drop_summary
from rightful.notices import service as notices
from rightful.security.permissions import Actor, Permission


@dataclass(frozen=True)
class Panel:
    """One capability's state in a line or two, with where to read more."""

    title: str
    state: str  # "ok" | "attention" | "off"
    headline: str
    href: str | None = None
    lines: tuple[str, ...] = ()
    more: str = "Read more"  # the link's text


def _age(days: int) -> str:
    """How long something has been so, in words: today, 1 day, 12 days."""
    return "today" if days <= 0 else "1 day" if days == 1 else f"{days} days"


def notice_panel(session: Session, settings: Settings, *, actor: Actor, today: date) -> Panel:
    """The privacy notice in force: since when, whether it is over 12 months old (California
    asks a yearly update) and whether its check against the data map passes."""
    title, href, more = "Privacy notice", "/admin/notices", "The notice's versions and check"
    version = notices.current(session)
    if version is None:
        return Panel(title, "attention", "No privacy notice is published yet.", href, more=more)
    since = version.effective_on
    headline = f"Version {version.number} is in force" + (
        f" since {since.isoformat()} ({_age((today - since).days)})." if since else "."
    )
    if not actor.can(Permission.INVENTORY_VIEW):  # the check reads the data map
        return Panel(title, "ok", headline, href, more=more)
    report = notices.check_version(session, settings, actor=actor)
    lines = [report.stale] if report.stale else []
    if report.mismatches:
        n = len(report.mismatches)
        lines.insert(
            0, f"Its check finds {n} thing{'s' if n != 1 else ''} the data map contradicts."
        )
    else:
        lines.insert(0, "Its check against the data map passes.")
    state = "attention" if report.mismatches or report.stale else "ok"
    return Panel(title, state, headline, href, tuple(lines), more)


def drop_panel(session: Session, settings: Settings) -> Panel:
    """The 45-day DROP cycle: when the last list came, when the next download is due (late
    needs attention), and where its work items stand (counts)."""
    title, href = "Delete Request and Opt-out Platform", "/admin/drop"
    more = "The DROP cycle and its lists"
    found = drop_summary(session, settings)
    if found.in_use and found.last_download_at is None:
        return Panel(
            title,
            "attention",
            "No DROP list has been downloaded yet: a registered data broker must download one "
            "at least every 45 days, so the first is due now.",
            href,
            more=more,
        )
    if found.last_download_at is None or found.next_due is None or found.days_left is None:
        return Panel(
            title,
            "off",
            "Not in use: the 45-day DROP clock applies to registered data brokers "
            "(RIGHTFUL_DROP_REGISTERED).",
            href,
            more=more,
        )
    days = found.days_left
    when = f"{-days} days ago" if days < 0 else "today" if days == 0 else f"in {days} days"
    lines = [f"{label}: {count}" for label, count in sorted(found.counts.items())]
    if found.bad_lines:
        lines.append(f"Lines of the list that could not be read: {found.bad_lines}")
    return Panel(
        title,
        "attention" if found.overdue else "ok",
        f"Last list downloaded on {found.last_download_at.date().isoformat()}; the next "
        f"download is due {found.next_due.isoformat()} ({when}).",
        href,
        tuple(lines),
        more,
    )
