"""What a consent receipt carries so that anyone can check it without Rightful's database:
for each event its entry in the signed log, its position and its inclusion proof, and once per
receipt the signed tree head those proofs lead to. An event not yet sequenced says so, and
where its proof can be fetched later (`GET /consent/receipts/proof/{event_id}`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent import log_entry, tree
from rightful.consent.models import ConsentEvent
from rightful.core.config import Settings
from rightful.core.errors import NotFoundError

KEYS_PATH = "/.well-known/rightful-consent-keys.json"
VERIFY_PATH = "/consent/receipts/verify"


def proof_url(settings: Settings, event_uid: str) -> str:
    """Where the proof of one event can be fetched once it is in the log."""
    return f"{settings.base_url}/consent/receipts/proof/{event_uid}"


def signed_head(settings: Settings, head: tree.SignedHead) -> dict[str, Any]:
    """A signed tree head as a receipt and the proof endpoint show it."""
    return {"log": log_entry.LOG_NAME, **head.as_dict(), "keys": settings.base_url + KEYS_PATH}


def blocks(
    session: Session, settings: Settings, events: list[ConsentEvent]
) -> tuple[dict[str, dict[str, Any]], tree.SignedHead | None]:
    """Each event's `log` block, by event uid, and the signed head the proofs lead to."""
    head = tree.latest_head(session)
    size = head.tree_size if head else 0
    included = [e for e in events if e.position is not None and e.position < size]
    proofs = tree.inclusion_proofs(
        session, [e.position for e in included if e.position is not None], size
    )
    found: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.position is not None and e.position in proofs:
            found[e.uid] = {
                "status": "included",
                "position": e.position,
                "entry": log_entry.entry(e, e.position),
                "inclusion_proof": proofs[e.position],
            }
        else:
            found[e.uid] = {
                "status": "pending",
                "explanation": (
                    "This change is being added to our signed consent log, usually within "
                    "seconds. Its proof will then be at proof_url."
                ),
                "proof_url": proof_url(settings, e.uid),
            }
    return found, head if included else None


def proof_of(session: Session, settings: Settings, event_uid: str) -> dict[str, Any]:
    """One event's entry, position, inclusion proof and signed head, or that it is pending;
    NotFoundError for an id that is not an event's (ids are random: guessing finds none)."""
    event = session.scalar(select(ConsentEvent).where(ConsentEvent.uid == event_uid[:32]))
    if event is None:
        raise NotFoundError("There is no such consent event.")
    found, head = blocks(session, settings, [event])
    answer: dict[str, Any] = {"event_id": event.uid, "log": found[event.uid]}
    if head is not None:
        answer["tree_head"] = signed_head(settings, head)
    return answer


def consistency(session: Session, settings: Settings, first: int, second: int) -> dict[str, Any]:
    """The proof that the log signed at size `first` is a prefix of the one signed at `second`,
    with both signed heads; NotFoundError unless both sizes were signed, first before second."""
    old, new = tree.head_of(session, first), tree.head_of(session, second)
    if old is None or new is None or first > second:
        raise NotFoundError("We signed no such pair of log heads (the first must be the smaller).")
    return {
        "first": signed_head(settings, old),
        "second": signed_head(settings, new),
        "consistency_proof": tree.consistency_proof(session, first, second),
    }
