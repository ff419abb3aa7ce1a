"""REST API v1: many rights requests in one call (rights/bulk.py, docs/bulk-intake.md)."""

from __future__ import annotations

from fastapi import Depends, Response

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights import bulk
from rightful.rights.bulk_schemas import BatchIn, BatchReport
from rightful.rights.types import Status
from rightful.security.permissions import Actor
from rightful.web.api.routes import api_actor
from rightful.web.deps import dispatcher, runtime
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/api/v1", dependencies=[Depends(api_actor)])


@router.post(
    "/rights-requests/batch",
    response_model=BatchReport,
    status_code=201,
    responses={
        200: {"description": "Nothing new was filed: a dry run, or every line imported before."},
        422: {"description": "Nothing was imported: problem+json whose `report` lists each line."},
    },
)
def create_batch(
    batch: BatchIn,
    response: Response,
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
    disp: Dispatcher = Depends(dispatcher),
) -> BatchReport:
    """File up to 10,000 requests, each as `POST /rights-requests` would, in one transaction:
    each line is checked and reported by its position (from 1). One bad line and nothing is
    imported, unless `mode` is `valid_only`. A line whose `external_id` (per `source`) was
    imported before is reported with the request it became and not filed again."""
    lines = [bulk.Line(n, values) for n, values in enumerate(batch.requests, 1)]
    with unit_of_work(rt.sessions) as session:
        report = bulk.import_lines(
            session,
            rt.settings,
            lines,
            actor=actor,
            via="api",
            source=batch.source,
            mode=batch.mode,
            dry_run=batch.dry_run,
        )
        if not report.saved:
            session.rollback()  # a dry run; or only lines imported before: nothing to keep
    if report.saved:
        disp.mail_queued()
        for line in report.imported:
            if line.status == Status.EXECUTING.value:
                disp.request_ready(line.id)
    response.status_code = 201 if report.saved else 200
    return report
