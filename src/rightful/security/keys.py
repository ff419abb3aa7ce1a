"""Envelope encryption's keys: data keys in versions, wrapped by a key-encryption key (KEK).

Version 1 is the key Rightful always had, derived from RIGHTFUL_SECRET_KEY. Later versions are
random keys made by `rightful keys rotate` and kept in `data_keys` only wrapped by the KEK: a
Fernet key in RIGHTFUL_KEK_FILE or RIGHTFUL_KEK, or a provider of your own (a cloud key service)
named by RIGHTFUL_KEK_PROVIDER. Every ciphertext names its version (vault.py), so all versions
still held decrypt while a rotation moves data to the newest.

Each process keeps the keys it has unwrapped in memory, one `Keyring` per store. It reads the
table again when it meets a version it does not know, and at most `key_cache_seconds` after its
last read before encrypting, to learn of a newer version; `keys retire` waits that long after a
rotation began, so no process still encrypts with the version being retired.

Each version also yields signing keys (`Keyring.signing_key`), one per purpose, whose public
halves are kept apart (security/signing_keys.py) so signatures outlive a retired version.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import re
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from rightful.core.config import Settings
from rightful.core.errors import ConfigurationError
from rightful.security.models import DataKey

DERIVED = 1  # the version derived from RIGHTFUL_SECRET_KEY
DERIVED_KEK_ID = "derived from RIGHTFUL_SECRET_KEY"


class KeyWrapper(Protocol):
    """A key-encryption key: wraps new data keys and unwraps stored ones. A key service plugs in
    by implementing this (RIGHTFUL_KEK_PROVIDER=module:factory, the factory given Settings)."""

    @property
    def key_id(self) -> str:
        """Which KEK wraps new keys; stored beside each wrapped key."""
        ...

    def wrap(self, key: bytes) -> bytes:
        """Encrypt a data key."""
        ...

    def unwrap(self, wrapped: bytes) -> bytes:
        """Decrypt a data key this KEK, or one it replaced, wrapped."""
        ...


class LocalKek:
    """KEKs given as Fernet keys, newest first: the first wraps, any of them unwraps, so a new
    KEK goes in front and the old one stays until `rightful keys rewrap` has run."""

    def __init__(self, keys: list[str], *, source: str) -> None:
        if not keys:
            raise ConfigurationError(f"{source} holds no key-encryption key.")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError as exc:
            raise ConfigurationError(
                f"{source} is not a key-encryption key (32 random bytes, URL-safe base64): "
                "make one with `rightful keys new-kek`."
            ) from exc
        self.key_id = "local:" + hashlib.sha256(keys[0].encode()).hexdigest()[:16]

    def wrap(self, key: bytes) -> bytes:
        """Encrypt a data key with the newest KEK."""
        return self._fernet.encrypt(key)

    def unwrap(self, wrapped: bytes) -> bytes:
        """Decrypt a data key with whichever KEK wrapped it."""
        try:
            return self._fernet.decrypt(wrapped)
        except InvalidToken as exc:
            raise ConfigurationError(
                "A data key cannot be unwrapped: the key-encryption key that wrapped it is not "
                "in RIGHTFUL_KEK_FILE / RIGHTFUL_KEK (keep the old one after the new until "
                "`rightful keys rewrap` has run)."
            ) from exc


def new_kek() -> str:
    """A new random key-encryption key for RIGHTFUL_KEK_FILE."""
    return Fernet.generate_key().decode()


def wrapper_for(settings: Settings) -> KeyWrapper | None:
    """The configured KEK: a provider, a file, the environment, or none."""
    if settings.kek_provider:
        module, _, name = settings.kek_provider.partition(":")
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigurationError(
                f"RIGHTFUL_KEK_PROVIDER={settings.kek_provider!r} cannot be loaded "
                "(expected module:factory)."
            ) from exc
        wrapper: KeyWrapper = factory(settings)
        return wrapper
    if settings.kek_file is not None:
        try:
            lines = settings.kek_file.read_text().splitlines()
        except OSError as exc:
            raise ConfigurationError(f"RIGHTFUL_KEK_FILE cannot be read: {exc.strerror}.") from exc
        keys = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        return LocalKek(keys, source="RIGHTFUL_KEK_FILE")
    if settings.kek:
        return LocalKek(re.split(r"[\s,]+", settings.kek.strip()), source="RIGHTFUL_KEK")
    return None


def _fernet(master: bytes, version: int, purpose: str) -> Fernet:
    # Version 1 keeps the derivation Rightful always used, so what it wrote stays readable.
    salt = b"rightful-vault" if version == DERIVED else b"rightful-data-key"
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=purpose.encode()).derive(
        master
    )
    return Fernet(base64.urlsafe_b64encode(key))


class Keyring:
    """Every data-key version of one store, as this process knows them."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._known: set[int] = {DERIVED}
        self._retired: set[int] = set()
        self._wrapped: dict[int, str] = {}  # live random versions' wrapped keys
        self._masters: dict[int, bytes] = {}
        self._fernets: dict[tuple[int, str], Fernet] = {}
        self._current = DERIVED
        self._read_at: float | None = None

    def current(self) -> int:
        """The version new data is encrypted with (the newest not retired)."""
        if self._read_at is None or time.monotonic() - self._read_at >= self._ttl():
            self.refresh()
        return self._current

    def fernet(self, version: int, purpose: str) -> Fernet:
        """The Fernet for one version and purpose."""
        found = self._fernets.get((version, purpose))
        if found is None:
            found = self._fernets[(version, purpose)] = _fernet(
                self._master(version), version, purpose
            )
        return found

    def signing_key(self, version: int, purpose: str) -> Ed25519PrivateKey:
        """The Ed25519 key one version signs `purpose` with (security/signing_keys.py): derived
        from that version's key, so rotating the data keys rotates it too."""
        seed = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"rightful-signing-key",
            info=purpose.encode(),
        ).derive(self._master(version))
        return Ed25519PrivateKey.from_private_bytes(seed)

    def refresh(self) -> None:
        """Read the store's versions again (a new one, a retired one)."""
        rows = _read_versions(self._settings.resolved_database_url)
        with self._lock:
            self._known = {v for v, _, _ in rows} | {DERIVED}
            self._retired = {v for v, _, retired in rows if retired}
            self._wrapped = {v: w for v, w, retired in rows if w and not retired}
            self._current = max(self._known - self._retired, default=DERIVED)
            for version in self._retired:  # forget what was unwrapped before it was retired
                self._masters.pop(version, None)
                self._fernets = {k: f for k, f in self._fernets.items() if k[0] != version}
            self._read_at = time.monotonic()

    def _ttl(self) -> float:
        return float(self._settings.key_cache_seconds)

    def _master(self, version: int) -> bytes:
        if version in self._masters:
            return self._masters[version]
        if self._read_at is None or version not in self._known:
            self.refresh()
        if version in self._retired:
            raise ConfigurationError(
                f"Stored data was encrypted with data key version {version}, which was retired."
            )
        if version == DERIVED:
            master = self._settings.secret_key.encode()
        elif version in self._wrapped:
            wrapper = wrapper_for(self._settings)
            if wrapper is None:
                raise ConfigurationError(
                    "This store's data keys are wrapped by a key-encryption key: set "
                    "RIGHTFUL_KEK_FILE (or RIGHTFUL_KEK, or RIGHTFUL_KEK_PROVIDER)."
                )
            master = wrapper.unwrap(base64.b64decode(self._wrapped[version]))
        else:
            raise ConfigurationError(
                f"Stored data was encrypted with data key version {version}, which this store "
                "does not hold (was the database restored without its data_keys table?)."
            )
        self._masters[version] = master
        return master


