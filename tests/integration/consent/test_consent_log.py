"""The consent log: writers wait for no sequencing, the sequencer signs a tree head per batch,
`verify` finds an edited, a deleted, a reordered and an inserted event and says where, proofs
hold under an independent reading of RFC 9162, and a rotated key's old heads still verify."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.consent import catalog, ledger, sequencer, state, subjects, tree
from rightful.consent.catalog import Interface, State
from rightful.consent.models import (
    ConsentEvent,
    ConsentLogNode,
    ConsentSubject,
    ConsentTreeHead,
)
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.migrations import upgrade
from rightful.security import keys, rotation
from rightful.security.models import SigningKey


@dataclass
class Log:
    """A fresh store whose consent log has `events` events, sequenced in batches of three."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def record(self, n: int, start: int = 0) -> None:
        with self.sessions() as session:
            for i in range(start, start + n):
                person = subjects.person(session, self.settings, f"person{i}@example.com")
                choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
                ledger.record(
                    session, self.settings, person, choice, ledger.Collected(Interface.API)
                )
            session.commit()

    def sequence(self, batch: int = 3) -> int:
        return sequencer.run_once(self.sessions, self.settings, batch=batch)

    def verdict(self) -> Any:
        with self.sessions() as session:
            return ledger.verify(session, self.settings)

    def event(self, position: int) -> ConsentEvent:
        with self.sessions() as session:
            found = session.scalars(select(ConsentEvent).filter_by(position=position)).one()
            session.expunge(found)
            return found

    def sql(self, statement: Any, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM consent_states"))  # derived; refers to events
            conn.execute(statement, params)


EVENTS = 8


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Log]:
    settings = Settings(
        data_dir=tmp_path,
        secret_key=secrets.token_urlsafe(40),
        kek=keys.new_kek(),
        key_cache_seconds=0,
    )
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    made = Log(settings, engine, sessionmaker(engine))
    with made.sessions() as session:
        catalog.ensure_built_in(session)
        session.commit()
    made.record(EVENTS)
    assert made.sequence() == EVENTS
    yield made
    engine.dispose()


# --- RFC 9162, read independently: nothing below calls Rightful's Merkle code ------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def rfc_leaf(entry: dict[str, Any]) -> bytes:
    body = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return _h(b"\x00" + body)


def rfc_mth(leaves: list[bytes]) -> bytes:
    """§2.1.1: MTH of a list of leaf hashes."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _h(b"\x01" + rfc_mth(leaves[:k]) + rfc_mth(leaves[k:]))


def rfc_verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, path: list[bytes], root: bytes
) -> bool:
    """§2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            r = _h(b"\x01" + r + p)
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def rfc_verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: list[bytes]
) -> bool:
    """§2.1.4.2, step by step (first < second)."""
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    if fn % 2 == 1:
        while fn % 2 == 1:
            fn //= 2
            sn //= 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = _h(b"\x01" + c + fr)
            sr = _h(b"\x01" + c + sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            sr = _h(b"\x01" + sr + c)
        fn //= 2
        sn //= 2
    return fr == first_hash and sr == second_hash and sn == 0


def _entry(e: ConsentEvent) -> dict[str, Any]:
    """The entry as docs/consent.md describes it, built here from the event's own fields."""

    def digest(value: Any) -> str | None:
        if value is None:
            return None
        body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()

    return {
        "v": 1,
        "position": e.position,
        "event_id": e.uid,
        "subject": e.subject_id,
        "purpose": e.purpose,
        "channel": e.channel,
        "state": e.state,
        "interface": e.interface,
        "notice_version": e.notice_version,
        "jurisdiction": e.jurisdiction,
        "at": e.at.isoformat(),
        "proof_sha256": digest(e.proof),
        "actor_sha256": digest(e.actor),
        "chain_hash": e.hash,
    }


def _signed(head: ConsentTreeHead, public_key: str) -> bool:
    message = json.dumps(
        {
            "log": "rightful-consent-log",
            "v": 1,
            "tree_size": head.tree_size,
            "root_hash": head.root_hash,
            "timestamp": head.timestamp,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    key.verify(base64.b64decode(head.signature), message)  # raises when it does not hold
    return True


# --- Writing and sequencing ------------------------------------------------------------------


def test_a_choice_counts_at_once_though_it_is_not_in_the_log_yet(log: Log) -> None:
    log.record(1, start=100)
    with log.sessions() as session:
        newest = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
        assert newest is not None and newest.position is None
        person = session.get(ConsentSubject, newest.subject_id)
        choices = {(c.purpose, c.channel): c for c in state.current(session, person)}
        made = choices[(catalog.SALE_SHARE, "all")]
        assert (made.state, made.explicit, made.event_uid) == ("withdrawn", True, newest.uid)
    verdict = log.verdict()
    assert verdict.intact and verdict.message == f"Intact: {EVENTS} events; 1 waiting to be added."


def test_each_batch_gets_positions_in_arrival_order_and_a_signed_head(log: Log) -> None:
    with log.sessions() as session:
        events = list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))
        heads = list(session.scalars(select(ConsentTreeHead).order_by(ConsentTreeHead.tree_size)))
        (key,) = session.scalars(select(SigningKey)).all()
    assert [e.position for e in events] == list(range(EVENTS))
    assert [h.tree_size for h in heads] == [3, 6, 8]
    leaves = [rfc_leaf(_entry(e)) for e in events]
    for head in heads:
        assert bytes.fromhex(head.root_hash) == rfc_mth(leaves[: head.tree_size])
        assert head.key_id == key.key_id and _signed(head, key.public_key)
    assert log.sequence() == 0  # nothing pending: no new head
    assert log.verdict().intact


# --- Proofs, checked by the RFC's own algorithms ---------------------------------------------


def test_every_inclusion_proof_holds_under_the_rfc_algorithm(log: Log) -> None:
    log.record(5, start=50)
    log.sequence(batch=2)
    with log.sessions() as session:
        events = list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.position)))
        heads = list(session.scalars(select(ConsentTreeHead).order_by(ConsentTreeHead.tree_size)))
        for head in heads:
            root = bytes.fromhex(head.root_hash)
            for e in events[: head.tree_size]:
                assert e.position is not None
                path = [
                    bytes.fromhex(h)
                    for h in tree.inclusion_proof(session, e.position, head.tree_size)
                ]
                assert rfc_verify_inclusion(
                    e.position, head.tree_size, rfc_leaf(_entry(e)), path, root
                )
                other = events[(e.position + 1) % head.tree_size]
                if other is not e:  # another event's leaf is refused with the same path
                    assert not rfc_verify_inclusion(
                        e.position, head.tree_size, rfc_leaf(_entry(other)), path, root
                    )


