"""Documents people send us: scanned letters, an agent's signed permission, a parent's
evidence, e-mail attachments. Sealed at rest like identities, read only with a reason that the
audit trail keeps, and destroyed with the record they belong to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import Base, UTCDateTime
from rightful.core.errors import InvalidInputError, NotFoundError
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require
from rightful.security.vault import Vault, sealed

MAX_BYTES = 10 * 1024 * 1024
# What a person may send: scans, photos and PDFs; text and e-mail bodies from the mailbox.
ACCEPTED_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "image/heic",
        "text/plain",
        "message/rfc822",
    }
)
KINDS = frozenset(
    {
        "letter",
        "agent_permission",
        "power_of_attorney",
        "parent_evidence",
        "mail_attachment",
        "task_evidence",  # a system owner's proof of a deletion by hand (rights/tasks.py)
    }
)


class Document(Base):
    """One sealed file; the name and content are both personal data, so both are sealed."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    # Which record it belongs to: a rights request or a case (either may be set later).
    request_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    case_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sealed_name: Mapped[str] = mapped_column(Text, info=sealed("documents"))
    # None once destroyed; the row stays as the record that a document was received.
    sealed_content: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("documents"))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


@dataclass(frozen=True)
class Opened:
    """A document's bytes, for the one response that shows it."""

    filename: str
    content_type: str
    content: bytes


def _vault(settings: Settings) -> Vault:
    return Vault(settings, "documents")


def store(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    filename: str,
    content_type: str,
    content: bytes,
    uploaded_by: str,
    request_id: str | None = None,
    case_id: str | None = None,
) -> Document:
    """Seal and keep a document (InvalidInputError for an empty, too large or unknown file)."""
    if kind not in KINDS:
        raise InvalidInputError(f"Unknown document kind {kind!r}.")
    base_type = content_type.split(";")[0].strip().lower()
    if base_type not in ACCEPTED_TYPES:
        raise InvalidInputError(
            "Send a PDF, a JPEG, PNG, TIFF or HEIC image, or plain text "
            f"(this file is {base_type or 'of an unknown type'})."
        )
    if not content:
        raise InvalidInputError("The file is empty.")
    if len(content) > MAX_BYTES:
        raise InvalidInputError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    vault = _vault(settings)
    doc = Document(
        id=uuid.uuid4().hex,
        kind=kind,
        request_id=request_id,
        case_id=case_id,
        content_type=base_type,
        size=len(content),
        sealed_name=vault.encrypt((filename or "document")[:200].encode()).decode(),
        sealed_content=vault.encrypt(content).decode(),
        uploaded_by=uploaded_by,
    )
    session.add(doc)
    session.flush()
    audit.record(
        session,
        actor=uploaded_by,
        action="document.stored",
        subject_type="document",
        subject_id=doc.id,
        detail={"kind": kind, "size": doc.size, "request": request_id, "case": case_id},
    )
    return doc


def listed(
    session: Session, *, request_id: str | None = None, case_id: str | None = None
) -> list[Document]:
    """The documents of a request or a case, oldest first (no content is decrypted)."""
    stmt = select(Document).order_by(Document.created_at)
    if request_id is not None:
        stmt = stmt.where(Document.request_id == request_id)
    if case_id is not None:
        stmt = stmt.where(Document.case_id == case_id)
    return list(session.scalars(stmt))


def open_document(session: Session, settings: Settings, *, actor: Actor, doc_id: str) -> Opened:
    """A document's content for staff allowed to read personal data; the read is audited."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    doc = session.get(Document, doc_id)
    if doc is None or doc.sealed_content is None:
        raise NotFoundError("No such document (or it was destroyed with its record).")
    vault = _vault(settings)
    opened = Opened(
        filename=vault.decrypt(doc.sealed_name.encode()).decode(),
        content_type=doc.content_type,
        content=vault.decrypt(doc.sealed_content.encode()),
    )
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type="document",
        subject_id=doc.id,
        detail={"what": "document", "kind": doc.kind},
    )
    return opened


def destroy(session: Session, *, request_id: str | None = None, case_id: str | None = None) -> int:
    """Drop the content of a record's documents (at minimisation); returns how many."""
    count = 0
    for doc in listed(session, request_id=request_id, case_id=case_id):
        if doc.sealed_content is not None:
            doc.sealed_content = None
            doc.destroyed_at = utcnow()
            count += 1
    session.flush()
    return count
