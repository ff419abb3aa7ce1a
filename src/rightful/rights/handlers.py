"""What each automated request kind does when it runs; the registry (rights/kinds.py) names
the handler of each kind. A handler returns the outcome to record and tell the person, or None
while it waits (for business partners to confirm)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from rightful.consent.opt_out import record_opt_out
from rightful.core.config import Settings
from rightful.inventory.revision import load_map
from rightful.rights import correction_run, service
from rightful.rights.correction_values import CORRECTABLE
from rightful.rights.erasure_finish import ErasureOutcome
from rightful.rights.erasure_finish import erase as erase_for
from rightful.rights.models import RightsRequest
from rightful.rights.packaging import build_categories, build_package, download_url
from rightful.rights.types import Status


@dataclass(frozen=True)
class Outcome:
    """What a run did: kept on the request, audited, and told to the person."""

    summary: dict[str, Any]
    detail: dict[str, Any]
    template: str
    context: dict[str, Any]
    status: Status = Status.COMPLETED


def download(
    settings: Settings,
    req: RightsRequest,
    counts: dict[str, int],
    by_hand: list[dict[str, Any]] | None = None,
) -> Outcome:
    """What a kept package records and tells the person (alone or in a batch)."""
    by_hand = by_hand or []
    waived = [t for t in by_hand if t["status"] == "waived"]
    return Outcome(
        summary={"rows": counts, **({"tasks": by_hand} if by_hand else {})},
        detail={
            "collections": len(counts),
            "rows": sum(counts.values()),
            **(
                {"tasks_done": len(by_hand) - len(waived), "tasks_waived": len(waived)}
                if by_hand
                else {}
            ),
        },
        template="completed",
        context={
            "download_url": download_url(settings, req.id),
            "days": settings.package_link_days,
            "tasks": by_hand,
        },
        # A system no one searched is a part of the request not carried out.
        status=Status.PARTIALLY_COMPLETED if waived else Status.COMPLETED,
    )


def package(session: Session, settings: Settings, req: RightsRequest) -> Outcome | None:
    """Access and portability: every row found, in a download (None while manual tasks for
    systems handled by hand are open)."""
    built = build_package(session, settings, req)
    if built is None:
        return None
    return download(settings, req, built.counts, built.by_hand)


def categories(session: Session, settings: Settings, req: RightsRequest) -> Outcome:
    """Know: the categories collected and shared, from the data map, in a download."""
    build_categories(session, settings, req)
    return download(settings, req, {})


def erase(session: Session, settings: Settings, req: RightsRequest) -> Outcome | None:
    """Deletion: the approved erasure, then partners told; None while they have not answered."""
    outcome = erase_for(session, settings, req)
    return None if outcome is None else erased(outcome)


def erased(outcome: ErasureOutcome) -> Outcome:
    """What a finished deletion records and tells the person (alone or in a batch)."""
    return Outcome(
        summary=outcome.summary,
        detail=outcome.detail,
        template="erased",
        context=outcome.context,
        status=Status.PARTIALLY_COMPLETED if outcome.partial else Status.COMPLETED,
    )


def correct(session: Session, settings: Settings, req: RightsRequest) -> Outcome:
    """Correction: the new value written where the old one is kept; the record and the e-mail
    say where the stores reported rows changed."""
    changed = correction_run.correct(session, settings, req)
    item = CORRECTABLE[service.identities_of(settings, req)["correction_item"]]
    names = {s.key: s.name for s in load_map(session).systems.values()}
    places = sorted({names.get(c["system"], c["system"]) for c in changed})
    return Outcome(
        summary={"corrected": changed},
        detail={"fields_changed": sum(c["rows"] for c in changed)},
        template="corrected",
        context={"item": item.label.removeprefix("My ").lower(), "places": places},
    )


def opt_out(session: Session, settings: Settings, req: RightsRequest) -> Outcome:
    """Opt-out of sale or sharing: recorded in the consent ledger and carried to partners."""
    # Into the consent ledger, like any other opt-out: it takes effect in every check at once
    # and is carried to the partners that receive personal information.
    recorded = record_opt_out(
        session,
        settings,
        email=service.identities_of(settings, req)["email"],
        jurisdiction=req.jurisdiction,
        reference=req.reference,
    )
    return Outcome(
        summary={"opted_out": recorded},
        detail={"choices_recorded": len(recorded)},
        template="opted_out",
        context={"days": 10, "preferences_url": f"{settings.base_url}/preferences"},
    )
