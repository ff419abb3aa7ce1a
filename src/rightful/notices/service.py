"""Draft, publish, read, compare and check privacy notice versions: every change goes through
here, with its audit event."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rightful.consent.models import ConsentPurpose
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError, NotFoundError
from rightful.notices import blocks as notice_blocks
from rightful.notices.blocks import Block, Segment
from rightful.notices.check import check
from rightful.notices.facts import Facts, gather
from rightful.notices.fill import fill
from rightful.notices.mismatch import Mismatch
from rightful.notices.models import NoticeVersion
from rightful.notices.render import Names, to_markdown
from rightful.notices.tell import tell_of_change
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require

STALE_AFTER = timedelta(days=365)  # California: updated at least once every 12 months


@dataclass(frozen=True)
class Prepared:
    """A source with its blocks filled and written out."""

    segments: list[Segment]
    markdown: str
    facts: Facts

    @property
    def blocks(self) -> list[Block]:
        """Only the blocks."""
        return notice_blocks.blocks_of(self.segments)


@dataclass(frozen=True)
class CheckReport:
    """A version's check: its mismatches and whether it is too old."""

    version: NoticeVersion
    mismatches: list[Mismatch]
    stale: str | None

    @property
    def passed(self) -> bool:
        """True when the notice says nothing the data map contradicts."""
        return not self.mismatches


def _names(session: Session, settings: Settings, facts: Facts) -> Names:
    titles = {
        p.key: f"Cookies: {p.title}" if p.kind == "cookies" else p.title
        for p in session.scalars(select(ConsentPurpose).order_by(ConsentPurpose.position))
    }
    return Names(
        partners=dict(facts.partners),
        purposes=titles,
        privacy_center=settings.base_url.rstrip("/") + "/",
        email=settings.privacy_email,
        postal_address=settings.postal_address,
    )


def prepare(session: Session, settings: Settings, source: str) -> Prepared:
    """Parse a source, fill its empty blocks from what Rightful holds now, write it out."""
    segments = notice_blocks.parse(source)
    facts = gather(session)
    filled = fill(session, segments, facts, settings)
    return Prepared(filled, to_markdown(filled, _names(session, settings, facts)), facts)


def stored_blocks(version: NoticeVersion) -> list[Block]:
    """A published version's blocks, as filled when it was published."""
    return [Block(b["kind"], b["arg"], b["line"], b["body"], b["filled"]) for b in version.blocks]


def _as_json(blocks: list[Block]) -> list[dict[str, Any]]:
    return [
        {"kind": b.kind, "arg": b.arg, "line": b.line, "body": b.body, "filled": b.filled}
        for b in blocks
    ]


def _draft(session: Session) -> NoticeVersion | None:
    return session.scalar(select(NoticeVersion).where(NoticeVersion.status == "draft"))


def latest(session: Session) -> NoticeVersion | None:
    """The newest published version, in force or taking effect later; None before the first."""
    stmt = select(NoticeVersion).where(NoticeVersion.status == "published")
    return session.scalar(stmt.order_by(NoticeVersion.number.desc()).limit(1))


def current(session: Session, today: date | None = None) -> NoticeVersion | None:
    """The published version in force: the newest whose effective date has come (before any
    has, the first one published); None before the first."""
    today = today or utcnow().date()
    rows = published_versions(session)
    in_force = [r for r in rows if r.effective_on is None or r.effective_on <= today]
    return in_force[0] if in_force else (rows[-1] if rows else None)


def upcoming(session: Session) -> NoticeVersion | None:
    """A published version that takes effect later than the one in force, if any."""
    newest, now = latest(session), current(session)
    return newest if newest is not None and now is not None and newest is not now else None


def published_versions(session: Session) -> list[NoticeVersion]:
    """Every published version, newest first: what the public may read."""
    stmt = select(NoticeVersion).where(NoticeVersion.status == "published")
    return list(session.scalars(stmt.order_by(NoticeVersion.number.desc())))


def published(session: Session, number: int) -> NoticeVersion | None:
    """A published version by number (None for a draft or no such version)."""
    row = session.get(NoticeVersion, number)
    return row if row is not None and row.status == "published" else None


def draft(session: Session, settings: Settings, *, source: str, actor: Actor) -> NoticeVersion:
    """Save `source` as the draft (replacing an earlier draft); it must parse and fill."""
    require(actor, Permission.POLICIES_MANAGE)
    prepared = prepare(session, settings, source)
    row = _draft(session)
    if row is None:
        number = (session.scalar(select(func.max(NoticeVersion.number))) or 0) + 1
        row = NoticeVersion(number=number, status="draft", created_by=actor.name)
        session.add(row)
    row.source, row.rendered = source, prepared.markdown
    row.blocks = _as_json(prepared.blocks)
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="notice.drafted",
        subject_type="notice",
        subject_id=str(row.number),
        detail={"number": row.number},
    )
    return row


