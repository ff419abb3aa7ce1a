"""Verifying the whole consent log against its signed tree heads, and saying where it breaks.

Every head's signature is checked against the recorded public keys (and each key against the
one its data-key version derives, while that version lives). The events are then walked in
position order, each leaf computed again from the event itself; the tree grows in memory
(O(log n)) and its root is compared with every signed head on the way. Found, with where:

- a position missing (an event deleted from the middle): the first missing position;
- a position taken twice (an event inserted): that position;
- an event that no longer matches the leaf stored at its position: edited there, or moved there
  from another position (reordered; found when the other event moved too, as in a swap);
- a root that differs from a signed head though every stored leaf agreed (the stored leaves were
  rewritten too): the range of positions between that head and the one before it;
- fewer events than the newest signed head counts (the newest events deleted): where it ends.

Events not yet sequenced are counted, not judged: nothing has been signed for them yet. Events
from before the tree keep their old chain, which is walked too (security/chain_check.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rightful.consent import log_anchor, log_entry, merkle
from rightful.consent.models import ConsentEvent, ConsentLogNode, ConsentTreeHead
from rightful.consent.tree import SignedHead
from rightful.core.config import Settings
from rightful.security import anchors, chain, chain_check, signing_keys
from rightful.security.chain_check import Verdict

EDITED, MOVED, DELETED, INSERTED = "edited", "reordered", "deleted", "inserted"
MISSING_AT_END, HEAD_MISMATCH, BAD_SIGNATURE = "missing_at_end", "head_mismatch", "bad_signature"
_WATCH = 64  # mismatched events kept to tell a move from an edit


@dataclass
class _Walk:
    heads: list[ConsentTreeHead | SignedHead]  # the store's, and those anchored outside it
    count: int = 0
    tree: merkle.Frontier = field(default_factory=merkle.Frontier)
    head_at: int = 0  # the next head to compare with
    found: list[tuple[int, int, Verdict]] = field(default_factory=list)  # (rank, position, …)
    mismatched: list[tuple[int, ConsentEvent, str | None]] = field(default_factory=list)
    last: ConsentEvent | None = None


def _rows(session: Session) -> Iterator[Any]:
    """(event, its stored leaf hash) in position order, streamed."""
    node = ConsentLogNode
    stmt = (
        select(ConsentEvent, node.hash)
        .outerjoin(node, (node.level == 0) & (node.number == ConsentEvent.position))
        .where(ConsentEvent.position.is_not(None))
        .order_by(ConsentEvent.position)
        .execution_options(yield_per=2000)
    )
    yield from session.execute(stmt)


# Which problem is reported when several are found: a forged head first; then what is found
# at one position, the earliest; the end of the log; and last a root that differs, which can
# only say between which heads.
_RANK = {BAD_SIGNATURE: 0, DELETED: 1, INSERTED: 1, MOVED: 1, EDITED: 1, MISSING_AT_END: 2}


def _broken(walk: _Walk, problem: str, at: ConsentEvent | None, position: int, text: str) -> None:
    verdict = Verdict(
        False,
        walk.count,
        walk.heads[-1].tree_size if walk.heads else 0,
        problem,
        at.id if at is not None else None,
        text,
        position=position,
        event=at.uid if at is not None else None,
    )
    walk.found.append((_RANK.get(problem, 3), position, verdict))


def _step(walk: _Walk, event: ConsentEvent, stored: str | None) -> None:
    assert event.position is not None  # only sequenced events are walked
    expected = walk.count
    if event.position < expected:
        _broken(
            walk,
            INSERTED,
            event,
            event.position,
            f"Position {event.position} is taken twice: event {event.uid} was inserted there.",
        )
        return
    if event.position > expected:
        gap = event.position - expected
        _broken(
            walk,
            DELETED,
            event,
            expected,
            f"{gap} event{'s' if gap != 1 else ''} missing "
            f"from position {expected:,}: deleted before event {event.uid} (position "
            f"{event.position:,}).",
        )
        for _ in range(gap):  # the tree keeps its shape, so later heads are still compared
            walk.tree.append(bytes(32))
            walk.count += 1
            _compare_heads(walk)
    leaf = log_entry.leaf(log_entry.entry(event, event.position))
    if stored != leaf.hex() and len(walk.mismatched) < _WATCH:
        walk.mismatched.append((event.position, event, stored))
    walk.tree.append(leaf)
    walk.count += 1
    _compare_heads(walk)
    walk.last = event


def _compare_heads(walk: _Walk) -> None:
    while walk.head_at < len(walk.heads) and walk.heads[walk.head_at].tree_size <= walk.count:
        head = walk.heads[walk.head_at]
        if head.tree_size == walk.count and walk.tree.root().hex() != head.root_hash:
            earlier = walk.heads[walk.head_at - 1].tree_size if walk.head_at else 0
            _broken(
                walk,
                HEAD_MISMATCH,
                None,
                earlier,
                f"The log's first {head.tree_size:,} "
                f"events do not match the head signed for them: events between positions "
                f"{earlier:,} and {head.tree_size - 1:,} were changed, reordered, inserted or "
                "deleted (their stored hashes were rewritten to hide it).",
            )
        walk.head_at += 1


def _moves(walk: _Walk) -> None:
    """Edited or moved: an event that matches the leaf stored at another mismatched position
    was moved from there."""
    stored_at = {p: s for p, _, s in walk.mismatched}
    for position, event, _ in walk.mismatched:
        for other, stored in stored_at.items():
            if other != position and log_entry.leaf(log_entry.entry(event, other)).hex() == stored:
                _broken(
                    walk,
                    MOVED,
                    event,
                    position,
                    f"Event {event.uid} is at position "
                    f"{position:,} but was logged at position {other:,}: events were "
                    "reordered.",
                )
                break
        else:
            _broken(
                walk,
                EDITED,
                event,
                position,
                f"Event {event.uid} at position {position:,} "
                "was changed: it no longer matches what the log recorded.",
            )


def _signatures(session: Session, settings: Settings | None, walk: _Walk) -> None:
    keys = {k.key_id: k for k in signing_keys.published(session, signing_keys.CONSENT_LOG)}
    forged = {
        k.key_id
        for k in keys.values()
        if settings is not None
        and signing_keys.is_genuine(settings, k, signing_keys.CONSENT_LOG) is False
    }
    for head in walk.heads:
        key = keys.get(head.key_id)
        message = log_entry.head_message(head.tree_size, head.root_hash, head.timestamp)
        if (
            key is None
            or key.key_id in forged
            or not signing_keys.verify(key.public_key, head.signature, message)
        ):
            _broken(
                walk,
                BAD_SIGNATURE,
                None,
                head.tree_size,
                f"The tree head of size "
                f"{head.tree_size:,} is not signed by one of our keys: it was forged or "
                "changed.",
            )
            return


def verify(session: Session, settings: Settings | None = None, *, anchor: bool = False) -> Verdict:
    """The whole log held to its signed heads (and its old chain's prefix to that chain's head)
    and, given the settings, to the heads anchored outside the store: intact, or the first
    problem and where. With `anchor`, an intact log's newest head is anchored too."""
    chained = select(ConsentEvent).where(ConsentEvent.hash.is_not(None)).order_by(ConsentEvent.id)
    legacy = chain_check.verify(  # events from before the tree: their hashes are set
        session, chain.CONSENT_CHAIN, lambda: cast(Any, session.scalars(chained)), _legacy_digest
    )
    if not legacy.intact:
        return legacy
    stored = list(session.scalars(select(ConsentTreeHead).order_by(ConsentTreeHead.tree_size)))
    found = log_anchor.read(session, settings) if settings is not None else None
    outside = _anchored_only(stored, found)
    walk = _Walk(sorted([*stored, *outside], key=lambda h: h.tree_size))
    _signatures(session, settings, walk)
    for event, stored in _rows(session):
        _step(walk, event, stored)
    _moves(walk)
    newest = walk.heads[-1].tree_size if walk.heads else 0
    if newest > walk.count:
        missing = newest - walk.count
        end = f"event {walk.last.uid}" if walk.last is not None else "its start"
        _broken(
            walk,
            MISSING_AT_END,
            walk.last,
            walk.count,
            _shorter(walk.heads[-1], outside, missing)
            + f"the log ends at {end} (position {walk.count - 1:,}), but we signed it with "
            f"{newest:,} events.",
        )
    if walk.found:
        return min(walk.found, key=lambda f: (f[0], f[1]))[2]
    if found is not None and found.forged is not None:
        return Verdict(
            False,
            walk.count,
            newest,
            anchors.FORGED_ANCHOR,
            None,
            found.forged_message("The consent log"),
        )
    pending = session.scalar(
        select(func.count()).select_from(ConsentEvent).where(ConsentEvent.position.is_(None))
    )
    waiting = f"; {pending} waiting to be added" if pending else ""
    verdict = Verdict(True, walk.count, newest, message=f"Intact: {walk.count} events{waiting}.")
    if found is None or settings is None:
        return verdict
    if anchor:
        log_anchor.append(session, settings, newest, found)
    return replace(verdict, anchored=found.genuine[-1].at.isoformat()) if found.genuine else verdict


def _anchored_only(
    stored: list[ConsentTreeHead], found: anchors.Anchors | None
) -> list[SignedHead]:
    """The anchored heads the store does not hold as they were anchored."""
    kept = {(h.tree_size, h.root_hash) for h in stored}
    genuine = found.genuine if found is not None else []
    return [log_anchor.as_head(a) for a in genuine if (a.events, a.hash) not in kept]


def _shorter(newest: ConsentTreeHead | SignedHead, outside: list[SignedHead], missing: int) -> str:
    """How the log's end falls short: of its own newest head, or of one anchored outside."""
    plural = "s" if missing != 1 else ""
    if newest not in outside:
        return f"{missing} event{plural} missing at the end: "
    signed = datetime.fromtimestamp(newest.timestamp / 1000, UTC)
    return (
        f"The log holds fewer events than it did on {signed:%Y-%m-%d %H:%M} UTC "
        f"(a head anchored outside the store): {missing} event{plural} at the end "
        f"{'are' if missing != 1 else 'is'} missing; "
    )


def _legacy_digest(prev_hash: str, event: Any) -> str:
    from rightful.consent.appending import event_digest

    return event_digest(prev_hash, event)
