"""Each work item's DROP status, from what actually happened, and the status files to upload.

A matched item's status is decided only once its requests are through the stores: a deletion
whose stores reported the rows changed is 3 (deleted); one where every row found was kept under
a legal basis of the erasure policy is 2 (exempted); opt-outs of several people sharing the
identifier are 4 once each is recorded; an item nothing matched is 5 (not found). A deletion
staff denied (the data is exempt, and they said why) is 2. An item whose request left rows it
could not erase waits for staff and is never guessed.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.drop.models import DropItemRequest, DropWorkItem
from rightful.rights.models import ErasureStep, RightsRequest
from rightful.rights.types import RequestType, Status

EXEMPTED, DELETED, OPTED_OUT, NOT_FOUND = 2, 3, 4, 5
LABELS = {EXEMPTED: "exempted", DELETED: "deleted", OPTED_OUT: "opted out", NOT_FOUND: "not found"}
CHUNK = 5000


def request_code(
    request_type: str, status: str, summary: dict[str, Any], steps_pending: bool
) -> int | None:
    """What one request did, as a DROP status; None while the stores have not all answered."""
    if request_type == RequestType.OPT_OUT_SALE.value:
        return OPTED_OUT if status == Status.COMPLETED.value else None
    if status == Status.DENIED.value:  # staff kept it all: the law exempts this person's data
        return EXEMPTED
    erasure = summary.get("erasure")
    if erasure is None or steps_pending or summary.get("not_erased"):
        return None  # not through the stores yet, or rows left that no change could reach
    changed = sum(i.get("changed", 0) for i in erasure if i.get("action") != "retain_rows")
    kept = sum(i.get("rows", 0) for i in erasure if i.get("action") == "retain_rows")
    # Nothing left to change (erased before): the person's data is deleted all the same.
    return EXEMPTED if kept and not changed else DELETED


def _item_code(codes: list[int | None]) -> int | None:
    if not codes or any(c is None for c in codes):
        return None
    if len(codes) > 1:  # several people shared the identifier: each was opted out
        return OPTED_OUT
    return codes[0]


def settle(session: Session, cycle_id: int) -> int:
    """Decide the status of every matched item whose requests are through (flushes). Returns
    how many items were decided now."""
    rows = session.execute(
        select(DropItemRequest.work_item_id, DropItemRequest.request_id)
        .join(DropWorkItem, DropWorkItem.id == DropItemRequest.work_item_id)
        .where(
            DropWorkItem.cycle_id == cycle_id,
            DropWorkItem.outcome == "matched",
            DropWorkItem.code.is_(None),
        )
    ).all()
    by_item: dict[int, list[str]] = defaultdict(list)
    for item, rid in rows:
        by_item[item].append(rid)
    request_ids = sorted({rid for _, rid in rows})
    codes: dict[str, int | None] = {}
    for start in range(0, len(request_ids), CHUNK):
        part = request_ids[start : start + CHUNK]
        pending = set(
            session.scalars(
                select(ErasureStep.request_id).where(
                    ErasureStep.request_id.in_(part), ErasureStep.done_at.is_(None)
                )
            )
        )
        # Only requests that may be through: closed, or with their erasure steps written.
        ready = select(
            RightsRequest.id,
            RightsRequest.request_type,
            RightsRequest.status,
            RightsRequest.summary,
        ).where(
            RightsRequest.id.in_(part),
            or_(
                RightsRequest.status != Status.EXECUTING.value,
                exists().where(ErasureStep.request_id == RightsRequest.id),
            ),
        )
        for rid, kind, status, summary in session.execute(ready):
            codes[rid] = request_code(kind, status, summary or {}, rid in pending)
    decided: dict[int, list[int]] = defaultdict(list)
    for item, rids in by_item.items():
        code = _item_code([codes.get(r) for r in rids])
        if code is not None:
            decided[code].append(item)
    now = utcnow()
    for code, items in decided.items():
        for start in range(0, len(items), CHUNK):
            session.execute(
                update(DropWorkItem)
                .where(DropWorkItem.id.in_(items[start : start + CHUNK]))
                .values(outcome="done", code=code, decided_at=now)
                .execution_options(synchronize_session=False)
            )
    session.flush()
    return sum(len(v) for v in decided.values())


def counts(session: Session, cycle_id: int) -> dict[str, int]:
    """Items per outcome and per status code, for the console and the CLI."""
    out: dict[str, int] = {}
    stmt = (
        select(DropWorkItem.outcome, DropWorkItem.code, func.count())
        .where(DropWorkItem.cycle_id == cycle_id)
        .group_by(DropWorkItem.outcome, DropWorkItem.code)
    )
    for outcome, code, n in session.execute(stmt):
        key = LABELS[code] if code else ("waiting" if outcome == "matched" else outcome)
        out[key] = out.get(key, 0) + n
    return out


def _new_file_names(session: Session, cycle_id: int) -> dict[str, str]:
    """Source list -> the status file its newly decided items go in: the list's own name the
    first time, then <name>_partNN (DROP accepts a suffix of up to ten letters and digits)."""
    used = session.execute(
        select(DropWorkItem.file_name, func.count(func.distinct(DropWorkItem.reported_in)))
        .where(DropWorkItem.cycle_id == cycle_id, DropWorkItem.reported_in.is_not(None))
        .group_by(DropWorkItem.file_name)
    ).all()
    earlier = {name: n for name, n in used}
    lists = session.scalars(
        select(DropWorkItem.file_name)
        .where(
            DropWorkItem.cycle_id == cycle_id,
            DropWorkItem.code.is_not(None),
            DropWorkItem.reported_in.is_(None),
        )
        .distinct()
    )
    return {
        name: name if not earlier.get(name) else f"{name}_part{earlier[name] + 1:02d}"
        for name in lists
    }


def write_status_files(session: Session, cycle_id: int, folder: Path) -> list[Path]:
    """Assign newly decided items to a status file, then write every status file of the cycle
    (header `Id,Status`, one line per item) into `folder`; the same files each time."""
    for source, target in _new_file_names(session, cycle_id).items():
        session.execute(
            update(DropWorkItem)
            .where(
                DropWorkItem.cycle_id == cycle_id,
                DropWorkItem.file_name == source,
                DropWorkItem.code.is_not(None),
                DropWorkItem.reported_in.is_(None),
            )
            .values(reported_in=target)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    folder.mkdir(parents=True, exist_ok=True)
    stmt = (
        select(DropWorkItem.reported_in, DropWorkItem.item_id, DropWorkItem.code)
        .where(DropWorkItem.cycle_id == cycle_id, DropWorkItem.reported_in.is_not(None))
        .order_by(DropWorkItem.reported_in, DropWorkItem.id)
    )
    written: list[Path] = []
    handle: Any = None
    current = None
    try:
        for name, item_id, code in session.execute(stmt.execution_options(yield_per=CHUNK)):
            if name != current:
                if handle is not None:
                    handle.close()
                current = name
                path = folder / f"{name}.csv"
                handle = path.open("w", newline="", encoding="utf-8")
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(["Id", "Status"])
                written.append(path)
            writer.writerow([item_id, code])
    finally:
        if handle is not None:
            handle.close()
    return written
