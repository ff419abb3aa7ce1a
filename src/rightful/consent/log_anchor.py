"""The consent log's newest signed head, anchored outside the store (security/anchors.py).

The log's heads are signed already, so a database writer cannot forge one; but they can delete
the newest events with their heads, leaving an older head that is genuine and a log that holds
against it. The newest verified head is copied, its signature and all, to the consent anchor
file; `log_check.verify` walks the log against the anchored heads as against its own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful.consent import log_entry
from rightful.consent.tree import SignedHead, head_of
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.security import anchors, signing_keys


def _signed(anchor: anchors.Anchor) -> bytes:
    return log_entry.head_message(anchor.events, anchor.hash, anchor.timestamp or 0)


def read(session: Session, settings: Settings) -> anchors.Anchors:
    """The consent log's anchors, each signature checked against the log's published keys."""
    return anchors.read(session, settings, anchors.CONSENT, signing_keys.CONSENT_LOG, _signed)


def as_head(anchor: anchors.Anchor) -> SignedHead:
    """An anchored head in the shape of the store's own."""
    return SignedHead(
        anchor.events, anchor.hash, anchor.timestamp or 0, anchor.key_id, anchor.signature
    )


def append(session: Session, settings: Settings, tree_size: int, found: anchors.Anchors) -> None:
    """Anchor the signed head of `tree_size` entries (one the walk verified), unless the newest
    anchor is that head already."""
    head = head_of(session, tree_size)
    newest = found.genuine[-1] if found.genuine else None
    if head is None or (
        newest and (newest.events, newest.hash) == (head.tree_size, head.root_hash)
    ):
        return
    anchors.append(
        settings,
        anchors.CONSENT,
        {
            "events": head.tree_size,
            "hash": head.root_hash,
            "timestamp": head.timestamp,
            "at": utcnow().isoformat(),
            "key_id": head.key_id,
            "signature": head.signature,
        },
    )
