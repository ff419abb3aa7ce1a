"""The morning view's panels that other capabilities fill: the privacy notice's age and check
(`rightful.notices`) and the Delete Request and Opt-out Platform cycle (`rightful.drop`).

Each is one clearly named hook ("module:function", called with the session and settings).
Until its capability is installed the panel says so. DROP's summary is read field by field;
the notice's may return a `Panel`, or a mapping or object with `state`, `headline` and
optionally `lines` and `href`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from rightful.core.config import Settings

# Where each capability's summary lives: "module:function", called as function(session, settings).
NOTICE_HOOK = "rightful.notices.status:summary"
DROP_HOOK = "rightful.drop.status:summary"


@dataclass(frozen=True)
class Panel:
    """One capability's state in a line or two, with where to read more."""

    title: str
    state: str  # "ok" | "attention" | "not_set_up" | "off"
    headline: str
    href: str | None = None
    lines: tuple[str, ...] = ()


def _summary(path: str) -> Callable[[Session, Settings], Any] | None:
    module, _, name = path.partition(":")
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:  # not installed yet: only a missing module is expected
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise
    function: Callable[[Session, Settings], Any] | None = getattr(found, name, None)
    return function


def _as_panel(title: str, value: Any, href: str | None) -> Panel:
    """Read a capability's summary: a Panel-like object or a mapping with `state`, `headline`
    and optionally `lines` and `href`; anything else is shown as its text."""
    if isinstance(value, Panel):
        return value
    get = value.get if isinstance(value, dict) else lambda key, d=None: getattr(value, key, d)
    headline = get("headline") or get("message")
    if headline is None:
        return Panel(title, "ok", str(value), href)
    lines = tuple(str(line) for line in (get("lines") or ()))
    return Panel(title, str(get("state") or "ok"), str(headline), get("href") or href, lines)


def _panel(
    path: str, title: str, missing: str, href: str, session: Session, settings: Settings
) -> Panel:
    summary = _summary(path)
    if summary is None:
        return Panel(title, "not_set_up", missing)
    return _as_panel(title, summary(session, settings), href)


def notice_panel(session: Session, settings: Settings) -> Panel:
    """The privacy notice: its age (California asks a yearly update) and whether it still
    agrees with the data map. Fills from rightful.notices.status.summary once it exists."""
    return _panel(
        NOTICE_HOOK,
        "Privacy notice",
        "Not set up: Rightful does not keep the privacy notice yet; its age and check show here.",
        "/admin/notices",
        session,
        settings,
    )


def drop_panel(session: Session, settings: Settings) -> Panel:
    """The Delete Request and Opt-out Platform's 45-day cycle (California's DROP), from
    rightful.drop.status.summary: when the last list came, when the next is due, and where
    its work items stand (counts)."""
    title = "Delete Request and Opt-out Platform"
    summary = _summary(DROP_HOOK)
    if summary is None:
        return Panel(title, "not_set_up", "Not set up: Rightful does not read DROP's lists.")
    found = summary(session, settings)
    if getattr(found, "last_download_at", None) is None:
        return Panel(
            title,
            "off",
            "Not in use: no DROP list has been imported. A registered data broker must "
            "download one at least every 45 days.",
        )
    days = int(found.days_left)
    when = f"{-days} days ago" if days < 0 else "today" if days == 0 else f"in {days} days"
    lines = [f"{label}: {count}" for label, count in sorted(dict(found.counts).items())]
    if found.bad_lines:
        lines.append(f"Lines of the list that could not be read: {found.bad_lines}")
    return Panel(
        title,
        "attention" if found.overdue else "ok",
        f"Last list downloaded on {found.last_download_at.date().isoformat()}; the next "
        f"download is due {found.next_due.isoformat()} ({when}).",
        lines=tuple(lines),
    )
