"""A savepoint rolled back takes its audit rows back with it, and the chain goes on whole."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from rightful.all_models import Base
from rightful.security import audit, chain


def _event(session: Session, n: int) -> None:
    audit.record(session, actor="a", action=f"x{n}", subject_type="t", subject_id=str(n))


def test_rows_after_a_rolled_back_savepoint_chain_onto_the_last_row_kept(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/a.db")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        _event(session, 1)
        with pytest.raises(ValueError), chain.savepoint(session):
            _event(session, 2)
            raise ValueError("this line is refused")
        _event(session, 3)
        session.commit()
        verdict = audit.verify_chain(session)
        assert verdict.intact, verdict.message
        assert verdict.events == verdict.head_events == 2
    engine.dispose()