def _read_versions(url: str) -> list[tuple[int, str | None, bool]]:
    """(version, wrapped key, retired) for each row of `data_keys`; none for a store that has
    no such table yet (before migration 0019) or no file yet (SQLite: never created here)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return []
        if not Path(parsed.database).exists():
            return []
    engine = create_engine(url, poolclass=NullPool)  # read rarely: hold no connection open
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(DataKey.__tablename__):
                return []
            found = conn.execute(
                select(DataKey.version, DataKey.wrapped, DataKey.retired_at.is_not(None))
            ).all()
            return [(int(v), w, bool(r)) for v, w, r in found]
    finally:
        engine.dispose()


_RINGS: OrderedDict[tuple[object, ...], Keyring] = OrderedDict()
_RINGS_LOCK = threading.Lock()


def keyring(settings: Settings) -> Keyring:
    """The keyring of the store `settings` name (one per store and keys, kept per process)."""
    ident = (
        settings.resolved_database_url,
        settings.secret_key,
        str(settings.kek_file or ""),
        settings.kek,
        settings.kek_provider,
        settings.key_cache_seconds,
    )
    with _RINGS_LOCK:
        ring = _RINGS.get(ident)
        if ring is None:
            ring = _RINGS[ident] = Keyring(settings)
            while len(_RINGS) > 64:  # tests and tools open many stores; a server opens one
                _RINGS.popitem(last=False)
        else:
            _RINGS.move_to_end(ident)
        return ring
