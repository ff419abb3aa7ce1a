"""What the request page shows of intake: who filed it, how identity was checked, the
documents, and whether staff may ask the consumer to confirm an agent's request."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.rights import agents, documents, intake
from rightful.rights import service as rights_service
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.staff import record_personal_read
from rightful.security.permissions import Actor, Permission


def request_page_context(
    session: Session, settings: Settings, actor: Actor, req: RightsRequest
) -> dict[str, Any]:
    """What the request page shows of intake: who filed it, the identity check, documents,
    and whether staff may ask the consumer to confirm (recorded as a read when personal)."""
    personal = actor.can(Permission.REQUESTS_READ_PERSONAL)
    requester = rights_service.requester_of(settings, req) if personal else {}
    if requester or (personal and req.identity_note):
        record_personal_read(
            session, actor, subject_type="rights_request", subject_id=req.id, what="requester"
        )
    return {
        "intake_methods": intake.METHODS,
        "intake_channels": intake.CHANNELS,
        "role_label": agents.ROLE_LABELS.get(req.requester_role, req.requester_role),
        "requester": requester,
        "identity_note": intake.identity_note(settings, req) if personal else None,
        "documents": documents.listed(session, request_id=req.id),
        "direct_confirmation": kind_of(req.request_type).direct_confirmation,
        "no_direct_confirmation": agents.NO_DIRECT_CONFIRMATION,
    }
