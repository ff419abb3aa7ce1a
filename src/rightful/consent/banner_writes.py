"""Writing checked banner answers (one, or a batch from consent.js) with a fixed number of
statements, whatever their number: the browsers made or found in one statement, every explicit
state they (and the people they are linked to) hold read in one with the catalogue's revision,
and every event, state and suppression change written in one (consent/appending.py).

It records what `ledger.record` and `ledger.honour_gpc` would, answer after answer (a choice
that repeats the current one is not written again; a GPC signal first, then the choices; a
linked person gets the browser's opt-outs), and works out where each visitor now stands from
what it read and wrote, without reading it back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, any_, bindparam, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from rightful.consent import appending, catalog, change_feed, propagation, snapshot, subjects
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.ledger import Choice, Collected, kinds_of
from rightful.consent.models import ConsentEvent, ConsentState, ConsentSubject
from rightful.core.clock import utcnow
from rightful.core.config import Settings

if TYPE_CHECKING:
    from rightful.consent.banner import Answer, BannerConfig

__all__ = ["Checked", "Written", "write", "write_choices"]

_STATES = ConsentState.__table__
_EXPLICIT = select(
    snapshot.revision_column(),
    _STATES.c.subject_id,
    _STATES.c.purpose,
    _STATES.c.channel,
    _STATES.c.state,
).select_from(select(literal(1).label("one")).subquery("one"))
_EXPLICIT_BY_DIALECT = {
    # An array on PostgreSQL, not an expanding IN: the text stays the same whatever the number
    # of subjects, so it is compiled once and PostgreSQL can prepare it.
    "postgresql": _EXPLICIT.outerjoin(
        _STATES, _STATES.c.subject_id == any_(bindparam("ids", type_=ARRAY(String)))
    ),
    "other": _EXPLICIT.outerjoin(
        _STATES, _STATES.c.subject_id.in_(bindparam("ids", expanding=True))
    ),
}
States = dict[str, dict[tuple[str, str], str]]  # subject id → (purpose, channel) → state


@dataclass(frozen=True)
class Checked:
    """An answer checked against its banner: what to record."""

    answer: Answer
    config: BannerConfig
    choices: list[Choice]
    opt_outs: list[Choice]  # of `choices`, those recorded for a linked person too


@dataclass(frozen=True)
class Written:
    """What recording one answer wrote, and its browser's explicit states (with its person's)
    just after."""

    device: ConsentSubject
    events: list[ConsentEvent]
    own: frozenset[tuple[str, str]]  # what the browser chose itself
    family: dict[tuple[str, str], list[str]]  # the browser's and its person's states


def write(
    session: Session, settings: Settings, items: list[Checked], read_in: list[dict[str, str]]
) -> tuple[list[Written], snapshot.Catalogue]:
    """Record checked answers (`read_in`: each one's proof fields besides the action and
    mode); flushes only. Returns what each wrote, and the catalogue they were checked with."""
    devices = subjects.devices(session, settings, [i.answer.device_id for i in items])
    people = _people(session, devices)
    chosen = [c for i in items for c in i.choices]
    kinds, confirmed, states = _read(session, chosen, [*devices, *people.values()])
    plan = _Plan(settings, states, utcnow())
    written = []
    for item, device, proof in zip(items, devices, read_in, strict=True):
        person = people.get(device.person_id or "")
        start = len(plan.events)
        if item.answer.gpc_source:
            plan.gpc(confirmed, device, person, item.config.jurisdiction, item.answer.gpc_source)
        if item.choices:
            collected = Collected(
                interface=Interface.BANNER,
                jurisdiction=item.config.jurisdiction,
                notice_version=item.config.notice_version,
                proof={"action": item.answer.action, "mode": item.config.mode.value, **proof},
            )
            plan.add(device, item.choices, collected)
            if item.opt_outs and person is not None:
                plan.add(
                    person,
                    item.opt_outs,
                    replace(collected, proof={**collected.proof, "device": device.id}),
                )
        mine = [e for _, e in plan.events[start:]]
        written.append(Written(device, mine, *plan.family(device)))
    plan.write(session, kinds, confirmed)
    return written, confirmed


def write_choices(
    session: Session,
    settings: Settings,
    items: list[tuple[ConsentSubject, list[Choice], Collected]],
) -> list[list[ConsentEvent]]:
    """`ledger.record` for several subjects' choices (of one request or of several, in order;
    choices already checked against the catalogue), in the same statements as banner answers;
    flushes only. Returns the events each item wrote: those that change something."""
    chosen = [c for _, choices, _ in items for c in choices]
    kinds, confirmed, states = _read(session, chosen, [s for s, _, _ in items])
    plan = _Plan(settings, states, utcnow())
    written = []
    for subject, choices, collected in items:
        start = len(plan.events)
        plan.add(subject, choices, collected)
        written.append([e for _, e in plan.events[start:]])
    plan.write(session, kinds, confirmed)
    return written


def _people(session: Session, devices: list[ConsentSubject]) -> dict[str, ConsentSubject]:
    """The people linked browsers belong to (a statement only when some are linked)."""
    ids = {d.person_id for d in devices if d.person_id}
    if not ids:
        return {}
    found = session.scalars(select(ConsentSubject).where(ConsentSubject.id.in_(ids)))
    return {p.id: p for p in found}


def _read(
    session: Session, chosen: list[Choice], subjects_: Iterable[ConsentSubject]
) -> tuple[dict[str, str], snapshot.Catalogue, States]:
    """Each purpose's kind, the catalogue confirmed current (the process's copy, unless the
    revision read says it changed) and the subjects' explicit states: one statement."""
    ids = list(dict.fromkeys(s.id for s in subjects_))
    dialect = session.get_bind().dialect.name
    explicit = _EXPLICIT_BY_DIALECT["postgresql" if dialect == "postgresql" else "other"]
    rows = session.execute(explicit, {"ids": ids}).all()
    confirmed = snapshot.at(session, rows[0][0])
    kinds_of(confirmed, chosen)  # still offered, or a clear error
    states: States = {i: {} for i in ids}
    for _, subject_id, purpose, channel, state in rows:
        if purpose is not None:
            states[subject_id][(purpose, channel)] = state
    return {k: p.kind for k, p in confirmed.purposes.items()}, confirmed, states


