"""Matching a cycle's work items: one join against the keyed index, then people, then requests.

The join runs in Rightful's own store (work items x index on list type and hash), so a
million-line list is never held in memory; only the matches are. Each matched row is read back
from its store by key (one read per collection and thousand keys) for the identifier the
request path works from, the e-mail address.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from rightful.connectors.base import FetchRequest
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.drop.bulk import insert_rows
from rightful.drop.index import IDENTITY_FIELDS, drop_fields
from rightful.drop.models import DropIndexEntry, DropItemRequest, DropKept, DropWorkItem
from rightful.drop.outcomes import EXEMPTED, request_code
from rightful.drop.phases import Phases
from rightful.drop.requests import open_drop_requests
from rightful.inventory.keys import key_fields
from rightful.inventory.revision import DataMap, load_map
from rightful.inventory.stores import Connectors
from rightful.rights.models import RightsRequest
from rightful.rights.planning import Split, build_plan, traverse
from rightful.rights.types import OPEN, RequestType
from rightful.security.permissions import Actor

READ_CHUNK = 1000
OPEN_VALUES = {s.value for s in OPEN}
WRITE_CHUNK = 5000
Place = tuple[str, str, str]  # (system, address, row key)


def _matches(session: Session, cycle_id: int) -> dict[int, set[Place]]:
    """Work item -> the indexed rows with its hash: the join, streamed."""
    stmt = (
        select(
            DropWorkItem.id, DropIndexEntry.system, DropIndexEntry.address, DropIndexEntry.row_key
        )
        .join(
            DropIndexEntry,
            and_(
                DropIndexEntry.list_type == DropWorkItem.list_type,
                DropIndexEntry.hash == DropWorkItem.hash,
            ),
        )
        .where(DropWorkItem.cycle_id == cycle_id, DropWorkItem.outcome == "pending")
    )
    found: dict[int, set[Place]] = defaultdict(set)
    for item, system, address, key in session.execute(
        stmt.execution_options(yield_per=WRITE_CHUNK)
    ):
        found[item].add((system, address, key))
    return found


def _emails(session: Session, settings: Settings, places: Iterable[Place]) -> dict[Place, set[str]]:
    """Each matched row's person, as the e-mail addresses the request path finds them by: the
    row's own e-mail field, else those its identifiers (a phone number) lead to."""
    data_map = load_map(session)
    colls = data_map.collections
    by_address: dict[tuple[str, str], list[str]] = defaultdict(list)
    for system, address, key in places:
        by_address[(system, address)].append(key)
    out: dict[Place, set[str]] = {}
    seeds: dict[Place, tuple[str, str]] = {}
    with Connectors(settings, data_map.systems) as connectors:
        for (system, address), keys in by_address.items():
            coll = colls[address]
            key = key_fields(coll)[0]
            spec = coll.field(key)
            cast = int if spec is not None and spec.data_type == "integer" else str
            ids = [f for f in coll.fields if f.identity in IDENTITY_FIELDS]
            email_col = drop_fields(coll).get("email")
            columns = tuple(
                dict.fromkeys([key, *(f.name for f in ids), *([email_col] if email_col else [])])
            )
            for start in range(0, len(keys), READ_CHUNK):
                part = tuple(cast(k) for k in keys[start : start + READ_CHUNK])
                rows = connectors(system).fetch(FetchRequest(coll.name, columns, ((key, part),)))
                for row in rows:
                    place = (system, address, str(row[key]))
                    if email_col and row.get(email_col):
                        out[place] = {str(row[email_col]).strip().lower()}
                    else:
                        seed = next(
                            ((str(f.identity), str(row[f.name])) for f in ids if row.get(f.name)),
                            None,
                        )
                        if seed is not None:
                            seeds[place] = seed
        out.update(_followed(data_map, seeds, connectors))
    return out


