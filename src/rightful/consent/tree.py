"""The consent log's tree as stored: its perfect subtrees' hashes, its signed heads, and the
proofs built from them.

Every perfect subtree is stored once, when its last entry is sequenced (about 2n rows for n
entries). A subtree a proof needs is the fold of at most log₂ n of them (merkle.py), so an
inclusion or consistency proof reads at most log₂² n rows, in one query; a tree of a million
entries: under 400 rows, whatever the event's age. Nothing here trusts these rows for
verification: `log_check.verify` recomputes every leaf from the events themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from rightful.consent import merkle
from rightful.consent.models import ConsentLogNode, ConsentTreeHead

_CHUNK = 400  # pairs per query: well under any driver's parameter limit


@dataclass(frozen=True)
class SignedHead:
    """A signed tree head as published and put in receipts."""

    tree_size: int
    root_hash: str
    timestamp: int  # milliseconds since the epoch
    key_id: str
    signature: str

    def as_dict(self) -> dict[str, Any]:
        """The head as JSON."""
        return asdict(self)


def _head(row: ConsentTreeHead) -> SignedHead:
    return SignedHead(row.tree_size, row.root_hash, row.timestamp, row.key_id, row.signature)


def latest_head(session: Session) -> SignedHead | None:
    """The newest signed head (None before anything is sequenced)."""
    row = session.scalar(select(ConsentTreeHead).order_by(ConsentTreeHead.tree_size.desc()))
    return _head(row) if row is not None else None


def head_of(session: Session, tree_size: int) -> SignedHead | None:
    """The signed head of one size, if one was published."""
    row = session.get(ConsentTreeHead, tree_size)
    return _head(row) if row is not None else None


def nodes(session: Session, wanted: set[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The stored hashes of some perfect subtrees; KeyError later for one never stored."""
    found: dict[merkle.Node, bytes] = {}
    pairs = sorted(wanted)
    for i in range(0, len(pairs), _CHUNK):
        part = pairs[i : i + _CHUNK]
        rows = session.execute(
            select(ConsentLogNode.level, ConsentLogNode.number, ConsentLogNode.hash).where(
                or_(
                    *(
                        and_(ConsentLogNode.level == lv, ConsentLogNode.number == n)
                        for lv, n in part
                    )
                )
            )
        )
        found.update({(lv, n): bytes.fromhex(h) for lv, n, h in rows})
    return found


def frontier(session: Session, size: int) -> merkle.Frontier:
    """The tree of `size` entries as the sequencer extends it: its perfect parts."""
    parts = merkle.perfect_parts(0, size)
    stored = nodes(session, set(parts))
    return merkle.Frontier(size, [stored[p] for p in parts])


def _hashes(session: Session, ranges: list[merkle.Range]) -> list[bytes]:
    wanted = {p for s, e in ranges for p in merkle.perfect_parts(s, e)}
    stored = nodes(session, wanted)
    return merkle.hashes_for(ranges, stored.__getitem__)


def inclusion_proof(session: Session, position: int, tree_size: int) -> list[str]:
    """The audit path of the entry at `position` in the tree of `tree_size` entries, hex."""
    return inclusion_proofs(session, [position], tree_size)[position]


def inclusion_proofs(
    session: Session, positions: list[int], tree_size: int
) -> dict[int, list[str]]:
    """The audit paths of several entries in one tree, their hashes read in one pass."""
    ranges = {p: merkle.inclusion_ranges(p, tree_size) for p in positions}
    wanted = {part for rs in ranges.values() for s, e in rs for part in merkle.perfect_parts(s, e)}
    stored = nodes(session, wanted)
    return {
        p: [h.hex() for h in merkle.hashes_for(rs, stored.__getitem__)] for p, rs in ranges.items()
    }


def consistency_proof(session: Session, first: int, second: int) -> list[str]:
    """The proof that the tree of `first` entries is a prefix of the tree of `second`, hex."""
    return [h.hex() for h in _hashes(session, merkle.consistency_ranges(first, second))]