def test_every_consistency_proof_holds_under_the_rfc_algorithm(log: Log) -> None:
    log.record(9, start=50)
    log.sequence(batch=2)
    with log.sessions() as session:
        heads = list(session.scalars(select(ConsentTreeHead).order_by(ConsentTreeHead.tree_size)))
        assert len(heads) == 8
        for i, old in enumerate(heads):
            for new in heads[i + 1 :]:
                proof = [
                    bytes.fromhex(h)
                    for h in tree.consistency_proof(session, old.tree_size, new.tree_size)
                ]
                first, second = bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash)
                assert rfc_verify_consistency(old.tree_size, new.tree_size, first, second, proof)
                assert not rfc_verify_consistency(
                    old.tree_size, new.tree_size, hashlib.sha256(b"x").digest(), second, proof
                )


# --- Verification finds tampering, and says where --------------------------------------------


def test_an_edited_event_is_found_at_its_position(log: Log) -> None:
    victim = log.event(4)
    log.sql(update(ConsentEvent).where(ConsentEvent.id == victim.id).values(state="given"))
    verdict = log.verdict()
    assert (verdict.intact, verdict.problem) == (False, "edited")
    assert (verdict.position, verdict.event, verdict.broken_at) == (4, victim.uid, victim.id)
    assert f"Event {victim.uid} at position 4 was changed" in verdict.message


def test_a_deleted_middle_event_is_found_where_it_was(log: Log) -> None:
    gone, after = log.event(3), log.event(4)
    log.sql(delete(ConsentEvent).where(ConsentEvent.id == gone.id))
    verdict = log.verdict()
    assert (verdict.problem, verdict.position, verdict.event) == ("deleted", 3, after.uid)
    assert verdict.message.startswith("1 event missing from position 3")


def test_a_deleted_newest_event_is_found_by_the_signed_size(log: Log) -> None:
    newest, left = log.event(EVENTS - 1), log.event(EVENTS - 2)
    log.sql(delete(ConsentEvent).where(ConsentEvent.id == newest.id))
    with log.engine.begin() as conn:  # even its stored leaf: only the signed head remembers it
        conn.execute(delete(ConsentLogNode).where(ConsentLogNode.number == EVENTS - 1))
    verdict = log.verdict()
    assert (verdict.problem, verdict.position, verdict.event) == ("missing_at_end", 7, left.uid)
    assert verdict.message.startswith("1 event missing at the end")
    assert f"we signed it with {EVENTS} events" in verdict.message


