"""What a worker's claim already read, so the run that follows does not ask the store again.

On PostgreSQL the claim is one UPDATE ... RETURNING (`execution.take`); its RETURNING also
carries the data map's revision and whether each request has execution steps or manual
tasks yet. A run handed those (`hold`) then skips three reads: the revision (when this process
holds the map at that revision), its steps and its tasks (when it has none).

Both hints hold for the session of the run that follows the claim, and for no other: the
revision is the one the claim saw (the run behaves as if it began at the claim, a moment
earlier), and nobody but the lease's holder writes a request's steps or opens its tasks. So
"untouched" means: no steps before this run (read once, as it begins) and no tasks but those
this run opens (`build_package` reads them only after asking for none).
"""

from __future__ import annotations

from threading import Lock
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, and_, exists, not_, select
from sqlalchemy.orm import Session

from rightful.inventory.models import DataMapRevision
from rightful.inventory.revision import DataMap, load_map
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.rights.task_models import ManualTask

_HINT = "rightful.claimed"  # session.info: (revision, untouched ids) the claim read
_last: dict[str, DataMap] = {}  # the map this process last read, per store
_lock = Lock()


def revision_column() -> ScalarSelect[Any]:
    """The data map's revision, read by the claim's own statement."""
    return select(DataMapRevision.revision).where(DataMapRevision.id == 1).scalar_subquery()


def untouched_column() -> ColumnElement[bool]:
    """Whether the claimed request has neither execution steps nor manual tasks yet."""
    steps = exists().where(ExecutionStep.request_id == RightsRequest.id)
    tasks = exists().where(ManualTask.request_id == RightsRequest.id)
    return and_(not_(steps), not_(tasks))


def hold(session: Session, revision: int | None, untouched: set[str]) -> None:
    """Give `session` what the claim read, for the run it is about to do."""
    session.info[_HINT] = (revision, set(untouched))


def untouched(session: Session, request_id: str) -> bool:
    """Whether the claim saw this request with no steps and no tasks."""
    hint = session.info.get(_HINT)
    return hint is not None and request_id in hint[1]


def data_map(session: Session) -> DataMap:
    """The data map at the claim's revision without a statement when this process holds it;
    otherwise `load_map`'s (one revision read a transaction)."""
    hint = session.info.get(_HINT)
    bind = str(session.get_bind().engine.url)
    if hint is not None and hint[0]:
        with _lock:
            held = _last.get(bind)
        if held is not None and held.revision == hint[0]:
            return held
    found = load_map(session)
    with _lock:
        _last[bind] = found
    return found
