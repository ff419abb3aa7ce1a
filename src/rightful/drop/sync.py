"""A cycle over DROP's API: download and import the next lists; upload the status files."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError
from rightful.drop import service
from rightful.drop.client import DropClient, UploadResult
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require


def folder_of(settings: Settings) -> Path:
    """Where downloaded lists and written status files are kept."""
    return Path(settings.data_dir) / "drop"


def download(
    session: Session, settings: Settings, *, actor: Actor, client: DropClient | None = None
) -> service.Imported | None:
    """Download the next lists and import them; None when DROP has nothing new. Without a
    client, one is made from the settings (refused while the API is off)."""
    require(actor, Permission.REQUESTS_DECIDE)
    require(actor, Permission.ERASURE_APPROVE)
    if client is None:
        with DropClient(settings) as own:
            return download(session, settings, actor=actor, client=own)
    path = client.download(folder_of(settings) / "downloads")
    if path is None:
        return None
    return service.import_list(session, settings, path=path, actor=actor, source="api")


def upload(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    client: DropClient | None = None,
    amend: bool = False,
) -> UploadResult:
    """Write the latest cycle's status files and send them; what DROP said is recorded."""
    require(actor, Permission.REQUESTS_DECIDE)
    if client is None:
        with DropClient(settings) as own:
            return upload(session, settings, actor=actor, client=own, amend=amend)
    cycle = service.access_cycle(session, actor=actor)
    folder = folder_of(settings) / "status" / str(cycle.id)
    files = service.write_status_files(session, settings, actor=actor, folder=folder)
    if not files:
        raise ConflictError("No work item has a status yet: nothing to upload.")
    result = client.upload(files, amend=amend)
    cycle.upload_result = {
        "accepted": result.accepted,
        "rejected": result.rejected,
        "message": result.message,
    }
    if result.accepted:
        cycle.uploaded_at = utcnow()
    audit.record(
        session,
        actor=actor.name,
        action="drop.uploaded",
        subject_type="drop_cycle",
        subject_id=str(cycle.id),
        detail={"accepted": result.accepted, "rejected": len(result.rejected), "amend": amend},
    )
    session.flush()
    return result
