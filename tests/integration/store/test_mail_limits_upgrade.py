"""Upgrading to 0018 keeps the hour's consent-link counts: an address that had its three links
before the upgrade gets no fourth after it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import column, insert, table

from rightful.connectors.sql import dispose_all
from rightful.core.clock import utcnow
from rightful.core.db import UTCDateTime
from rightful.core.runtime import build_runtime
from rightful.migrations import _config
from rightful.security.vault import keyed_hash
from rightful.web.app import create_app
from tests.support.app import App, make_settings, prepare
from tests.support.consent_pages import CASEY, ask_for_link, letters


def test_link_counts_from_before_the_upgrade_still_count(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    before = build_runtime(settings)
    with before.engine.begin() as conn:
        cfg = _config(str(before.engine.url))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0017")
        old_counts = table(
            "consent_links_sent",
            column("address_hash"),
            column("client_hash"),
            column("sent_at", UTCDateTime()),
        )
        row = {  # as consent/link_limits.py counted a link
            "address_hash": keyed_hash(settings.secret_key, "consent-link", CASEY),
            "client_hash": keyed_hash(settings.secret_key, "consent-link-client", "elsewhere"),
            "sent_at": utcnow(),
        }
        conn.execute(insert(old_counts), [row, row, row])
    before.engine.dispose()
    runtime = prepare(settings)  # upgrades to head
    try:
        with TestClient(create_app(runtime, start_worker=False)) as client:
            ask_for_link(client, CASEY)
            app = App(runtime, client, token="")
            assert letters(app, CASEY, "preferences_link") == []
    finally:
        runtime.engine.dispose()
        dispose_all()
