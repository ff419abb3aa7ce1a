"""Personal data Rightful itself holds is kept no longer than needed."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.rights.models import ExecutionStep, RightsRequest
from rightful.security import audit


def expire_packages(session: Session, settings: Settings) -> int:
    """Destroy packages and the reads behind them once their link has expired; returns count."""
    expired = list(
        session.scalars(
            select(RightsRequest).where(
                RightsRequest.package_file.is_not(None),
                RightsRequest.package_expires_at < utcnow(),
            )
        )
    )
    for req in expired:
        (settings.package_dir / str(req.package_file)).unlink(missing_ok=True)
        req.package_file = None
        session.execute(
            update(ExecutionStep).where(ExecutionStep.request_id == req.id).values(result=None)
        )
        audit.record(
            session,
            actor="worker",
            action="request.package_destroyed",
            subject_type="rights_request",
            subject_id=req.id,
        )
    session.commit()
    return len(expired)
