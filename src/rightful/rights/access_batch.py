"""Access requests read together (issue 12): one read per collection for a whole batch, each
request's share split back and kept as its execution steps.

A batch only reads. Each request then runs as it always has (`execution.run_request`): it finds
its steps done, exactly as a run resumed after a crash does, and builds, seals, records and
notifies as before. So packages, steps, audit events and e-mails are the one-by-one ones.

Splitting is the one-by-one walk replayed in memory over the batch's rows (`planning.Split`):
a request's rows of a collection are those matching *its own* e-mail or the values of *its own*
rows upstream, so a row reached by two requests goes to both and a row reaches no request that
did not reach it. That replay compares values in Python; a store that compares more loosely (a
case- or accent-insensitive collation) could have matched more. The batch is then refused and
its requests run one by one: see `_trusted`.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from rightful.connectors.base import Row, nonempty_matches
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConnectorError
from rightful.inventory.revision import DataMap
from rightful.inventory.stores import Connectors
from rightful.rights import claimed, service
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.planning import Split, Step, build_plan, fetch_request
from rightful.rights.values import seal_rows
from rightful.security.vault import Vault

log = logging.getLogger(__name__)
# Kinds of store a batch may read; others (HTTP APIs, systems handled by hand) run one by one.
BATCHED_STORES = frozenset({"sql"})


def access_plan(data_map: DataMap) -> list[Step]:
    """The reads of an access request, in order. Only the identity the person proved (the
    e-mail, by its code) may find records: a phone number is matched as a data point, never
    used to find others who share it."""
    return build_plan(data_map.datasets, system_of=data_map.system_of, identity_types=["email"])


def _loose(value: Any) -> Any:
    """A value as the loosest common collation compares it: case, accents and trailing spaces
    ignored."""
    if not isinstance(value, str):
        return value
    bare = unicodedata.normalize("NFKD", value.rstrip()).casefold()
    return "".join(c for c in bare if not unicodedata.combining(c))


def _trusted(matches: Sequence[tuple[str, Sequence[Any]]], rows: list[Row]) -> bool:
    """Whether replaying the walk in Python finds what each request's own read would have:
    every row the store returned holds one of the asked values exactly, and no two asked values
    of a field could be equal to a looser store."""
    for _, values in matches:
        if len({_loose(v) for v in values}) != len(set(values)):
            return False
    wanted = [(f, set(v)) for f, v in matches]
    return all(any(r.get(f) in v for f, v in wanted) for r in rows)


def _read_together(
    steps: list[Step], emails: list[str], connectors: Connectors
) -> dict[str, list[Row]] | None:
    """Every step read once for all the e-mails; None when the split could not be trusted."""
    found: dict[str, list[Row]] = {}
    for step in steps:
        request = fetch_request(step, {"email": emails}, found)
        rows = connectors(step.system).fetch(request)
        if not _trusted(nonempty_matches(request), rows):
            log.info("access batch: %s compares values loosely; running one by one", step.address)
            return None
        found[step.address] = rows
    return found


def _batchable(data_map: DataMap, steps: list[Step]) -> bool:
    systems = [data_map.systems[s.system] for s in steps]
    return all(not s.by_hand and s.connection_type in BATCHED_STORES for s in systems)


def not_begun(session: Session, reqs: Sequence[RightsRequest]) -> list[RightsRequest]:
    """The requests with no execution step yet: a batch takes only those (a request already
    begun, by a crash or a retry, resumes from its own steps). Those the claim saw untouched
    are not asked about again."""
    ids = [r.id for r in reqs if not claimed.untouched(session, r.id)]
    begun = (
        set(
            session.scalars(
                select(ExecutionStep.request_id).where(ExecutionStep.request_id.in_(ids))
            )
        )
        if ids
        else set()
    )
    return [r for r in reqs if r.id not in begun]


def shares(
    settings: Settings, data_map: DataMap, steps: list[Step], emails: Mapping[str, str]
) -> dict[str, dict[str, list[Row]]] | None:
    """Each request's rows of every step (by request id, from its e-mail), read with one read
    per collection for all of them; None when they cannot be read together (a store that is
    not SQL, compares loosely, or fails: each request then reads alone)."""
    if not steps or not _batchable(data_map, steps):
        return None
    asked = sorted({e for e in emails.values() if e})
    try:
        with Connectors(settings, data_map.systems) as connectors:
            found = _read_together(steps, asked, connectors)
    except ConnectorError as exc:  # each request meets (and reports) it on its own run
        log.warning("batch of %d: cannot read together (%s)", len(emails), exc.code)
        return None
    if found is None:
        return None
    split = Split(steps, found)  # one index of the batch's rows for every request's share
    return {rid: split.share({"email": email}) for rid, email in emails.items()}


def prefetch(
    session: Session, settings: Settings, reqs: Sequence[RightsRequest]
) -> dict[str, dict[str, str]]:
    """Read the rows of many access requests together and keep each one's share as its steps
    (one multi-row INSERT, committed). Returns what was kept, by request id: address -> sealed
    rows, as the steps hold them (so finishing need not read them back). The others (already
    begun, or a batch that cannot be read together) simply run one by one."""
    todo = not_begun(session, reqs)
    if len(todo) < 2:
        return {}
    data_map = claimed.data_map(session)
    steps = access_plan(data_map)
    emails = {r.id: service.identities_of(settings, r).get("email") or "" for r in todo}
    mine = shares(settings, data_map, steps, emails)
    if mine is None:
        return {}
    rows = list(_steps_of(settings, todo, steps, mine))
    session.execute(insert(ExecutionStep), rows)
    session.commit()
    kept: dict[str, dict[str, str]] = {r.id: {} for r in todo}
    for row in rows:
        kept[row["request_id"]][row["address"]] = row["result"]
    return kept


def _steps_of(
    settings: Settings,
    reqs: Sequence[RightsRequest],
    steps: list[Step],
    mine: Mapping[str, Mapping[str, list[Row]]],
) -> Any:
    vault = Vault(settings, "execution")
    now = utcnow()
    for req in reqs:
        for step in steps:
            rows = mine[req.id][step.address]
            yield {
                "request_id": req.id,
                "address": step.address,
                "row_count": len(rows),
                "result": seal_rows(vault, rows),
                "finished_at": now,
            }
