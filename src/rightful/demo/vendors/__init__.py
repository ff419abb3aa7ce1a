"""Two of Lumen's systems live at vendors and are reached over HTTP: a help desk (answering like
Zendesk) and an e-mail marketing service (answering like Mailchimp). In the demo both vendors
are stand-ins Rightful serves itself under /demo/vendors/, each over its own SQLite file in the
estate folder, so `make demo` still needs no other service (docs/decisions/0015). The systems
are connected with the shipped `zendesk` and `mailchimp` configs, as a real company would
connect its real accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from rightful.core.db import unit_of_work
from rightful.core.files import private_dir
from rightful.core.runtime import Runtime
from rightful.demo.vendors import helpdesk, marketing
from rightful.demo.vendors.build import build_vendors, subscriber_hash
from rightful.demo.vendors.store import DocStore
from rightful.inventory import service as inventory
from rightful.inventory.models import System
from rightful.security.permissions import system_actor
from rightful.security.vault import Vault

__all__ = [
    "MOUNT",
    "VENDORS",
    "Vendor",
    "connect_vendors",
    "data_map_files",
    "follow_base_url",
    "stores",
    "subscriber_hash",
    "vendor_app",
    "vendor_files",
]

HERE = Path(__file__).parent
MOUNT = "/demo/vendors"


@dataclass(frozen=True)
class Vendor:
    """A stand-in vendor: the system it holds, its path under MOUNT, the shipped config and the
    params a staff member would give for a real account."""

    system: str
    path: str
    shipped: str
    params: dict[str, Any]


VENDORS: dict[str, Vendor] = {
    "helpdesk": Vendor(
        "help_center",
        "/helpdesk",
        "zendesk",
        {"domain": "lumen.zendesk.example", "username": helpdesk.ADMIN, "api_key": helpdesk.TOKEN},
    ),
    "marketing": Vendor(
        "newsletter",
        "/mailchimp",
        "mailchimp",
        {
            "domain": "us21.api.mailchimp.example",
            "api_key": marketing.API_KEY,
            "list_id": marketing.AUDIENCE,
        },
    ),
}


def vendor_files(data_dir: Path) -> dict[str, Path]:
    """Each stand-in's SQLite file, in the estate folder beside the demo's own databases."""
    folder = private_dir(data_dir / "estate")
    return {name: folder / f"vendor_{name}.db" for name in VENDORS}


def stores(data_dir: Path) -> dict[str, DocStore]:
    """Each stand-in's records."""
    return {name: DocStore(path) for name, path in vendor_files(data_dir).items()}


def vendor_app(data_dir: Path) -> Starlette:
    """Both stand-in APIs, to mount at MOUNT (demo mode only)."""
    found = stores(data_dir)
    return Starlette(
        routes=[
            Mount(VENDORS["helpdesk"].path, helpdesk.helpdesk_app(found["helpdesk"])),
            Mount(VENDORS["marketing"].path, marketing.marketing_app(found["marketing"])),
        ]
    )


def data_map_files() -> list[tuple[str, str]]:
    """The vendors' systems and datasets, in the data map's YAML."""
    files = sorted((HERE / "datasets").glob("*.yml"))
    return [(f.name, f.read_text()) for f in files] + [
        ("vendor_systems.yml", (HERE / "systems.yml").read_text())
    ]


def connect_vendors(
    runtime: Runtime,
    urls: dict[str, str],
    *,
    base_url: str | None = None,
    rebuild: bool = False,
    **tuning: Any,
) -> None:
    """Build the stand-ins' records if missing (or `rebuild`), add their systems to the data map
    and connect each with its shipped config at `base_url` (Rightful's own, by default)."""
    found = stores(runtime.settings.data_dir)
    if rebuild or not all(s.path.exists() for s in found.values()):
        build_vendors(found, urls)
    root = (base_url or runtime.settings.base_url).rstrip("/")
    vault = Vault(runtime.settings, "connections")
    with unit_of_work(runtime.sessions) as session:
        demo = system_actor("demo")
        inventory.apply_files(session, files=data_map_files(), actor=demo)
        for vendor in VENDORS.values():
            settings = {
                "shipped": vendor.shipped,
                "params": vendor.params,
                "base_url": f"{root}{MOUNT}{vendor.path}",
                **tuning,
            }
            inventory.set_connection(
                session, vault, system_key=vendor.system, kind="http", settings=settings, actor=demo
            )


def follow_base_url(runtime: Runtime) -> list[str]:
    """Point the stand-ins' connections at Rightful's own base URL where they point at another
    (the demo was set up for port 8000 and is served on another); returns the systems moved.
    A connection someone changed to a real account is left alone."""
    root = runtime.settings.base_url.rstrip("/")
    vault = Vault(runtime.settings, "connections")
    moved = []
    with unit_of_work(runtime.sessions) as session:
        for vendor in VENDORS.values():
            system = session.get(System, vendor.system)
            found = inventory.connection_settings(vault, system) if system else None
            here = f"{MOUNT}{vendor.path}"
            if not found or not str(found.get("base_url", "")).endswith(here):
                continue
            if found["base_url"] != f"{root}{here}":
                inventory.set_connection(
                    session,
                    vault,
                    system_key=vendor.system,
                    kind="http",
                    settings={**found, "base_url": f"{root}{here}"},
                    actor=system_actor("demo"),
                )
                moved.append(vendor.system)
    return moved
