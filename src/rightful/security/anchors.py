"""Chain heads kept outside the store: what catches a log cut short with its heads rewritten.

A chain's head (security/chain.py) and the consent log's signed tree heads live in the same
database as the rows. Whoever can write that database can delete the newest rows and rewrite the
audit head (or delete the consent log's newest heads: an older, genuinely signed head is left),
and the store alone still holds together. An anchor is a copy of a verified head, signed,
appended as one JSON line to a file of its own in RIGHTFUL_AUDIT_ANCHOR_DIR, which the operator
puts on other storage than the database's. Verifying then holds the chain to every anchor whose
signature holds: the chain must still have the anchored number of events, and the anchored hash
at that one. An anchor whose signature fails is reported and never trusted.

A head is anchored only after the chain was found intact, so a broken chain is never anchored as
if it were whole, and a check that finds it broken keeps finding it broken.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.core.files import PRIVATE_FILE, new_private_dir
from rightful.security import signing_keys
from rightful.security.chain_check import R, Verdict

AUDIT, CONSENT = "audit", "consent"
AUDIT_KEYS = "audit-anchor"  # the signing purpose of the audit log's anchors (signing_keys)
FORGED_ANCHOR = "forged_anchor"
SHORTER_THAN_ANCHORED = "shorter_than_anchored"
DIFFERS_FROM_ANCHOR = "differs_from_anchor"


@dataclass(frozen=True)
class Anchor:
    """One line of an anchor file: a chain's head as it was when anchored, signed."""

    line: int
    events: int
    hash: str  # the audit log: its last event's hash; the consent log: its tree's root
    at: datetime  # when it was anchored
    key_id: str
    signature: str
    timestamp: int | None = None  # the consent log's signed head: its own time (ms)

    def when(self) -> str:
        """The anchor's time as people read it."""
        return f"{self.at:%Y-%m-%d %H:%M} UTC"


@dataclass
class Anchors:
    """A chain's anchors: those whose signature holds (oldest first), and the first that fails."""

    path: Path
    genuine: list[Anchor] = field(default_factory=list)
    forged: int | None = None  # the line number of the first anchor not to be trusted

    def forged_message(self, title: str) -> str:
        """What a forged anchor means, in words."""
        return (
            f"Line {self.forged} of {self.path} is not a head of {title.lower()} signed by one "
            "of our keys: the anchor was forged or changed, and was not trusted."
        )


def path_of(settings: Settings, chain: str) -> Path:
    """The file a chain's anchors are appended to."""
    return settings.anchor_dir / f"{chain}-anchors.jsonl"


def append(settings: Settings, chain: str, record: dict[str, Any]) -> str:
    """Append one anchor line (owner-only file, flushed to disk); returns the line."""
    new_private_dir(settings.anchor_dir)
    line = json.dumps({"chain": chain, "v": 1, **record}, sort_keys=True) + "\n"
    # One write() with O_APPEND: lines from two processes never interleave on a local disk.
    fd = os.open(path_of(settings, chain), os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return line.rstrip("\n")


def read(
    session: Session,
    settings: Settings,
    chain: str,
    purpose: str,
    message: Callable[[Anchor], bytes],
) -> Anchors:
    """A chain's anchors, each signature checked against the keys published for `purpose` (and
    each key against the one its data-key version derives, while that version lives)."""
    found = Anchors(path_of(settings, chain))
    if not found.path.exists():
        return found
    keys = {k.key_id: k for k in signing_keys.published(session, purpose)}
    text = found.path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        anchor = _parse(number, line, chain)
        key = keys.get(anchor.key_id) if anchor is not None else None
        if (
            anchor is not None
            and key is not None
            and signing_keys.is_genuine(settings, key, purpose) is not False
            and signing_keys.verify(key.public_key, anchor.signature, message(anchor))
        ):
            found.genuine.append(anchor)
        elif found.forged is None:
            found.forged = number
    return found


def _parse(number: int, line: str, chain: str) -> Anchor | None:
    try:
        record = json.loads(line)
        if record["chain"] != chain:
            return None
        stamp = record.get("timestamp")
        return Anchor(
            number,
            int(record["events"]),
            str(record["hash"]),
            datetime.fromisoformat(record["at"]),
            str(record["key_id"]),
            str(record["signature"]),
            int(stamp) if stamp is not None else None,
        )
    except (ValueError, KeyError, TypeError):
        return None


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes a head is signed as: JSON with sorted keys and no spaces."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


class Marks:
    """What a walk along a chain passes: the rows at the anchored counts, and the last one."""

    def __init__(self, wanted: set[int]) -> None:
        self.wanted = wanted
        self.count = 0
        self.at: dict[int, tuple[int, str]] = {}  # count -> (row id, hash)
        self.last: tuple[int, str] | None = None

    def watch(self, rows: Iterable[R]) -> Iterator[R]:
        """`rows`, unchanged, noting what the anchors need on the way."""
        for row in rows:
            self.count += 1
            self.last = (row.id, row.hash)
            if self.count in self.wanted:
                self.at[self.count] = self.last
            yield row


def hold(verdict: Verdict, found: Anchors, marks: Marks, title: str) -> Verdict:
    """A chain's verdict held to its anchors: it must still have each anchor's count of events,
    the anchored hash at that one. A chain broken in itself is reported as it is."""
    if not verdict.intact:
        return verdict
    for anchor in reversed(found.genuine):  # the newest says the most
        if marks.count < anchor.events:
            missing = anchor.events - marks.count
            return replace(
                verdict,
                intact=False,
                problem=SHORTER_THAN_ANCHORED,
                broken_at=marks.last[0] if marks.last else None,
                message=f"The log holds fewer events than it did on {anchor.when()}: "
                f"{missing} event{'s' if missing != 1 else ''} at the end "
                f"{'are' if missing != 1 else 'is'} missing (it held {anchor.events}, anchored "
                f"on line {anchor.line} of {found.path}; it holds {marks.count}).",
            )
        row_id, row_hash = marks.at.get(anchor.events, (None, None))
        if row_hash != anchor.hash:
            return replace(
                verdict,
                intact=False,
                problem=DIFFERS_FROM_ANCHOR,
                broken_at=row_id,
                message=f"Event {row_id} differs from the one anchored on {anchor.when()} "
                f"(line {anchor.line} of {found.path}): the events up to it were changed or "
                "replaced, and their hashes computed again.",
            )
    if found.forged is not None:
        return replace(
            verdict, intact=False, problem=FORGED_ANCHOR, message=found.forged_message(title)
        )
    if found.genuine:
        return replace(verdict, anchored=found.genuine[-1].at.isoformat())
    return verdict


def newest_line(settings: Settings, chain: str) -> str | None:
    """The last line of a chain's anchor file, as written (None without one)."""
    path = path_of(settings, chain)
    if not path.exists():
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[-1] if lines else None