def _followed(
    data_map: DataMap, seeds: dict[Place, tuple[str, str]], connectors: Connectors
) -> dict[Place, set[str]]:
    """E-mail addresses reached from other identifiers (a phone number), one walk per kind."""
    email_fields = {
        address: [f.name for f in coll.fields if f.identity == "email"]
        for address, coll in data_map.collections.items()
    }
    out: dict[Place, set[str]] = {}
    for kind in {k for k, _ in seeds.values()}:
        mine = {p: v for p, (k, v) in seeds.items() if k == kind}
        steps = build_plan(data_map.datasets, system_of=data_map.system_of, identity_types=[kind])
        found = traverse(steps, {kind: sorted(set(mine.values()))}, connectors)
        split = Split(steps, found)  # one index of the rows read for every value's share
        emails: dict[str, set[str]] = {}  # rows sharing a value (a phone) share its people
        for place, value in mine.items():
            if value not in emails:
                rows = split.share({kind: value})
                emails[value] = {
                    str(r[f]).strip().lower()
                    for address, got in rows.items()
                    for r in got
                    for f in email_fields.get(address, [])
                    if r.get(f)
                }
            out[place] = set(emails[value])
    return out


def _kinds(people: dict[int, set[str]]) -> dict[str, RequestType]:
    """One person on an item: a deletion. Several people sharing one identifier: each opted
    out of sale and sharing (DROP's status 4); a deletion wins for someone matched alone too."""
    wanted: dict[str, RequestType] = {}
    for emails in people.values():
        kind = RequestType.DELETE if len(emails) == 1 else RequestType.OPT_OUT_SALE
        for email in emails:
            if wanted.get(email) is not RequestType.DELETE:
                wanted[email] = kind
    return wanted


@dataclass(frozen=True)
class Item:
    """A matched work item, as keeping its hash needs it."""

    id: int
    item_id: str
    list_type: str
    hash: str


def _keep(
    session: Session, items: list[Item], request_of: dict[int, str], shared: set[int]
) -> None:
    """Keep each matched item's hash (once) for later lists and re-collected records."""
    for start in range(0, len(items), WRITE_CHUNK):
        part = items[start : start + WRITE_CHUNK]
        have = {
            (str(t), str(h))
            for t, h in session.execute(
                select(DropKept.list_type, DropKept.hash).where(
                    DropKept.hash.in_([i.hash for i in part])
                )
            )
        }
        rows = {}
        for item in part:
            if (item.list_type, item.hash) not in have:
                rows[(item.list_type, item.hash)] = {
                    "list_type": item.list_type,
                    "hash": item.hash,
                    "first_item_id": item.item_id,
                    "request_id": request_of.get(item.id),
                    "action": "opt_out" if item.id in shared else "delete",
                }
        insert_rows(session, DropKept.__table__, list(rows.values()))  # type: ignore[arg-type]


def _settle_unmatched(session: Session, cycle_id: int) -> None:
    """Items nothing matched: matched before (kept) -> linked to that request; else not found."""
    now = utcnow()
    pending = and_(DropWorkItem.cycle_id == cycle_id, DropWorkItem.outcome == "pending")
    kept = select(DropKept.request_id, DropWorkItem.id).join(
        DropWorkItem,
        and_(DropKept.list_type == DropWorkItem.list_type, DropKept.hash == DropWorkItem.hash),
    )
    earlier = [(rid, item) for rid, item in session.execute(kept.where(pending))]
    links = [{"work_item_id": item, "request_id": rid} for rid, item in earlier if rid]
    insert_rows(session, DropItemRequest.__table__, links)  # type: ignore[arg-type]
    ids = [item for _, item in earlier]
    for start in range(0, len(ids), WRITE_CHUNK):
        session.execute(
            update(DropWorkItem)
            .where(DropWorkItem.id.in_(ids[start : start + WRITE_CHUNK]))
            .values(outcome="matched")
        )
    session.execute(
        update(DropWorkItem)
        .where(pending)
        .values(outcome="not_found", code=5, decided_at=now)
        .execution_options(synchronize_session=False)
    )


