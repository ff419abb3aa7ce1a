"""The demo's help center and e-mail newsletters live at vendors reached over HTTP: an access
request's package holds what their APIs return, and a deletion erases through the APIs and says
exactly what they confirmed."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from rightful.connectors.http import complete_dataset, config_of
from rightful.connectors.sql import dispose_all
from rightful.core.clock import freeze, utcnow
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import demo_urls
from rightful.demo.vendors import HERE, VENDORS, connect_vendors, stores, subscriber_hash
from rightful.demo.vendors.serve import serving_vendors
from rightful.inventory.models import System
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights import partners
from rightful.rights.execution import run_request
from rightful.rights.models import PartnerNotice
from rightful.security.tokens import LinkSigner
from rightful.web.app import create_app
from tests.support.app import AVERY, access_package, make_settings, prepare
from tests.support.peer_estate import approved_deletion

JORDAN = {"email": "jordan.lee@example.com", "name": "Jordan Lee"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Runtime]:
    """The demo company on 40 people, its vendors served on a loopback port and connected."""
    runtime = prepare(make_settings(tmp_path))
    with serving_vendors(tmp_path) as url:
        connect_vendors(runtime, demo_urls(tmp_path), base_url=url)
        yield runtime
    runtime.engine.dispose()
    dispose_all()


def test_the_vendor_datasets_declare_every_input_their_configs_read_by() -> None:
    for vendor in VENDORS.values():
        path = HERE / "datasets" / f"{vendor.system}.yml"
        doc = yaml.safe_load(path.read_text())["dataset"][0]
        assert complete_dataset(config_of({"shipped": vendor.shipped}), doc) == doc


def test_the_package_holds_the_help_center_questions_and_the_newsletter_membership(
    demo: Runtime,
) -> None:
    _, package = access_package(demo)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        data = json.loads(archive.read("data.json"))["data"]
        page = archive.read("index.html").decode()
    help_center, newsletter = data["Help center"], data["E-mail newsletters"]
    assert [u["email"] for u in help_center["user"]] == [AVERY["email"]]
    assert [t["subject"] for t in help_center["ticket"]] == ["Return label for an indoor cam"]
    assert [m["id"] for m in newsletter["member"]] == [subscriber_hash(AVERY["email"])]
    assert [t["name"] for t in newsletter["member"][0]["tags"]] == ["product_news"]
    assert [n["note"] for n in newsletter["note"]] == [
        "Asked by phone for product news only, no offers."
    ]
    words = re.sub(r"<[^>]+>", " ", page)
    assert "Help-center questions" in words and "Return label for an indoor cam" in words
    assert "Newsletter subscription" in words


def erased_letter(runtime: Runtime, request_id: str) -> str:
    """Run the deletion, have every partner confirm, and read the completion e-mail."""
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    signer = LinkSigner(runtime.settings.secret_key, "partner-ack")
    with unit_of_work(runtime.sessions) as session:
        notices = session.scalars(
            select(PartnerNotice.id).where(PartnerNotice.request_id == request_id)
        )
        for notice_id in list(notices):
            partners.acknowledge(session, runtime.settings, token=signer.sign(str(notice_id)))
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    with runtime.sessions() as session:
        return next(
            open_letter(runtime.settings, m).text
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        )


def vendor_records(runtime: Runtime, email: str) -> dict[str, list[Any]]:
    found = stores(runtime.settings.data_dir)
    users = found["helpdesk"].owned_by("user", email)
    h = subscriber_hash(email)
    return {
        "users": users,
        "tickets": [t for u in users for t in found["helpdesk"].owned_by("ticket", u["id"])],
        "members": found["marketing"].owned_by("member", h),
        "notes": found["marketing"].owned_by("note", h),
    }


def test_a_deletion_erases_through_the_vendor_apis_and_the_email_says_so(demo: Runtime) -> None:
    before = vendor_records(demo, JORDAN["email"])
    assert all(len(rows) == 1 for rows in before.values()), before
    letter = erased_letter(demo, approved_deletion(demo, JORDAN))
    assert vendor_records(demo, JORDAN["email"]) == {
        "users": [],
        "tickets": [],
        "members": [],
        "notes": [],
    }
    for line in (
        "- Help center, user: deleted 1 record.",
        "- Help center, ticket: deleted 1 record.",
        "- E-mail newsletters, member: deleted 1 record.",
        "- E-mail newsletters, note: deleted 1 record.",
    ):
        assert line in letter.splitlines()
    assert all(vendor_records(demo, AVERY["email"]).values())  # nobody else's


def test_a_vendor_down_during_a_deletion_leaves_it_unfinished_until_it_answers(
    tmp_path: Path,
) -> None:
    runtime = prepare(make_settings(tmp_path))
    urls = demo_urls(tmp_path)
    try:
        with serving_vendors(tmp_path) as url:
            connect_vendors(runtime, urls, base_url=url, max_attempts=1)
            request_id = approved_deletion(runtime, JORDAN)  # verified while they answer
        # Both vendors are gone: nothing is reported done, nothing of theirs is erased.
        assert run_request(runtime.sessions, runtime.settings, request_id) != "completed"
        assert all(vendor_records(runtime, JORDAN["email"]).values())
        freeze(utcnow() + timedelta(minutes=2))  # the worker tries again a minute later
        with serving_vendors(tmp_path) as url:  # back, at another address
            connect_vendors(runtime, urls, base_url=url)
            letter = erased_letter(runtime, request_id)
        assert not any(vendor_records(runtime, JORDAN["email"]).values())
        assert "- E-mail newsletters, member: deleted 1 record." in letter.splitlines()
    finally:
        freeze(None)
        runtime.engine.dispose()
        dispose_all()


def test_demo_mode_serves_the_vendors_and_setup_connects_them(tmp_path: Path) -> None:
    from rightful.demo.setup import reset_demo, setup_demo

    settings = make_settings(tmp_path, demo_mode=True)
    runtime = prepare(settings)
    try:
        setup_demo(runtime, people=30)
        with runtime.sessions() as session:
            kinds = {s.key: s.connection_type for s in session.scalars(select(System))}
        assert kinds["help_center"] == kinds["newsletter"] == "http"
        vendor = VENDORS["marketing"]
        path = f"/demo/vendors/mailchimp/3.0/lists/{vendor.params['list_id']}"
        with TestClient(create_app(runtime, start_worker=False)) as client:
            assert client.get(path, auth=("any", vendor.params["api_key"])).status_code == 200
            refused = client.get(path, auth=("any", "wrong"))
            assert refused.status_code == 401
            assert refused.headers["content-type"] == "application/problem+json"
        with TestClient(
            create_app(prepare(make_settings(tmp_path / "other")), start_worker=False)
        ) as client:
            assert client.get(path, auth=("any", vendor.params["api_key"])).status_code == 404
        removed = reset_demo(settings)
        assert {p.name for p in removed} >= {"vendor_helpdesk.db", "vendor_marketing.db"}
    finally:
        runtime.engine.dispose()
        dispose_all()
