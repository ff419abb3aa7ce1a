"""A Rightful whose data map has a paper archive handled by hand, owned by an archivist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.inventory import service as inventory
from rightful.rights import flows, service
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.security.service import create_staff
from tests.support.app import AVERY, latest_code, make_settings, prepare

ARCHIVIST = "archie.archivist@lumen.example"
APPROVER = "ava.approver@lumen.example"
VIEWER = "vic.viewer@lumen.example"
ANALYST = "andy.analyst@lumen.example"
PASSWORD = "correct horse battery staple"

ARCHIVE = """
dataset:
  - fides_key: paper_archive
    name: Paper archive
    description: Warranty cards and letters kept on paper in the Oakland office.
    collections:
      - name: warranty_cards
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
          - name: customer_number
            data_categories: [user.unique_id]
            fides_meta:
              data_type: integer
              references:
                - {dataset: storefront, field: customers.id, direction: from}
          - name: name_and_address
            data_categories: [user.contact.address]
system:
  - fides_key: paper_archive
    name: Paper archive
    description: Paper records in the Oakland office; no API.
    connection_type: manual
    owner: archie.archivist@lumen.example
    dataset_references: [paper_archive]
    privacy_declarations:
      - name: Warranty registration
        data_use: essential.service
        data_categories: [user.contact.address, user.contact.email]
"""


def add_archive(runtime: Runtime, text: str = ARCHIVE) -> None:
    """The paper archive in the data map."""
    with unit_of_work(runtime.sessions) as session:
        inventory.apply_files(session, files=[("archive.yml", text)], actor=system_actor("t"))


def add_people(runtime: Runtime) -> None:
    """The archivist (an analyst), an approver, a viewer and another analyst."""
    with unit_of_work(runtime.sessions) as session:
        for email, name, role in (
            (ARCHIVIST, "Archie Archivist", "analyst"),
            (APPROVER, "Ava Approver", "approver"),
            (VIEWER, "Vic Viewer", "viewer"),
            (ANALYST, "Andy Analyst", "analyst"),
        ):
            create_staff(
                session,
                email=email,
                name=name,
                password=PASSWORD,
                actor=system_actor("test"),
                role=role,
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def archive_runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """Rightful (its store on SQLite or PostgreSQL) with the demo estate and the archive."""
    overrides: dict[str, object] = {}
    if request.param == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    runtime = prepare(make_settings(tmp_path, **overrides), people=10)
    add_archive(runtime)
    add_people(runtime)
    yield runtime
    runtime.engine.dispose()
    dispose_all()


def approved(runtime: Runtime, request_type: str = "access") -> str:
    """Avery's request of this type, verified and approved; its id."""
    data = RequestIn(
        request_type=request_type,
        declaration_signature="Avery Quinn",  # type: ignore[arg-type]
        date_range="all",
        **AVERY,
    )
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with unit_of_work(runtime.sessions) as session:
        code = latest_code(runtime, request_id)
        assert (
            flows.verify(session, runtime.settings, request_id=request_id, code=code).error is None
        )
    with unit_of_work(runtime.sessions) as session:
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    return request_id