def test_two_swapped_events_are_found_as_reordered(log: Log) -> None:
    first, second = log.event(2), log.event(5)
    log.sql(update(ConsentEvent).where(ConsentEvent.id == first.id).values(position=-1))
    log.sql(update(ConsentEvent).where(ConsentEvent.id == second.id).values(position=2))
    log.sql(update(ConsentEvent).where(ConsentEvent.id == first.id).values(position=5))
    verdict = log.verdict()
    assert (verdict.problem, verdict.position, verdict.event) == ("reordered", 2, second.uid)
    assert "was logged at position 5" in verdict.message


def test_an_event_inserted_at_a_taken_position_is_found(log: Log) -> None:
    copy = log.event(3)
    forged = {c.key: getattr(copy, c.key) for c in ConsentEvent.__table__.columns}
    forged |= {"id": 1000, "uid": "f" * 32, "position": 3, "state": "given"}
    with log.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_consent_events_position"))  # as an attacker might
        conn.execute(ConsentEvent.__table__.insert().values(forged))
    verdict = log.verdict()
    assert (verdict.problem, verdict.position) == ("inserted", 3)
    assert verdict.event == "f" * 32 or verdict.event == copy.uid


def test_rewritten_stored_hashes_still_fail_the_signed_root(log: Log) -> None:
    """An attacker who edits an event and rewrites its stored leaf to match cannot re-sign the
    head: the root differs, and the range between two signed heads is named."""
    victim = log.event(4)
    log.sql(update(ConsentEvent).where(ConsentEvent.id == victim.id).values(state="given"))
    victim.state = "given"
    with log.engine.begin() as conn:
        conn.execute(
            update(ConsentLogNode)
            .where(ConsentLogNode.level == 0, ConsentLogNode.number == 4)
            .values(hash=rfc_leaf(_entry(victim)).hex())
        )
    verdict = log.verdict()
    assert (verdict.problem, verdict.position) == ("head_mismatch", 3)
    assert "between positions 3 and 5" in verdict.message


def test_a_forged_head_is_refused(log: Log) -> None:
    with log.engine.begin() as conn:
        conn.execute(
            update(ConsentTreeHead).where(ConsentTreeHead.tree_size == 6).values(root_hash="0" * 64)
        )
    verdict = log.verdict()
    assert (verdict.problem, verdict.position) == ("bad_signature", 6)


# --- Keys ----------------------------------------------------------------------------------------


def test_after_a_key_rotation_old_heads_still_verify_and_new_ones_use_the_new_key(log: Log) -> None:
    with log.sessions() as session:
        old_head = session.get(ConsentTreeHead, EVENTS)
        assert old_head is not None
    rotation.rotate(log.sessions, log.settings, [], actor="test")
    rotation.retire(log.sessions, log.settings, [], keys.DERIVED, actor="test")
    log.record(2, start=200)
    assert log.sequence() == 2
    with log.sessions() as session:
        published = {k.key_id: k for k in session.scalars(select(SigningKey))}
        new_head = session.get(ConsentTreeHead, EVENTS + 2)
        assert new_head is not None
    assert len(published) == 2 and new_head.key_id != old_head.key_id
    assert published[old_head.key_id].data_key_version == keys.DERIVED
    assert _signed(old_head, published[old_head.key_id].public_key)
    assert _signed(new_head, published[new_head.key_id].public_key)
    assert log.verdict().intact


def test_a_head_re_signed_with_a_key_added_by_hand_fails_the_daily_check(log: Log) -> None:
    """Someone with the database but not the secret keys adds a key of their own and signs
    with it: the signature holds, but the key is not the one the data key derives."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from rightful.worker.integrity import verify_chains_daily

    forger = Ed25519PrivateKey.generate()
    raw = forger.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(raw).hexdigest()
    with log.sessions() as session:
        head = session.get(ConsentTreeHead, EVENTS)
        assert head is not None
        message = json.dumps(
            {
                "log": "rightful-consent-log",
                "v": 1,
                "tree_size": head.tree_size,
                "root_hash": head.root_hash,
                "timestamp": head.timestamp,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        session.add(
            SigningKey(
                key_id=key_id,
                purpose="consent-log",
                data_key_version=keys.DERIVED,
                public_key=base64.b64encode(raw).decode(),
            )
        )
        head.key_id, head.signature = key_id, base64.b64encode(forger.sign(message)).decode()
        session.commit()
        assert ledger.verify(session).intact  # the table alone cannot tell
    found = verify_chains_daily(log.sessions, log.settings)
    assert (found["consent"].problem, found["consent"].position) == ("bad_signature", EVENTS)
