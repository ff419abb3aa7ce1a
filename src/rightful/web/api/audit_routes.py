"""REST API v1 for the audit log's integrity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.security import audit
from rightful.web.api.routes import api_actor
from rightful.web.deps import runtime

# TODO(issue 9, roles): require an `audit.verify` permission once security/permissions.py has
# one; until then any valid API token may ask, as for GET /consent/verify.
router = APIRouter(prefix="/api/v1", dependencies=[Depends(api_actor)], tags=["audit"])


@router.get("/audit/verify")
def verify_audit_log(rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    """Whether every audit event's hash holds and the log ends where its head says: the first
    problem (edited, unlinked, missing_at_end, unrecorded, head_mismatch) and where."""
    with unit_of_work(rt.sessions) as session:
        return audit.verify_chain(session).as_dict()
