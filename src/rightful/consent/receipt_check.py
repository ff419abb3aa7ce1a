"""Checking a consent receipt from its own content and the published public keys alone.

Nothing here reads Rightful's database: for each event the receipt covers, the entry must say
what the receipt says (the same event, person, choice, time, notice and how it was made); its
leaf hash is computed from that entry; the inclusion proof must lead from it to the root of the
receipt's signed tree head; and that head's signature must hold under one of the published keys
(`/.well-known/rightful-consent-keys.json`). Anyone can repeat this with any SHA-256 and Ed25519
implementation (docs/consent.md says how).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rightful.consent import log_entry, merkle
from rightful.core.i18n import N_
from rightful.security import signing_keys

GENUINE, PENDING, REFUSED = "genuine", "pending", "refused"
# What the receipt shows of an event, and the entry field each must equal.
_SAME = {
    "event_id": "event_id",
    "event_time": "at",
    "event_type": "state",
    "purpose_id": "purpose",
    "channel": "channel",
    "collection_method": "interface",
    "notice_version": "notice_version",
    "jurisdiction": "jurisdiction",
}

# Why a change's own words were refused, per field of the receipt, for a person to read.
_DIFFERS = {
    "event_id": N_("The receipt names this change differently from our log."),
    "event_time": N_("The receipt gives this change another date or time than our log."),
    "event_type": N_(
        "The receipt shows another choice (given or withdrawn) than our log recorded."
    ),
    "purpose_id": N_("The receipt shows this choice for another purpose than our log recorded."),
    "channel": N_(
        "The receipt shows this choice for another way of contacting you than our log recorded."
    ),
    "collection_method": N_(
        "The receipt says this choice was made somewhere else than our log recorded."
    ),
    "notice_version": N_("The receipt names another version of our notice than our log recorded."),
    "jurisdiction": N_("The receipt names another place than our log recorded."),
    "pii_principal_id": N_("The receipt is for another person than our log recorded."),
}


@dataclass(frozen=True)
class EventCheck:
    """What was found for one event of the receipt."""

    event_id: str
    outcome: str  # genuine | pending | refused
    position: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class ReceiptCheck:
    """The whole receipt: genuine only when every event is, refused when any one is not."""

    outcome: str
    events: list[EventCheck] = field(default_factory=list)
    tree_size: int | None = None
    signed_at_ms: int | None = None
    reason: str = ""

    @property
    def included(self) -> list[EventCheck]:
        """The events proven to be in the log."""
        return [e for e in self.events if e.outcome == GENUINE]


def _refused(reason: str) -> ReceiptCheck:
    return ReceiptCheck(REFUSED, reason=reason)


def _head(receipt: dict[str, Any], keys: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    """The receipt's signed head if its signature holds, else why not."""
    proof = receipt.get("proof")
    head = proof.get("tree_head") if isinstance(proof, dict) else None
    if head is None:
        return None, ""
    try:
        size, root, stamp = int(head["tree_size"]), str(head["root_hash"]), int(head["timestamp"])
        key_id, signature = str(head["key_id"]), str(head["signature"])
    except (KeyError, TypeError, ValueError):
        return None, N_("Its signed log head is incomplete.")
    public = keys.get(key_id)
    if public is None:
        return None, N_("Its log head was signed with a key we never published.")
    if not signing_keys.verify(public, signature, log_entry.head_message(size, root, stamp)):
        return None, N_("The signature on its log head does not hold: the head was changed.")
    return head, ""


def _event(
    receipt: dict[str, Any], event: dict[str, Any], head: dict[str, Any] | None
) -> EventCheck:
    event_id = str(event.get("event_id", ""))[:64]
    log = event.get("log")
    if not isinstance(log, dict) or log.get("status") == PENDING:
        return EventCheck(event_id, PENDING)
    entry = log.get("entry")
    if not isinstance(entry, dict):
        return EventCheck(event_id, REFUSED, reason=N_("It has no log entry."))
    position = entry.get("position")
    if not isinstance(position, int) or position < 0:
        return EventCheck(event_id, REFUSED, reason=N_("Its log entry has no valid position."))
    differs = [shown for shown, key in _SAME.items() if event.get(shown) != entry.get(key)]
    if entry.get("subject") != receipt.get("pii_principal_id"):
        differs.append("pii_principal_id")
    if differs:  # the first difference, in words: the field names mean nothing to a reader
        return EventCheck(event_id, REFUSED, position, _DIFFERS[differs[0]])
    if head is None:
        return EventCheck(event_id, REFUSED, position, N_("It has no signed log head to check."))
    try:
        path = [bytes.fromhex(h) for h in log.get("inclusion_proof", [])]
        root = bytes.fromhex(head["root_hash"])
    except (TypeError, ValueError):
        return EventCheck(event_id, REFUSED, position, N_("Its proof is not readable."))
    leaf = log_entry.leaf(entry)
    if not merkle.verify_inclusion(position, int(head["tree_size"]), leaf, path, root):
        return EventCheck(
            event_id,
            REFUSED,
            position,
            N_("Its proof does not lead to the signed log: the receipt was changed."),
        )
    return EventCheck(event_id, GENUINE, position)


def check(receipt: Any, keys: dict[str, str]) -> ReceiptCheck:
    """Check a receipt (parsed JSON) against the published keys (key id → public key)."""
    if not isinstance(receipt, dict) or not isinstance(receipt.get("events"), list):
        return _refused(N_("This is not one of our consent receipts."))
    if not receipt["events"]:
        return _refused(N_("This receipt covers no changes, so there is nothing to check."))
    head, why = _head(receipt, keys)
    if why:
        return _refused(why)
    found = [_event(receipt, e if isinstance(e, dict) else {}, head) for e in receipt["events"]]
    size = int(head["tree_size"]) if head else None
    stamp = int(head["timestamp"]) if head else None
    if any(e.outcome == REFUSED for e in found):
        return ReceiptCheck(REFUSED, found, size, stamp)
    if any(e.outcome == PENDING for e in found):
        return ReceiptCheck(PENDING, found, size, stamp)
    return ReceiptCheck(GENUINE, found, size, stamp)
