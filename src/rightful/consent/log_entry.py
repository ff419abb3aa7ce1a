"""What the consent log commits to: each event's entry, and each signed tree head's message.

Both are canonical JSON (sorted keys, no spaces, UTF-8), so anyone holding a receipt can build
the same bytes again and hash or verify them without Rightful's code or database. The entry
carries the event's position, so an event moved to another place no longer matches its leaf;
the proof and actor fields go in as digests (a receipt shows them without revealing them);
an event chained before the log was a tree carries its chain hash (docs/consent.md).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

from rightful.consent import merkle

LOG_NAME = "rightful-consent-log"
VERSION = 1


class LoggedEvent(Protocol):
    """What an entry reads of an event (an ORM row or a plain row)."""

    @property
    def uid(self) -> str: ...
    @property
    def subject_id(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def interface(self) -> str: ...
    @property
    def notice_version(self) -> str: ...
    @property
    def jurisdiction(self) -> str: ...
    @property
    def proof(self) -> dict[str, Any]: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def at(self) -> Any: ...
    @property
    def hash(self) -> str | None: ...


# One encoder for every call: `json.dumps` with these options builds a new one each time, a
# good part of what the sequencer spends on an entry.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that hashes and signatures are made over."""
    return _ENCODER.encode(value).encode()


def _digest(value: Any) -> str | None:
    return None if value is None else hashlib.sha256(canonical(value)).hexdigest()


def entry(event: LoggedEvent, position: int) -> dict[str, Any]:
    """The event as the log holds it at `position`."""
    return {
        "v": VERSION,
        "position": position,
        "event_id": event.uid,
        "subject": event.subject_id,
        "purpose": event.purpose,
        "channel": event.channel,
        "state": event.state,
        "interface": event.interface,
        "notice_version": event.notice_version,
        "jurisdiction": event.jurisdiction,
        "at": event.at.isoformat(),
        "proof_sha256": _digest(event.proof),
        "actor_sha256": _digest(event.actor),
        "chain_hash": event.hash,
    }


def leaf(entry_: dict[str, Any]) -> bytes:
    """An entry's leaf hash."""
    return merkle.leaf_hash(canonical(entry_))


def head_message(tree_size: int, root_hash: str, timestamp: int) -> bytes:
    """The bytes a tree head's signature is made over."""
    return canonical(
        {
            "log": LOG_NAME,
            "v": VERSION,
            "tree_size": tree_size,
            "root_hash": root_hash,
            "timestamp": timestamp,
        }
    )
