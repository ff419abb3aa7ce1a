"""Versioned data keys: what was written before stays readable, new versions are wrapped by the
key-encryption key, and a weak secret key is refused."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from rightful.core.config import DEMO_SECRET, Settings
from rightful.core.db import make_engine, make_sessionmaker
from rightful.core.errors import ConfigurationError, ConflictError
from rightful.migrations import upgrade
from rightful.security import keys, rotation
from rightful.security.models import DataKey
from rightful.security.vault import Vault, version_of


def _settings(tmp_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "secret_key": secrets.token_urlsafe(40),
        "key_cache_seconds": 0,
    }
    return Settings(**(values | extra))  # type: ignore[arg-type]


def _store(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    upgrade(engine)
    engine.dispose()


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(settings.resolved_database_url))


def _as_before(secret_key: str, purpose: str, data: bytes) -> bytes:
    """A ciphertext as Rightful wrote them before data keys had versions."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"rightful-vault", info=purpose.encode()
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key)).encrypt(data)


def test_what_was_written_before_versions_reads_as_version_1(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    old = _as_before(settings.secret_key, "identities", b'{"email": "a@example.com"}')
    assert version_of(old) == 1
    assert Vault(settings, "identities").decrypt(old) == b'{"email": "a@example.com"}'


def test_until_a_rotation_new_data_is_sealed_as_before(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _store(settings)
    sealed = Vault(settings, "outbox").encrypt(b"hello")
    assert version_of(sealed) == 1 and sealed.startswith(b"gAAAA")


def test_a_new_version_is_kept_only_wrapped_and_seals_new_data(tmp_path: Path) -> None:
    kek = keys.new_kek()
    settings = _settings(tmp_path, kek=kek)
    _store(settings)
    sessions = _sessions(settings)
    old = Vault(settings, "outbox").encrypt(b"before")
    assert rotation.rotate(sessions, settings, [], actor="test")[0] == 2
    sealed = Vault(settings, "outbox").encrypt(b"after")
    assert sealed.startswith(b"v2:")
    assert Vault(settings, "outbox").decrypt(old) == b"before"
    with sessions() as session:
        row = session.scalars(select(DataKey).filter_by(version=2)).one()
    assert row.wrapped and row.kek_id.startswith("local:")
    unwrapped = Fernet(kek).decrypt(base64.b64decode(row.wrapped))
    assert len(unwrapped) == 32 and unwrapped not in row.wrapped.encode()


def test_rotating_without_a_key_encryption_key_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _store(settings)
    with pytest.raises(ConfigurationError, match="RIGHTFUL_KEK_FILE"):
        rotation.rotate(_sessions(settings), settings, [], actor="test")


def test_a_new_kek_put_in_front_rewraps_the_data_keys_and_the_old_one_can_go(
    tmp_path: Path,
) -> None:
    old_kek, new_kek = keys.new_kek(), keys.new_kek()
    secret = secrets.token_urlsafe(40)

    def with_keks(name: str, *keks: str) -> Settings:
        (tmp_path / name).write_text("".join(k + "\n" for k in keks))
        return _settings(tmp_path, kek_file=tmp_path / name, secret_key=secret)

    before = with_keks("old", old_kek)
    _store(before)
    rotation.rotate(_sessions(before), before, [], actor="test")
    sealed = Vault(before, "identities").encrypt(b"kept")
    both = with_keks("both", new_kek, old_kek)  # the new KEK first, the old one after it
    assert rotation.rewrap(_sessions(both), both, actor="test") == 1
    assert rotation.rewrap(_sessions(both), both, actor="test") == 0
    after = with_keks("new", new_kek)
    assert Vault(after, "identities").decrypt(sealed) == b"kept"


def test_a_wrong_kek_is_told_plainly(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kek=keys.new_kek())
    _store(settings)
    rotation.rotate(_sessions(settings), settings, [], actor="test")
    sealed = Vault(settings, "identities").encrypt(b"kept")
    other = _settings(tmp_path, kek=keys.new_kek(), secret_key=settings.secret_key)
    with pytest.raises(ConfigurationError, match="key-encryption key that wrapped it"):
        Vault(other, "identities").decrypt(sealed)


@pytest.mark.parametrize(
    "weak",
    ["a" * 37, "k" * 40, "ab" * 20, "0123456789" * 4, "abcdefghijklmnopqrstuvwxyz0123456789"],
)
def test_a_weak_secret_key_is_refused_outside_demo_mode(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ConfigurationError, match="RIGHTFUL_SECRET_KEY is too weak"):
        Settings(data_dir=tmp_path, secret_key=weak)


def test_a_placeholder_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="placeholder"):
        Settings(data_dir=tmp_path, secret_key="please-changeme-" + secrets.token_hex(16))


@pytest.mark.parametrize("make", [lambda: secrets.token_hex(16), lambda: secrets.token_urlsafe(32)])
def test_random_secret_keys_are_accepted(tmp_path: Path, make: object) -> None:
    key = make()  # type: ignore[operator]
    assert Settings(data_dir=tmp_path, secret_key=key).secret_key == key


def test_demo_mode_keeps_its_placeholder(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, demo_mode=True).secret_key == DEMO_SECRET


class FakeKms:
    """A key service as a provider plugs one in: it keeps the keys, the store keeps handles."""

    held: dict[str, bytes] = {}  # noqa: RUF012 - shared, as a service's keys would be

    key_id = "fake-kms:key-1"

    def wrap(self, key: bytes) -> bytes:
        handle = f"handle-{len(self.held)}"
        self.held[handle] = key
        return handle.encode()

    def unwrap(self, wrapped: bytes) -> bytes:
        return self.held[wrapped.decode()]


def fake_kms(settings: Settings) -> FakeKms:
    """The factory RIGHTFUL_KEK_PROVIDER names."""
    return FakeKms()


def test_a_key_service_plugs_in_as_a_provider(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kek_provider=f"{__name__}:fake_kms")
    _store(settings)
    sessions = _sessions(settings)
    rotation.rotate(sessions, settings, [], actor="test")
    sealed = Vault(settings, "connections").encrypt(b"postgresql://secret")
    assert sealed.startswith(b"v2:")
    with sessions() as session:
        row = session.get(DataKey, 2)
    assert row is not None and row.kek_id == "fake-kms:key-1"
    assert base64.b64decode(str(row.wrapped)).startswith(b"handle-")
    other_process = keys.Keyring(settings)  # knows nothing yet: unwraps through the service
    assert other_process.fernet(2, "connections").decrypt(sealed[3:]) == b"postgresql://secret"


def test_retiring_waits_until_every_process_can_have_seen_the_new_version(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kek=keys.new_kek(), key_cache_seconds=60)
    _store(settings)
    sessions = _sessions(settings)
    rotation.rotate(sessions, settings, [], actor="test")
    with pytest.raises(ConflictError, match="up to 60 seconds"):
        rotation.retire(sessions, settings, [], 1, actor="test")
