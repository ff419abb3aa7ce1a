"""What staff read and run on requests, each checked against the permission table.

The functions here wrap building blocks the consumer's journey and the worker share (the
request, its identities, the correction plan, the retention schedule); staff reach those only
through here. Every read of a person's identities or data writes `staff.read_personal`: who
read what kind of thing about which request, never the data.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful.consent.suppression import erased
from rightful.core.config import Settings
from rightful.core.errors import NotFoundError
from rightful.inventory.revision import load_map
from rightful.inventory.stores import Connectors
from rightful.rights import flows, service
from rightful.rights.correction import FieldCorrection, plan_correction
from rightful.rights.models import RightsRequest
from rightful.rights.package import load
from rightful.rights.packaging import package_vault
from rightful.rights.partners import partner_secret
from rightful.rights.retention_schedule import ScheduledChange, preview_retention, run_retention
from rightful.rights.schemas import RequestIn
from rightful.security import audit
from rightful.security.models import AuditEvent
from rightful.security.permissions import Actor, Permission, require


def record_personal_read(
    session: Session, actor: Actor, *, subject_type: str, subject_id: str, what: str
) -> None:
    """Note that `actor` read a person's `what` (identities, package, …); never the data."""
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type=subject_type,
        subject_id=subject_id,
        detail={"what": what},
    )


def list_requests(
    session: Session, *, actor: Actor, status: str | None = None
) -> list[RightsRequest]:
    """The queue: open requests first, soonest due first (no personal data)."""
    require(actor, Permission.REQUESTS_VIEW)
    return service.list_requests(session, status=status)


def view_request(session: Session, *, actor: Actor, request_id: str) -> RightsRequest:
    """One request's type, status and deadlines (its identities stay sealed)."""
    require(actor, Permission.REQUESTS_VIEW)
    return service.access_request(session, request_id)


def timeline(session: Session, *, actor: Actor, request_id: str) -> list[AuditEvent]:
    """A request's audit events, oldest first."""
    req = view_request(session, actor=actor, request_id=request_id)
    return audit.events_for(session, subject_type="rights_request", subject_id=req.id)


def read_identities(
    session: Session, settings: Settings, *, actor: Actor, req: RightsRequest
) -> dict[str, str]:
    """The identities a person gave, decrypted for staff: recorded as a read."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    record_personal_read(
        session, actor, subject_type="rights_request", subject_id=req.id, what="identities"
    )
    return service.identities_of(settings, req)


def review_correction(
    session: Session, settings: Settings, *, actor: Actor, request_id: str
) -> list[FieldCorrection]:
    """Each field a correction would change, with its current value: recorded as a read."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    changes = plan_correction(session, settings, request_id=request_id)
    req = service.access_request(session, request_id)
    record_personal_read(
        session, actor, subject_type="rights_request", subject_id=req.id, what="correction"
    )
    return changes


def read_package(
    session: Session, settings: Settings, *, actor: Actor, request_id: str
) -> tuple[str, bytes]:
    """A completed request's package (reference, zip bytes): recorded as a read."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    req = service.access_request(session, request_id)
    if not req.package_file:
        raise NotFoundError("This request has no package (yet).")
    record_personal_read(
        session, actor, subject_type="rights_request", subject_id=req.id, what="package"
    )
    return req.reference, load(package_vault(settings), settings.package_dir, req.package_file)


def submit(
    session: Session, settings: Settings, data: RequestIn, *, actor: Actor, via: str
) -> RightsRequest:
    """Record a request received on a person's behalf (`via`: api, cli)."""
    require(actor, Permission.REQUESTS_SUBMIT)
    return flows.submit(session, settings, data, client=None, actor=f"{via}:{actor.name}")


def verify(
    session: Session, settings: Settings, *, actor: Actor, request_id: str, code: str
) -> flows.Verification:
    """Pass on the code a person read out or typed on the company's own site."""
    require(actor, Permission.REQUESTS_SUBMIT)
    return flows.verify(session, settings, request_id=request_id, code=code)


def retention_preview(
    session: Session, settings: Settings, *, actor: Actor
) -> list[ScheduledChange]:
    """What the retention schedule would destroy or mask now (counts only)."""
    require(actor, Permission.REQUESTS_PREPARE)
    return preview_retention(session, settings)


def retention_run(session: Session, settings: Settings, *, actor: Actor) -> list[ScheduledChange]:
    """Apply the retention schedule now."""
    require(actor, Permission.ERASURE_APPROVE)
    return run_retention(session, settings, actor=actor.name)


def erased_addresses(
    session: Session, settings: Settings, *, actor: Actor, emails: list[str]
) -> list[str]:
    """Which of these addresses were erased (check an import or a restored backup)."""
    require(actor, Permission.CONSENT_CHECK)
    return erased(session, settings, emails)


def partner_webhook_secret(settings: Settings, *, actor: Actor, partner: str) -> str:
    """The secret a partner checks erasure webhooks with."""
    require(actor, Permission.INVENTORY_MANAGE)
    return partner_secret(settings, partner)


def check_connection(session: Session, settings: Settings, *, actor: Actor, system: str) -> None:
    """Check that Rightful reaches a system's store; NotFoundError for an unknown system."""
    require(actor, Permission.INVENTORY_MANAGE)
    with Connectors(settings, load_map(session).systems) as connectors:
        try:
            connector = connectors(system)
        except KeyError as exc:
            raise NotFoundError(f"There is no system '{system}'.") from exc
        connector.test_connection()