class _Plan:
    """The events to write, in order, and the states they leave."""

    def __init__(self, settings: Settings, states: States, now: datetime) -> None:
        self.settings, self.states, self.now = settings, states, now
        self.events: list[tuple[ConsentSubject, ConsentEvent]] = []

    def add(self, subject: ConsentSubject, choices: list[Choice], collected: Collected) -> None:
        """`ledger.record`'s events: the choices that change something."""
        current = self.states.setdefault(subject.id, {})
        for c in choices:
            if current.get((c.purpose, c.channel)) == c.state.value:
                continue
            current[(c.purpose, c.channel)] = c.state.value
            self.events.append((subject, self._event(subject, c, collected)))

    def gpc(
        self,
        known: snapshot.Catalogue,
        device: ConsentSubject,
        person: ConsentSubject | None,
        jurisdiction: str,
        source: str,
    ) -> None:
        """`ledger.honour_gpc`'s events for a browser and the person it belongs to."""
        collected = Collected(
            interface=Interface.GPC, jurisdiction=jurisdiction, proof={"signal": source}
        )
        offered = [
            Choice(p, ch, State.WITHDRAWN)
            for p, ch in catalog.GPC_OPT_OUTS
            if p in known.purposes and ch in known.purposes[p].channels
        ]
        self.add(device, offered, collected)
        if person is not None:
            self.add(person, [c for c in offered if c.channel == Channel.ALL], collected)

    def write(self, session: Session, kinds: dict[str, str], known: snapshot.Catalogue) -> None:
        """Every planned event, state and suppression change in one statement (PostgreSQL),
        and the destinations to tell."""
        if not self.events:
            return
        announce = change_feed.wanted(session, self.settings)
        pairs = [(s, [e]) for s, e in self.events]
        appending.append_many(session, pairs, kinds, announce=announce)
        propagation.enqueue(session, [e for _, e in self.events], known.routes)

    def family(
        self, device: ConsentSubject
    ) -> tuple[frozenset[tuple[str, str]], dict[tuple[str, str], list[str]]]:
        """As `state.family_states`, from what was read and planned."""
        own = self.states.get(device.id, {})
        found: dict[tuple[str, str], list[str]] = {k: [v] for k, v in own.items()}
        for key, value in self.states.get(device.person_id or "", {}).items():
            found.setdefault(key, []).append(value)
        return frozenset(own), found

    def _event(self, subject: ConsentSubject, c: Choice, collected: Collected) -> ConsentEvent:
        return ConsentEvent(
            uid=uuid.uuid4().hex,
            subject_id=subject.id,
            purpose=c.purpose,
            channel=c.channel,
            state=c.state.value,
            interface=collected.interface.value,
            notice_version=collected.notice_version or self.settings.notice_version,
            jurisdiction=collected.jurisdiction or self.settings.default_jurisdiction,
            proof=collected.proof,
            actor=collected.actor,
            at=self.now,
        )