def publish(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    material: bool,
    summary: str = "",
    effective_on: date | None = None,
) -> NoticeVersion:
    """Publish the draft, refilled from the data map now, if it is true to it. Last-updated
    moves only with a material change, which also e-mails the people who asked to hear."""
    require(actor, Permission.POLICIES_MANAGE)
    row = _draft(session)
    if row is None:
        raise NotFoundError("There is no draft to publish: `rightful notices draft FILE` first.")
    prepared = prepare(session, settings, row.source)
    found = check(prepared.blocks, prepared.facts, settings)
    if found:
        lines = "; ".join(m.message for m in found[:5])
        raise InvalidInputError(
            f"The draft is not true to the data map ({len(found)} mismatch(es)): {lines} "
            "See `rightful notices check --draft`.",
            errors=[{"field": m.block, "message": m.message} for m in found],
        )
    before = latest(session)
    if material and before is not None and not summary.strip():
        raise InvalidInputError(
            "Say what changed (--summary): the people told of a material change read it.",
            errors=[{"field": "summary", "message": "Required for a material change."}],
        )
    effective = effective_on or utcnow().date()
    if before and before.effective_on and effective < before.effective_on:
        raise InvalidInputError(
            f"The new version cannot take effect before the one in force ({before.effective_on})."
        )
    row.rendered, row.blocks = prepared.markdown, _as_json(prepared.blocks)
    row.material, row.change_summary = material or before is None, summary.strip()
    row.effective_on = effective
    keep = before.last_updated_on if before and not row.material else None
    row.last_updated_on = keep or effective
    if row.material and before is not None:  # queued with the publishing, in one transaction
        row.told = tell_of_change(session, settings, row)
    row.status, row.published_at, row.published_by = "published", utcnow(), actor.name
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="notice.published",
        subject_type="notice",
        subject_id=str(row.number),
        detail={"number": row.number, "material": row.material, "told": row.told},
    )
    return row


def versions(session: Session, *, actor: Actor) -> list[NoticeVersion]:
    """Every version, newest first."""
    require(actor, Permission.INVENTORY_VIEW)
    return list(session.scalars(select(NoticeVersion).order_by(NoticeVersion.number.desc())))


def get(session: Session, number: int, *, actor: Actor) -> NoticeVersion:
    """One version by its number."""
    require(actor, Permission.INVENTORY_VIEW)
    row = session.get(NoticeVersion, number)
    if row is None:
        raise NotFoundError(f"There is no notice version {number}.")
    return row


def diff(session: Session, a: int, b: int, *, actor: Actor) -> str:
    """The change from version `a` to `b`, line by line, as a unified diff of their text."""
    old, new = get(session, a, actor=actor), get(session, b, actor=actor)
    lines = difflib.unified_diff(
        old.rendered.splitlines(),
        new.rendered.splitlines(),
        fromfile=f"version {a}",
        tofile=f"version {b}",
        lineterm="",
    )
    return "\n".join(lines)


def stale(version: NoticeVersion | None, today: date | None = None) -> str | None:
    """A warning when the version in force took effect more than 12 months ago."""
    if version is None or version.effective_on is None:
        return None
    today = today or utcnow().date()
    if today - version.effective_on <= STALE_AFTER:
        return None
    return (
        f"The privacy notice in force took effect on {version.effective_on}, more than 12 months "
        "ago. California asks for it to be reviewed and updated at least once a year."
    )


def check_version(
    session: Session, settings: Settings, *, actor: Actor, number: int | None = None
) -> CheckReport:
    """Check a version (default: the one in force) against what Rightful holds now. A draft
    is filled afresh; a published version is checked as it was published."""
    require(actor, Permission.INVENTORY_VIEW)
    row = get(session, number, actor=actor) if number is not None else current(session)
    if row is None:
        raise NotFoundError("No privacy notice is published yet: `rightful notices publish`.")
    if row.status == "draft":
        prepared = prepare(session, settings, row.source)
        found = check(prepared.blocks, prepared.facts, settings)
    else:
        found = check(stored_blocks(row), gather(session), settings)
    newest = latest(session)  # a reviewed version published ahead counts as the update
    return CheckReport(row, found, stale(newest) if row is current(session) else None)


def check_all(session: Session, settings: Settings, *, actor: Actor) -> list[CheckReport]:
    """Every version with its check against what Rightful holds now, newest first."""
    rows = versions(session, actor=actor)
    facts = gather(session)
    newest, now = latest(session), current(session)
    out = []
    for row in rows:
        if row.status == "draft":
            prepared = prepare(session, settings, row.source)
            found = check(prepared.blocks, prepared.facts, settings)
        else:
            found = check(stored_blocks(row), facts, settings)
        out.append(CheckReport(row, found, stale(newest) if row is now else None))
    return out


def drift(session: Session, settings: Settings) -> list[str]:
    """What a data-map change just made untrue in the notice in force, and in one published
    to take effect later (for apply's result)."""
    facts = gather(session)
    out = []
    for row in (current(session), upcoming(session)):
        if row is None:
            continue
        out += [
            f"The published privacy notice (version {row.number}) is no longer true: "
            f"{m.message} {m.fix}"
            for m in check(stored_blocks(row), facts, settings)
        ]
    return out


@dataclass(frozen=True)
class PublicState:
    """What every privacy-center page needs: whether a notice is published (for the link to
    it) and the material change it still announces, if any (its date)."""

    published: bool
    changed_on: date | None


def public_state(session: Session, settings: Settings) -> PublicState:
    """One read of the version in force, for the privacy center's pages. A material change is
    announced for `notice_banner_days` from the day it took effect (or was published, if
    later)."""
    row = current(session)
    if row is None:
        return PublicState(False, None)
    if not row.material or row.number == 1 or row.published_at is None:  # the first: no change
        return PublicState(True, None)
    start = max(row.published_at.date(), row.effective_on or row.published_at.date())
    shown = (utcnow().date() - start).days < max(settings.notice_banner_days, 0)
    return PublicState(True, row.effective_on if shown else None)
