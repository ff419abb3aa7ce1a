"""The console's DROP page shows the index of the stores: when it was built and refreshed, its
size, and when it is stale (the next import refreshes it)."""

from __future__ import annotations

from pathlib import Path

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.drop import service
from rightful.drop.hashing import ListType, list_hash
from rightful.inventory.revision import bump_revision
from rightful.security.permissions import system_actor
from tests.support.app import App
from tests.web.test_admin import sign_in


def test_the_drop_page_shows_the_index_and_when_it_is_stale(
    rightful_app: App, tmp_path: Path
) -> None:
    rt = rightful_app.runtime
    listed = tmp_path / f"{utcnow():%Y%m%d}_4821_Email.csv"
    listed.write_text(
        f"ID,Hash\nA7kP2xQ9Lm4R,{list_hash(ListType.EMAIL, {'email': 'nobody@example.org'})}\n"
    )
    with unit_of_work(rt.sessions) as session:
        done = service.import_list(session, rt.settings, path=listed, actor=system_actor("t"))
    sign_in(rightful_app)
    page = rightful_app.client.get("/admin/drop").text
    assert 'id="index"' in page and "Last refreshed" in page
    assert f"{done.indexed} hashes of" in page and ">Current<" in page
    with unit_of_work(rt.sessions) as session:
        bump_revision(session)
    page = rightful_app.client.get("/admin/drop").text
    assert "Stale: the data map changed since." in page and ">Current<" not in page
