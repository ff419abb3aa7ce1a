"""The audit log is a hash chain: any edit to a past event is found."""

from pathlib import Path

from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from rightful.all_models import Base
from rightful.security import audit
from rightful.security.models import AuditEvent


def test_an_edited_event_breaks_the_chain_at_that_event(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/a.db")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for i in range(4):
            audit.record(session, actor="a", action=f"x{i}", subject_type="t", subject_id=str(i))
        session.commit()
        ids = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
        assert audit.verify_chain(session).intact
        session.execute(update(AuditEvent).where(AuditEvent.id == ids[2]).values(actor="mallory"))
        session.commit()
        assert audit.verify_chain(session).broken_at == ids[2]
    engine.dispose()
