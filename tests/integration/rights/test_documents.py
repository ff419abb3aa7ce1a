"""Documents people send are sealed at rest, read only with an audited reason, and destroyed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from rightful.core.db import unit_of_work
from rightful.core.errors import ForbiddenError, InvalidInputError
from rightful.core.runtime import build_runtime
from rightful.migrations import upgrade
from rightful.rights import documents
from rightful.security.audit import events_for
from rightful.security.permissions import Role, staff_actor
from tests.support.app import make_settings

SCAN = b"%PDF-1.7 Dear privacy team, please delete my data. Jordan Rivers, 12 Elm St"


def test_a_letter_is_sealed_opened_with_an_audit_event_and_destroyed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    analyst = staff_actor(name="analyst@lumen.example", role=Role.ANALYST, staff_id=1)
    with unit_of_work(runtime.sessions) as session:
        doc = documents.store(
            session,
            settings,
            kind="letter",
            filename="jordan-rivers-letter.pdf",
            content_type="application/pdf",
            content=SCAN,
            uploaded_by="analyst@lumen.example",
            request_id="r1",
        )
        doc_id = doc.id
    with runtime.engine.connect() as conn:
        raw = conn.execute(text("SELECT sealed_name, sealed_content FROM documents")).one()
    assert b"Jordan" not in (raw[1] or "").encode() and "jordan" not in raw[0]

    with unit_of_work(runtime.sessions) as session:
        opened = documents.open_document(session, settings, actor=analyst, doc_id=doc_id)
        reads = events_for(session, subject_type="document", subject_id=doc_id)
    assert opened.content == SCAN and opened.filename == "jordan-rivers-letter.pdf"
    assert [e.action for e in reads] == ["document.stored", "staff.read_personal"]

    viewer = staff_actor(name="viewer@lumen.example", role=Role.VIEWER, staff_id=2)
    with unit_of_work(runtime.sessions) as session, pytest.raises(ForbiddenError):
        documents.open_document(session, settings, actor=viewer, doc_id=doc_id)

    with unit_of_work(runtime.sessions) as session:
        assert documents.destroy(session, request_id="r1") == 1
    with unit_of_work(runtime.sessions) as session:
        kept = session.scalars(select(documents.Document)).one()
        assert kept.sealed_content is None and kept.destroyed_at is not None
    runtime.engine.dispose()


@pytest.mark.parametrize(
    ("content_type", "content", "message"),
    [
        ("application/x-msdownload", b"MZ", "Send a PDF"),
        ("application/pdf", b"", "empty"),
        ("application/pdf", b"x" * (documents.MAX_BYTES + 1), "larger than 10 MB"),
    ],
)
def test_bad_files_are_refused_with_a_reason(
    tmp_path: Path, content_type: str, content: bytes, message: str
) -> None:
    settings = make_settings(tmp_path)
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    with unit_of_work(runtime.sessions) as session, pytest.raises(InvalidInputError) as err:
        documents.store(
            session,
            settings,
            kind="letter",
            filename="f",
            content_type=content_type,
            content=content,
            uploaded_by="analyst@lumen.example",
        )
    assert message in str(err.value)
    runtime.engine.dispose()
