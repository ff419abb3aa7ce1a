"""A year of California requests (and a few around it) with every outcome the metrics count,
recorded through the rights service at the moments they happened (the clock frozen at each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from rightful.core import clock
from rightful.core.config import Settings
from rightful.rights import service
from rightful.rights.appeals import appeal_vault
from rightful.rights.clock_models import Appeal
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.rights.types import Status
from rightful.security.permissions import system_actor

OFFICER = system_actor("officer@lumen.example")
S = Status


def at(when: str) -> datetime:
    """A moment, UTC: "2025-01-10" is 18:00 UTC, the same date in California and Virginia."""
    return datetime.fromisoformat(when if "T" in when else when + "T18:00").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """Request references by the name the hand count uses."""

    refs: dict[str, str]


def _open(
    session: Session, settings: Settings, name: str, kind: str, received: str, place: str
) -> RightsRequest:
    clock.freeze(at(received))
    data = RequestIn(
        request_type=kind,
        email=f"{name.lower()}@example.com",
        name=f"Person {name}",
        jurisdiction=place,
        declaration_signature=f"Person {name}" if kind == "access" else None,
    )
    return service.create_request(session, settings, data, received_at=at(received))


def _step(
    session: Session, req: RightsRequest, when: str, *moves: Status, reason: str | None = None
) -> None:
    """Move the request through `moves` at `when`; the last move records `reason`."""
    clock.freeze(at(when))
    for i, to in enumerate(moves):
        last = i == len(moves) - 1
        service.move(session, req, to, actor="system", reason=reason if last else None)


def _done(session: Session, req: RightsRequest, when: str, to: Status = S.COMPLETED) -> None:
    _step(session, req, when, S.VERIFIED, S.EXECUTING, to)


def _deny(
    session: Session, settings: Settings, req: RightsRequest, when: str, basis: str | None
) -> None:
    clock.freeze(at(when))
    service.deny_request(
        session,
        settings,
        request_id=req.id,
        actor=OFFICER,
        reason="We explained the reason to the person in full.",
        basis=basis,
    )


def seed_year(session: Session, settings: Settings) -> Seeded:
    """The requests of the hand count (see test_metrics.py)."""
    r: dict[str, RightsRequest] = {}
    ca = "US-CA"
    try:
        for name, kind, received, place in (
            ("K1", "know_categories", "2025-01-10", ca),
            ("K2", "know_categories", "2025-02-01", ca),
            ("K3", "know_categories", "2025-03-01", ca),
            ("K4", "know_categories", "2025-12-20", ca),
            ("K5", "know_categories", "2025-04-01", ca),
            ("K6", "know_categories", "2026-01-01T03:00", ca),  # 31 Dec 2025 in California
            ("A1", "access", "2025-09-01", ca),
            ("D1", "delete", "2025-05-01", ca),
            ("D2", "delete", "2025-05-10", ca),
            ("D3", "delete", "2025-06-01", ca),
            ("D4", "delete", "2025-06-10", ca),
            ("D5", "delete", "2025-11-01", ca),
            ("O1", "opt_out_sale", "2025-02-02", ca),
            ("O2", "opt_out_sale", "2025-02-05", ca),
            ("L1", "limit_sensitive", "2025-08-01", ca),
            ("X1", "know_categories", "2024-12-31", ca),
            ("V1", "delete", "2025-03-03", "US-VA"),
        ):
            r[name] = _open(session, settings, name, kind, received, place)
        _done(session, r["K1"], "2025-01-20")
        _done(session, r["K2"], "2025-02-15", S.PARTIALLY_COMPLETED)
        _step(session, r["K3"], "2025-03-04", S.VERIFYING, S.DENIED, reason="unable_to_verify")
        _done(session, r["K4"], "2026-01-09")
        _step(session, r["K5"], "2025-04-02", S.WITHDRAWN)
        _done(session, r["K6"], "2026-01-02")
        _done(session, r["A1"], "2025-09-15")
        clock.freeze(at("2025-06-01"))
        service.extend_request(
            session,
            settings,
            request_id=r["D1"].id,
            actor=OFFICER,
            reason="Many systems to search; we told the person why.",
        )
        _done(session, r["D1"], "2025-07-20")
        _deny(session, settings, r["D2"], "2025-05-30", "exempt")
        _step(session, r["D3"], "2025-06-05", S.DENIED, reason="consumer_refused")
        _deny(session, settings, r["D4"], "2025-06-16", None)
        _done(session, r["O1"], "2025-02-03")
        _step(session, r["O2"], "2025-02-06", S.VERIFYING, S.DENIED, reason="verification_used_up")
        _done(session, r["L1"], "2025-08-11")
        _done(session, r["X1"], "2025-01-05")
        # Virginia: denied, appealed, reversed, then carried out.
        _deny(session, settings, r["V1"], "2025-03-10", None)
        session.add(
            Appeal(
                id="appeal-v1",
                request_id=r["V1"].id,
                status="decided",
                reason=appeal_vault(settings).encrypt_json("Please look again."),
                received_at=at("2025-03-12"),
                due=at("2025-05-11").date(),
                decided_by="second@lumen.example",
                decided_at=at("2025-04-01"),
                outcome="reversed",
            )
        )
        _step(session, r["V1"], "2025-04-01", S.AWAITING_APPROVAL, reason="appeal_reversed")
        _step(session, r["V1"], "2025-04-05", S.EXECUTING, S.COMPLETED)
        session.flush()
    finally:
        clock.freeze(None)
    return Seeded({name: req.reference for name, req in r.items()})