def match_cycle(
    session: Session,
    settings: Settings,
    cycle_id: int,
    *,
    actor: Actor,
    timings: dict[str, float] | None = None,
) -> int:
    """Match a cycle's pending items and open the requests the matches call for (flushes; the
    caller commits). Returns how many items matched someone in the stores now."""
    clock = Phases(timings)
    found = _matches(session, cycle_id)
    clock.lap("join")
    emails = _emails(session, settings, {p for places in found.values() for p in places})
    clock.lap("read matched rows")
    people = {
        item: set().union(*(emails.get(p, set()) for p in places)) for item, places in found.items()
    }
    people = {item: who for item, who in people.items() if who}
    request_ids = open_drop_requests(session, settings, _kinds(people), actor=actor)
    clock.lap("open requests")
    links = [
        {"work_item_id": item, "request_id": request_ids[email]}
        for item, who in people.items()
        for email in sorted(who)
    ]
    insert_rows(session, DropItemRequest.__table__, links)  # type: ignore[arg-type]
    ids = list(found)  # a row found with no address to act on stays matched, for staff
    for start in range(0, len(ids), WRITE_CHUNK):
        session.execute(
            update(DropWorkItem)
            .where(DropWorkItem.id.in_(ids[start : start + WRITE_CHUNK]))
            .values(outcome="matched")
            .execution_options(synchronize_session=False)
        )
    first_request = {i: request_ids[min(who)] for i, who in people.items()}
    shared = {i for i, who in people.items() if len(who) > 1}
    _keep(session, _load(session, ids), first_request, shared)
    clock.lap("link items")
    _settle_unmatched(session, cycle_id)
    session.flush()
    clock.lap("not found")
    return len(found)


def _load(session: Session, ids: list[int]) -> list[Item]:
    out: list[Item] = []
    for start in range(0, len(ids), WRITE_CHUNK):
        stmt = select(
            DropWorkItem.id, DropWorkItem.item_id, DropWorkItem.list_type, DropWorkItem.hash
        ).where(DropWorkItem.id.in_(ids[start : start + WRITE_CHUNK]))
        out.extend(Item(*row) for row in session.execute(stmt))
    return out


def sweep_recollected(session: Session, settings: Settings, *, actor: Actor) -> int:
    """Delete again the people deleted through DROP whose records are back in the stores (the
    index, just rebuilt, holds a kept hash): a broker keeps deleting them and must not keep
    what it collects anew. Someone whose records were all kept under a legal basis is left
    alone. Returns how many people get a new (or their still open) deletion."""
    stmt = (
        select(DropKept.request_id, DropIndexEntry.system, DropIndexEntry.address,
               DropIndexEntry.row_key)
        .join(
            DropIndexEntry,
            and_(DropIndexEntry.list_type == DropKept.list_type,
                 DropIndexEntry.hash == DropKept.hash),
        )
        .where(DropKept.action == "delete")
    )  # fmt: skip
    rows = session.execute(stmt).all()
    earlier = {rid for rid, *_ in rows if rid}
    exempt: set[str] = set()
    for start in range(0, len(earlier), WRITE_CHUNK):
        part = sorted(earlier)[start : start + WRITE_CHUNK]
        for req in session.scalars(select(RightsRequest).where(RightsRequest.id.in_(part))):
            code = request_code(req.request_type, req.status, req.summary, False)
            if req.status in OPEN_VALUES or code == EXEMPTED:
                exempt.add(req.id)  # still running, or everything found was kept by law
    places = {(s, a, k) for rid, s, a, k in rows if rid not in exempt}
    emails = _emails(session, settings, places)
    people = {e for who in emails.values() for e in who}
    if people:
        open_drop_requests(
            session, settings, dict.fromkeys(sorted(people), RequestType.DELETE), actor=actor
        )
    return len(people)
