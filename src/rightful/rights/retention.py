"""Personal data Rightful itself holds is kept no longer than needed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.identity.models import VerificationCode
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import vault as outbox_vault
from rightful.rights import documents
from rightful.rights.appeals import appeal_vault
from rightful.rights.clock_models import Appeal
from rightful.rights.models import ErasureStep, ExecutionStep, RightsRequest
from rightful.rights.service import identity_vault
from rightful.rights.task_models import ManualTask
from rightful.rights.transfer_models import PortabilityTransfer
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
        session.execute(  # what owners entered by hand went into the package: gone with it
            update(ManualTask).where(ManualTask.request_id == req.id).values(findings=None)
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


def minimise_old_requests(session: Session, settings: Settings) -> int:
    """Closed requests keep their record for `records_retention_days`, then only the timeline.

    Identities, the e-mails' contents, codes and recorded reads are removed; type, dates,
    status, counts and the audit timeline (which never held personal data) stay as evidence.
    """
    cutoff = utcnow() - timedelta(days=settings.records_retention_days)
    old = list(
        session.scalars(
            select(RightsRequest).where(
                RightsRequest.closed_at < cutoff, RightsRequest.minimised_at.is_(None)
            )
        )
    )
    removed = outbox_vault(settings).encrypt_json(
        {"to": "[removed]", "text": "[removed after the retention period]", "html": ""}
    )
    unsaid = appeal_vault(settings).encrypt_json("[removed after the retention period]")
    for req in old:
        req.identities = identity_vault(settings).encrypt_json({})
        req.requester, req.identity_note = None, None  # an agent's or parent's own details too
        req.email_hash, req.minimised_at = "", utcnow()
        session.execute(
            update(OutboxMessage).where(OutboxMessage.request_id == req.id).values(sealed=removed)
        )
        session.execute(delete(VerificationCode).where(VerificationCode.request_id == req.id))
        session.execute(
            update(ExecutionStep).where(ExecutionStep.request_id == req.id).values(result=None)
        )
        session.execute(
            update(ErasureStep).where(ErasureStep.request_id == req.id).values(changes=None)
        )
        documents.destroy(session, request_id=req.id)
        session.execute(  # whom a portable copy went to (rights/transfers.py)
            update(PortabilityTransfer)
            .where(PortabilityTransfer.request_id == req.id)
            .values(recipient=identity_vault(settings).encrypt_json({}))
        )
        # What the person wrote in an appeal, and the written outcome (rights/appeals.py).
        session.execute(
            update(Appeal)
            .where(Appeal.request_id == req.id)
            .values(reason=unsaid, written_outcome=None)
        )
        audit.record(
            session,
            actor="worker",
            action="request.minimised",
            subject_type="rights_request",
            subject_id=req.id,
        )
    session.commit()
    return len(old)
