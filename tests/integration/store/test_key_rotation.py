"""Rotating the data keys: every sealed value (identities, packages, the outbox, execution
results, connection secrets, consent seals) moves to a new version, readable throughout, even
when the rotation is killed with SIGKILL half-way and run again; then the old version retires."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from typer.testing import CliRunner

from rightful.all_models import Base
from rightful.cli.main import app
from rightful.connectors.sql import dispose_all
from rightful.consent import subjects
from rightful.core.runtime import Runtime
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import vault as outbox_vault
from rightful.rights.package import load
from rightful.rights.packaging import PACKAGE_PURPOSE, package_vault
from rightful.rights.service import access_request
from rightful.security.keys import new_kek
from rightful.security.models import KeyRotationStep
from rightful.security.sealed_places import SealedColumn, SealedFolder, sealed_targets
from rightful.security.vault import Vault, version_of
from tests.support.app import access_package, make_settings, prepare

runner = CliRunner()


def sealed_versions(runtime: Runtime) -> Counter[str]:
    """Decrypt every sealed value and file of the store (failing on any that does not open);
    how many are sealed with each version, as 'v1', 'v2'."""
    folders = [SealedFolder(runtime.settings.package_dir, PACKAGE_PURPOSE)]
    found: Counter[str] = Counter()
    with runtime.sessions() as session:
        for target in sealed_targets(Base.metadata, folders):
            vault = Vault(runtime.settings, target.purpose)
            if isinstance(target, SealedColumn):
                values = session.scalars(
                    select(target.column).where(target.column.is_not(None))
                ).all()
                tokens = [v.encode() for v in values]
            else:
                tokens = [(target.folder / n).read_bytes() for n in target.files()]
            for token in tokens:
                vault.decrypt(token)
                found[f"v{version_of(token)}"] += 1
    return found


def _store_with_everything(tmp_path: Path, **settings: object) -> tuple[Runtime, str]:
    """A store holding each kind of sealed value: a completed access request (identities,
    e-mails, execution results, its package), connection secrets and consent subjects."""
    runtime = prepare(make_settings(tmp_path, **settings))
    request_id, _ = access_package(runtime)
    with runtime.sessions() as session:
        subjects.person(session, runtime.settings, "pat@example.com")
        subjects.phone_number(session, runtime.settings, "+1 415 555 0100")
        session.commit()
    return runtime, request_id


def _env(runtime: Runtime, kek_file: Path) -> dict[str, str]:
    settings = runtime.settings
    return {
        "RIGHTFUL_DATA_DIR": str(settings.data_dir),
        "RIGHTFUL_DATABASE_URL": settings.database_url,
        "RIGHTFUL_SECRET_KEY": settings.secret_key,
        "RIGHTFUL_BASE_URL": settings.base_url,
        "RIGHTFUL_KEK_FILE": str(kek_file),
        "RIGHTFUL_KEY_CACHE_SECONDS": "0",
    }


def test_rotate_then_retire_moves_everything_and_frees_it_from_the_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kek_file = tmp_path / "kek"
    kek_file.write_text(new_kek() + "\n")
    runtime, request_id = _store_with_everything(tmp_path, key_cache_seconds=0, kek_file=kek_file)
    before = sealed_versions(runtime)
    assert set(before) == {"v1"} and before["v1"] >= 8
    for name, value in _env(runtime, kek_file).items():
        monkeypatch.setenv(name, value)
    refused = runner.invoke(app, ["keys", "retire", "1"])
    assert refused.exit_code == 2 and "is the newest" in refused.output

    rotated = runner.invoke(app, ["keys", "rotate", "--batch-size", "2"])
    assert rotated.exit_code == 0, rotated.output
    assert "sealed with data-key version 2" in rotated.output
    assert sealed_versions(runtime) == Counter({"v2": sum(before.values())})

    with runtime.sessions() as session:  # a process that had not yet seen version 2
        stale = outbox_vault(runtime.settings).encrypt_json({"to": "x"}).encode()
        stale = Vault(runtime.settings, "outbox").reseal(stale, 1).decode()
        session.execute(insert(OutboxMessage).values(template="t", subject="s", sealed=stale))
        session.commit()
    refused = runner.invoke(app, ["keys", "retire", "1"])
    assert refused.exit_code == 2
    assert "1 value(s) are still sealed with version 1: outbox_messages.sealed (1)" in (
        refused.output
    )
    assert runner.invoke(app, ["keys", "rotate"]).exit_code == 0
    retired = runner.invoke(app, ["keys", "retire", "1"])
    assert retired.exit_code == 0, retired.output
    status = runner.invoke(app, ["keys", "status"]).output
    assert "Version 1: the first" in status and "retired" in status

    # Encryption no longer hangs on RIGHTFUL_SECRET_KEY: another secret key reads it all.
    other = make_settings(tmp_path, key_cache_seconds=0, kek_file=kek_file)
    moved = Runtime(other, runtime.engine, runtime.sessions)
    assert set(sealed_versions(moved)) == {"v3"}
    with runtime.sessions() as session:
        req = access_request(session, request_id)
    assert load(package_vault(other), other.package_dir, str(req.package_file))[:2] == b"PK"
    runtime.engine.dispose()
    dispose_all()


SLOW_UPDATES = """
CREATE FUNCTION slow_update() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(0.005); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER slow BEFORE UPDATE ON outbox_messages FOR EACH ROW EXECUTE FUNCTION slow_update();
"""
EXTRA_MESSAGES = 1200


def _rotate(env: dict[str, str], *, errors: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    rightful = Path(sys.executable).parent / "rightful"
    return subprocess.Popen(
        [str(rightful), "keys", "rotate", "--batch-size", "25"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )


def _wait_for(check: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.mark.postgres
def test_a_rotation_killed_mid_way_stays_readable_and_resumes_where_it_stopped(
    tmp_path: Path, postgres_url: str
) -> None:
    kek_file = tmp_path / "kek"
    kek_file.write_text(new_kek() + "\n")
    runtime, _ = _store_with_everything(tmp_path, database_url=postgres_url, kek_file=kek_file)
    vault = outbox_vault(runtime.settings)
    with runtime.sessions() as session:  # enough e-mails for many batches
        rows = [
            {"template": "t", "subject": "s", "sealed": vault.encrypt_json({"to": f"p{i}@x"})}
            for i in range(EXTRA_MESSAGES)
        ]
        session.execute(insert(OutboxMessage), rows)
        session.execute(text(SLOW_UPDATES))
        session.commit()
    total = sum(sealed_versions(runtime).values())
    env = _env(runtime, kek_file)

    def outbox_step() -> KeyRotationStep | None:
        with runtime.sessions() as session:
            return session.get(KeyRotationStep, (2, "outbox_messages.sealed"))

    rotation = _rotate(env)
    try:
        _wait_for(lambda: (s := outbox_step()) is not None and s.rewritten >= 100, "batches")
        during = sealed_versions(runtime)  # read while it runs: everything opens
        assert sum(during.values()) == total
        rotation.send_signal(signal.SIGKILL)
        rotation.wait(timeout=10)
    finally:
        if rotation.poll() is None:
            rotation.kill()
    killed_at = outbox_step()
    assert killed_at is not None and killed_at.done_at is None
    after_kill = sealed_versions(runtime)
    assert after_kill["v1"] and after_kill["v2"] and sum(after_kill.values()) == total

    with runtime.sessions() as session:
        session.execute(text("DROP TRIGGER slow ON outbox_messages"))
        session.commit()
    resumed = _rotate(env, errors=subprocess.PIPE)
    _, errors = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, errors.decode()
    assert sealed_versions(runtime) == Counter({"v2": total})  # the same version: resumed
    with runtime.sessions() as session:
        done = session.get(KeyRotationStep, (2, "outbox_messages.sealed"))
        assert done is not None and done.after is not None and done.done_at is not None
        # Each e-mail was rewritten once: the batches before the kill were not done again.
        assert done.rewritten == EXTRA_MESSAGES + len(
            session.scalars(select(OutboxMessage.id).where(OutboxMessage.template != "t")).all()
        )
    runtime.engine.dispose()
    dispose_all()
