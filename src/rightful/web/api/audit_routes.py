"""REST API v1 for the audit log's integrity."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.security import audit
from rightful.security.permissions import Actor
from rightful.web.api.routes import api_actor
from rightful.web.deps import runtime
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/api/v1", dependencies=[Depends(api_actor)], tags=["audit"])


@router.get("/audit/verify")
def verify_audit_log(
    rt: Runtime = Depends(runtime), actor: Actor = Depends(api_actor)
) -> dict[str, Any]:
    """Whether every audit event's hash holds and the log ends where its head says and still
    holds what was anchored outside the store: the first problem (edited, unlinked,
    missing_at_end, unrecorded, head_mismatch, shorter_than_anchored, differs_from_anchor,
    forged_anchor) and where; `anchored`: when the newest anchor it was held to was taken.
    Needs the `audit.verify` permission."""
    with unit_of_work(rt.sessions) as session:
        return audit.verify_as(session, rt.settings, actor=actor).as_dict()
