"""Retention schedules: company data past its period is destroyed or de-identified, daily.

The same shape as an erasure: a read-only preview first, then one transaction per system, a record
without the data, and safe to run again (rows already gone or masked are simply not found, or
masked to the same value).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from rightful.connectors.base import Changed, FetchRequest, RowChange
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError, NotFoundError
from rightful.inventory.keys import key_fields, locate
from rightful.inventory.revision import load_map
from rightful.inventory.stores import Connectors
from rightful.rights.erasure import current_policy
from rightful.rights.models import RequestPolicy
from rightful.security import audit
from rightful.security.masking import mask_value
from rightful.security.vault import keyed_hash


@dataclass(frozen=True)
class ScheduledChange:
    """What a schedule does to one collection today."""

    system: str
    collection: str
    action: str
    rows: int
    cutoff: str
    legal_basis: str


def _changes(session: Session, settings: Settings) -> list[tuple[ScheduledChange, list[RowChange]]]:
    try:
        policy = current_policy(session, "retention")
    except NotFoundError:
        return []
    data_map = load_map(session)
    secret = keyed_hash(settings.secret_key, "masking", "hmac-secret")
    out = []
    with Connectors(settings, data_map.systems) as connectors:
        for schedule in policy.schedules:
            dataset, name = schedule.collection.split(".", 1)
            coll = data_map.collections.get(f"{dataset}:{name}")
            system = data_map.system_of.get(dataset)
            if coll is None or system is None or not coll.date_field:
                raise InvalidInputError(
                    f"Retention schedule for {schedule.collection}: the collection must be in the "
                    "data map with a `rightful: {date_field: ...}`."
                )
            cutoff = utcnow().replace(tzinfo=None) - timedelta(days=schedule.keep_days)
            masked = [m.field for m in schedule.masks] if schedule.action == "mask" else []
            # The rows are found by their date: without a key, that date (and for a mask, the
            # current values) finds each row again.
            fields = (*key_fields(coll), coll.date_field, *masked)
            rows = connectors(system).fetch(
                FetchRequest(
                    name, tuple(dict.fromkeys(fields)), (), older_than=(coll.date_field, cutoff)
                )
            )
            changes = []
            for r in rows:
                values = None
                if masked:
                    values = {
                        m.field: mask_value(
                            m.strategy, r.get(m.field), config=m.configuration, secret=secret
                        )
                        for m in schedule.masks
                    }
                    values = {f: v for f, v in values.items() if v != r.get(f)}
                    if not values:
                        continue  # already de-identified: nothing to change
                where = locate(coll, r, found_by=[coll.date_field], changing=values or ())
                if where is not None:
                    changes.append(RowChange(name, where, values))
            out.append(
                (
                    ScheduledChange(
                        system,
                        name,
                        schedule.action,
                        len(changes),
                        cutoff.date().isoformat(),
                        schedule.legal_basis,
                    ),
                    changes,
                )
            )
    return out


def preview_retention(session: Session, settings: Settings) -> list[ScheduledChange]:
    """What the schedule would destroy or mask now (reads only)."""
    return [change for change, _ in _changes(session, settings)]


def run_retention(
    session: Session, settings: Settings, *, actor: str = "worker"
) -> list[ScheduledChange]:
    """Apply the schedule, one transaction per system; record counts only: the rows each store
    reported changed."""
    planned = _changes(session, settings)
    data_map = load_map(session)
    changed: Changed = {}
    with Connectors(settings, data_map.systems) as connectors:
        for system in sorted({c.system for c, _ in planned}):
            mine = [rc for c, rcs in planned if c.system == system for rc in rcs]
            changed.update(connectors(system).apply(mine))
    done = [replace(c, rows=changed.get((c.collection, ""), 0)) for c, _ in planned]
    if any(c.rows for c in done):
        audit.record(
            session,
            actor=actor,
            action="retention.applied",
            subject_type="retention",
            subject_id=utcnow().date().isoformat(),
            detail={
                "collections": [
                    {"collection": c.collection, "action": c.action, "rows": c.rows} for c in done
                ]
            },
        )
    session.commit()
    return done


def run_retention_daily(session: Session, settings: Settings) -> bool:
    """Run the schedule if it has not run in the last day; True when it ran."""
    row = session.get(RequestPolicy, "retention")
    now = utcnow()
    if row is None or (row.last_run_at and row.last_run_at > now - timedelta(days=1)):
        return False
    row.last_run_at = now
    session.flush()
    run_retention(session, settings)
    return True
