"""Set up the demo company: its own databases, its data map, and a staff login."""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from rightful.connectors.sql import dispose_all
from rightful.consent import catalog, destinations
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.errors import ConfigurationError
from rightful.core.runtime import Runtime
from rightful.demo.consent_history import seed_consent_history
from rightful.demo.estate import FEATURED_PEOPLE, SYSTEMS, DemoPerson, build_estate, demo_urls
from rightful.demo.request_history import count_history, seed_request_history
from rightful.demo.vendors import connect_vendors, vendor_files
from rightful.inventory import service as inventory
from rightful.inventory import taxonomy
from rightful.migrations import upgrade
from rightful.notices import service as notices
from rightful.rights.erasure import apply_policy
from rightful.rights.models import RightsRequest
from rightful.security.models import StaffUser
from rightful.security.permissions import Role, system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.security.vault import Vault

HERE = Path(__file__).parent
ADMIN_EMAIL = "privacy.officer@lumen.example"
PAPER_ARCHIVE = HERE / "paper_archive.yml"  # handled by hand; its owner is ADMIN_EMAIL
NOTICE = HERE / "notice.md"  # the privacy notice, in Markdown with blocks (docs/notices.md)


@dataclass(frozen=True)
class DemoInfo:
    """What a newcomer needs to try the demo."""

    admin_email: str
    admin_password: str
    api_token: str
    people: tuple[DemoPerson, ...]
    earlier_requests: int | None = None  # requests kept from earlier runs; None if none ran


def data_map_files() -> list[tuple[str, str]]:
    """The demo's data-map files: one dataset per system, plus systems and partners."""
    files = sorted((HERE / "datasets").glob("*.yml"))
    return [(f.name, f.read_text()) for f in files] + [
        ("company.yml", (HERE / "company.yml").read_text())
    ]


def load_data_map(runtime: Runtime, urls: dict[str, str]) -> None:
    """Apply the demo data map and point each system at its database."""
    vault = Vault(runtime.settings, "connections")
    with unit_of_work(runtime.sessions) as session:
        taxonomy.load_default(session)
    with unit_of_work(runtime.sessions) as session:
        demo = system_actor("demo")
        inventory.apply_files(session, files=data_map_files(), actor=demo)
        for key in SYSTEMS:
            inventory.set_connection(session, vault, system_key=key, url=urls[key], actor=demo)
        for policy in sorted((HERE / "policies").glob("*.yml")):
            apply_policy(session, text=policy.read_text(), actor=demo, source=policy.name)
        consent_file = HERE / "consent.yml"
        catalog.apply(session, catalog.parse(consent_file.read_text(), name=consent_file.name))
        destinations.apply_from_file(session, consent_file.read_text(), name=consent_file.name)


def add_paper_archive(runtime: Runtime) -> None:
    """Add the paper archive, a system handled by hand: each request that reaches it gives its
    owner (the privacy officer, who must be a staff member by now) a manual task."""
    text = PAPER_ARCHIVE.read_text()
    with unit_of_work(runtime.sessions) as session:
        owner = session.scalar(
            select(StaffUser).where(StaffUser.email == ADMIN_EMAIL, StaffUser.active.is_(True))
        )
        if owner is None:
            raise ConfigurationError(
                f"The paper archive's owner {ADMIN_EMAIL} is not on the staff."
            )
        inventory.apply_files(
            session, files=[(PAPER_ARCHIVE.name, text)], actor=system_actor("demo")
        )


def publish_notice(runtime: Runtime) -> None:
    """Publish Lumen's privacy notice (notice.md, filled from the data map) unless one is."""
    with unit_of_work(runtime.sessions) as session:
        if notices.current(session) is not None:
            return
        demo = system_actor("demo")
        notices.draft(session, runtime.settings, source=NOTICE.read_text(), actor=demo)
        notices.publish(session, runtime.settings, actor=demo, material=True)


def reset_demo(settings: Settings) -> list[Path]:
    """Remove what earlier demo runs left in the data directory: Rightful's SQLite store (with
    its requests and outbox), the demo company's databases, the access packages and the logs'
    anchors kept there.

    Demo mode only, and only these files, never the folder: RIGHTFUL_DATA_DIR may be shared."""
    if not settings.demo_mode:
        raise ConfigurationError("A fresh start deletes the store: set RIGHTFUL_DEMO_MODE=true.")
    url = make_url(settings.resolved_database_url)
    if settings.database_url and url.get_backend_name() != "sqlite":
        raise ConfigurationError(
            "A fresh start removes a SQLite store only; drop the database at "
            f"{url.render_as_string(hide_password=True)} yourself."
        )
    dispose_all()  # pooled connections to the demo databases would outlive the files
    store = Path(url.database or settings.data_dir / "rightful.db")
    estate = [Path(u.removeprefix("sqlite:///")) for u in demo_urls(settings.data_dir).values()]
    estate += vendor_files(settings.data_dir).values()  # the stand-in vendors' records
    removed = []
    for db in [store, *estate]:
        for path in (db, *(db.with_name(db.name + end) for end in ("-wal", "-shm", "-journal"))):
            if path.exists():
                path.unlink()
                removed.append(path)
    if settings.package_dir.is_dir():
        shutil.rmtree(settings.package_dir)
        removed.append(settings.package_dir)
    # The old store's anchors would hold the new one to the old log; one set elsewhere stays.
    if settings.audit_anchor_dir is None and settings.anchor_dir.is_dir():
        shutil.rmtree(settings.anchor_dir)
        removed.append(settings.anchor_dir)
    return removed


def setup_demo(runtime: Runtime, *, people: int = 3000, rebuild: bool = False) -> DemoInfo:
    """Idempotent: migrate, build the estate if missing, load the data map (with the help desk
    and newsletters over HTTP, and the paper archive handled by hand), reset the login.

    What people did in an earlier run (requests, erasures, choices) is kept and counted."""
    upgrade(runtime.engine)
    urls = demo_urls(runtime.settings.data_dir)
    existed = all(Path(u.removeprefix("sqlite:///")).exists() for u in urls.values())
    with runtime.sessions() as session:
        requests = session.scalar(select(func.count()).select_from(RightsRequest)) or 0
        requests -= count_history(session, runtime.settings)  # the seeded year is no one's run
    if rebuild or not existed:
        build_estate(urls, people=people)
    load_data_map(runtime, urls)
    connect_vendors(runtime, urls, rebuild=rebuild or not existed)  # help desk, newsletters
    seed_consent_history(runtime)
    password = secrets.token_urlsafe(12)
    with unit_of_work(runtime.sessions) as session:
        demo = system_actor("demo")
        staff = create_staff(
            session,
            email=ADMIN_EMAIL,
            name="Pat Privacy",
            password=password,
            role=Role.ADMIN,
            actor=demo,
        )
        token = create_api_token(session, staff=staff, name="demo", actor=demo)
    add_paper_archive(runtime)  # after the officer, who owns it
    seed_request_history(runtime, officer_email=ADMIN_EMAIL)  # 2025, for the yearly metrics
    publish_notice(runtime)  # after the whole data map, which it must agree with
    earlier = requests if existed or requests else None
    return DemoInfo(ADMIN_EMAIL, password, token, FEATURED_PEOPLE, earlier)
