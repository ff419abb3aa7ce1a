"""Rotating the data keys: a new version, everything sealed re-encrypted with it, old ones retired.

A rotation makes a new random data key and commits it (wrapped) before it rewrites anything, so
from then on every process can open both versions. It then goes through every sealed column
(found by `Column.info`, see vault.sealed) and sealed folder in batches: each batch rewrites
values that are not yet on the new version, each only if it is still the value it read (so a
change made meanwhile is never lost), and commits its progress with it. Killed at any moment, a
rotation resumes after its last committed batch; every value is readable all along, because
every version it holds still decrypts. Values written by other processes with the old version
while they had not yet seen the new one are swept up by a last pass.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, func, not_, select, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConfigurationError, ConflictError, NotFoundError
from rightful.security import audit
from rightful.security.keys import DERIVED, DERIVED_KEK_ID, KeyWrapper, keyring, wrapper_for
from rightful.security.models import DataKey, KeyRotationStep
from rightful.security.sealed_places import (
    SealedColumn,
    SealedFolder,
    Target,
    count,
    on_version,
    usage,
)
from rightful.security.vault import Vault, version_of

BATCH = 500
OnBatch = Callable[[str, int], None]


def _wrapper(settings: Settings) -> KeyWrapper:
    wrapper = wrapper_for(settings)
    if wrapper is None:
        raise ConfigurationError(
            "Rotating needs a key-encryption key of its own, so the data keys no longer hang on "
            "RIGHTFUL_SECRET_KEY: set RIGHTFUL_KEK_FILE (make a key with `rightful keys new-kek`)."
        )
    return wrapper


def _rotating(session: Session) -> DataKey | None:
    """The version an unfinished rotation is moving data to."""
    return session.scalar(
        select(DataKey)
        .where(DataKey.version > DERIVED, DataKey.rotated_at.is_(None))
        .where(DataKey.retired_at.is_(None))
        .order_by(DataKey.version.desc())
    )


def _new_version(session: Session, wrapper: KeyWrapper) -> DataKey:
    if session.get(DataKey, DERIVED) is None:
        session.add(DataKey(version=DERIVED, kek_id=DERIVED_KEK_ID))
    newest = session.scalar(select(func.max(DataKey.version))) or DERIVED
    wrapped = base64.b64encode(wrapper.wrap(os.urandom(32))).decode()
    key = DataKey(version=newest + 1, wrapped=wrapped, kek_id=wrapper.key_id)
    session.add(key)
    session.flush()
    return key


def rotate(
    sessions: sessionmaker[Session],
    settings: Settings,
    targets: list[Target],
    *,
    actor: str,
    batch: int = BATCH,
    on_batch: OnBatch | None = None,
) -> tuple[int, dict[str, int]]:
    """Move every sealed value to a new data-key version, or finish the rotation a kill
    interrupted; returns the version and how many values each target had rewritten."""
    wrapper = _wrapper(settings)
    with sessions() as session:
        key = _rotating(session) or _new_version(session, wrapper)
        version = key.version
        for target in targets:
            if session.get(KeyRotationStep, (version, target.name)) is None:
                session.add(KeyRotationStep(version=version, target=target.name))
        session.commit()  # the key lands before anything is sealed with it
    keyring(settings).refresh()
    for _ in range(3):  # a pass, then sweeps for what slower processes wrote meanwhile
        for target in targets:
            _run(sessions, settings, target, version, batch, on_batch or (lambda _n, _c: None))
        with sessions() as session:
            if not sum(count(session, t, version, older=True) for t in targets):
                break
            for step in session.scalars(select(KeyRotationStep).filter_by(version=version)):
                step.after, step.done_at = None, None
            session.commit()
    with sessions() as session:
        steps = session.scalars(select(KeyRotationStep).filter_by(version=version)).all()
        rewritten = {s.target: s.rewritten for s in steps}
        row = session.get(DataKey, version)
        assert row is not None  # made above; retiring refuses a version a rotation targets
        row.rotated_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="keys.rotated",
            subject_type="data_key",
            subject_id=str(version),
            detail={"rewritten": rewritten},
        )
        session.commit()
    return version, rewritten


def _run(
    sessions: sessionmaker[Session],
    settings: Settings,
    target: Target,
    version: int,
    batch: int,
    on_batch: OnBatch,
) -> None:
    vault = Vault(settings, target.purpose)
    while True:
        with sessions() as session:
            step = session.get(KeyRotationStep, (version, target.name))
            assert step is not None  # added when the rotation began
            if step.done_at is not None:
                return
            if isinstance(target, SealedColumn):
                last, count = _column_batch(session, target, vault, version, step.after, batch)
            else:
                last, count = _folder_batch(target, vault, version, step.after, batch)
            if last is None:
                step.done_at = utcnow()
            else:
                step.after, step.rewritten = last, step.rewritten + count
            session.commit()  # progress and the rewritten values land together
        if last is None:
            return
        on_batch(target.name, count)


def _column_batch(
    session: Session, target: SealedColumn, vault: Vault, version: int, after: str | None, n: int
) -> tuple[str | None, int]:
    key, column = target.key, target.column
    stmt = select(key, column).where(column.is_not(None), not_(on_version(column, version)))
    if after is not None:
        stmt = stmt.where(key > key.type.python_type(after))
    rows = session.execute(stmt.order_by(key).limit(n)).all()
    if not rows:
        return None, 0
    # Columns with an `onupdate` (updated_at) keep their value: a rotation changes nothing.
    keep = {c.name: c for c in target.table.columns if c.onupdate is not None}
    count = 0
    for row_key, value in rows:
        try:
            resealed = vault.reseal(value.encode(), version).decode()
        except ConfigurationError as exc:
            raise ConfigurationError(f"{target.name} of {row_key}: {exc.detail}") from exc
        done = session.execute(
            update(target.table)
            .where(and_(key == row_key, column == value))  # unless changed since it was read
            .values({column.name: resealed, **keep})
        )
        count += int(done.rowcount)  # type: ignore[attr-defined]
    return str(rows[-1][0]), count


def _folder_batch(
    target: SealedFolder, vault: Vault, version: int, after: str | None, n: int
) -> tuple[str | None, int]:
    names = [name for name in target.files() if after is None or name > after][:n]
    if not names:
        return None, 0
    count = 0
    for name in names:
        path = target.folder / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # expired and removed meanwhile
            continue
        if version_of(data) == version:
            continue
        try:
            resealed = vault.reseal(data, version)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{target.name}/{name}: {exc.detail}") from exc
        _replace(path, resealed)
        count += 1
    return names[-1], count


def _replace(path: Path, data: bytes) -> None:
    """Write `data` over `path` atomically, readable by its owner only: a reader gets the old
    file or the new one, each readable, and a kill leaves one of them."""
    fresh = path.with_name(f"{path.name}.rotating")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(fd)
    fresh.replace(path)


def status(session: Session, targets: list[Target]) -> list[tuple[DataKey, dict[str, int]]]:
    """Each data-key version, oldest first, with how many values each target has sealed with
    it (none for a retired one)."""
    return [
        (key, {} if key.retired_at is not None else usage(session, targets, key.version))
        for key in versions(session)
    ]


def rotating(session: Session) -> tuple[int, list[KeyRotationStep]] | None:
    """The version an unfinished rotation moves data to, and its progress per target."""
    key = _rotating(session)
    if key is None:
        return None
    steps = session.scalars(select(KeyRotationStep).filter_by(version=key.version)).all()
    return key.version, list(steps)


def versions(session: Session) -> list[DataKey]:
    """Every data-key version, oldest first (version 1 even before any rotation)."""
    rows = list(session.scalars(select(DataKey).order_by(DataKey.version)))
    if not rows or rows[0].version != DERIVED:
        rows.insert(0, DataKey(version=DERIVED, kek_id=DERIVED_KEK_ID))  # not stored yet
    return rows


def retire(
    sessions: sessionmaker[Session],
    settings: Settings,
    targets: list[Target],
    version: int,
    *,
    actor: str,
) -> None:
    """Drop an old version's key, once nothing is sealed with it; refused while anything is,
    while it is the newest, or while processes may not yet have seen the version after it."""
    with sessions() as session:
        known = {k.version: k for k in versions(session)}
        row = known.get(version)
        if row is None:
            raise NotFoundError(f"There is no data key version {version}.")
        if row.retired_at is not None:
            raise ConflictError(f"Data key version {version} was retired already.")
        live = [v for v, k in known.items() if k.retired_at is None]
        if version == max(live):
            raise ConflictError(
                f"Version {version} is the newest: new data is sealed with it. "
                "Rotate to a new version first (`rightful keys rotate`)."
            )
        if (rotating := _rotating(session)) is not None:
            raise ConflictError(
                f"A rotation to version {rotating.version} is unfinished: run "
                "`rightful keys rotate` to finish it first."
            )
        newer = known[min(v for v in live if v > version)]
        wait = newer.created_at + timedelta(seconds=settings.key_cache_seconds) - utcnow()
        if wait > timedelta(0):
            raise ConflictError(
                f"Version {newer.version} is new: running processes may seal with version "
                f"{version} for up to {settings.key_cache_seconds:g} seconds after it was made. "
                f"Try again in {int(wait.total_seconds()) + 1} seconds."
            )
        used = usage(session, targets, version)
        if used:
            where = ", ".join(f"{name} ({n})" for name, n in sorted(used.items()))
            raise ConflictError(
                f"{sum(used.values())} value(s) are still sealed with version {version}: "
                f"{where}. Run `rightful keys rotate` to move them first."
            )
        if version == DERIVED and session.get(DataKey, DERIVED) is None:
            session.add(row)
        row.retired_at, row.wrapped = utcnow(), None  # the key itself is gone for good
        audit.record(
            session,
            actor=actor,
            action="keys.retired",
            subject_type="data_key",
            subject_id=str(version),
        )
        session.commit()
    keyring(settings).refresh()


def rewrap(sessions: sessionmaker[Session], settings: Settings, *, actor: str) -> int:
    """Wrap every live data key with the newest key-encryption key (after a new KEK was put in
    front of the old one); returns how many were rewrapped."""
    wrapper = _wrapper(settings)
    rewrapped = 0
    with sessions() as session:
        for key in session.scalars(select(DataKey).where(DataKey.wrapped.is_not(None))):
            if key.kek_id == wrapper.key_id or key.wrapped is None:
                continue
            plain = wrapper.unwrap(base64.b64decode(key.wrapped))
            key.wrapped = base64.b64encode(wrapper.wrap(plain)).decode()
            key.kek_id = wrapper.key_id
            rewrapped += 1
        if rewrapped:
            audit.record(
                session,
                actor=actor,
                action="keys.rewrapped",
                subject_type="data_key",
                subject_id="*",
                detail={"keys": rewrapped, "kek": wrapper.key_id},
            )
        session.commit()
    return rewrapped
