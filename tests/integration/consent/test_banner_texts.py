"""The banner's texts and purpose translations live in the store, on SQLite and PostgreSQL: what a
catalogue file says is what every process serves, and applying it again replaces it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from rightful.consent import banner, catalog, texts
from rightful.core.config import Settings
from rightful.core.db import make_engine
from rightful.migrations import upgrade

CATALOGUE = """
purposes:
  - key: cookies.performance
    kind: cookies
    title: Performance
    description: Count visits.
    channels: [web]
    translations:
      es: {title: Rendimiento, description: Cuentan las visitas.}
"""
BANNER = """
banner:
  texts:
    es:
      opt_out_title: Sus opciones en Lumen
      save: Guardar
    es-MX:
      choose: Escoger
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A migrated, empty store of each kind."""
    url = (
        f"sqlite:///{tmp_path}/store.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key=secrets.token_urlsafe(40))


def apply(session: Session, text: str) -> None:
    catalog.apply(session, catalog.parse(text))
    session.commit()


def test_an_applied_catalogue_serves_the_banner_in_spanish(
    store: Session, settings: Settings
) -> None:
    apply(store, CATALOGUE + BANNER)
    mexican = banner.config(store, settings, "US-CA", "es-MX")
    assert mexican.language == "es-MX"  # the company added Mexican Spanish
    assert mexican.texts["choose"] == "Escoger"
    assert mexican.texts["title"] == "Sus opciones en Lumen"  # from its Spanish
    assert mexican.texts["reject_all"] == "Rechazar todo"  # built-in Spanish
    performance = next(c for c in mexican.categories if c.key == "performance")
    assert (performance.title, performance.description) == ("Rendimiento", "Cuentan las visitas.")
    assert mexican.sale_share is not None
    assert mexican.sale_share.title == "Vender o compartir mi información personal"


def test_applying_again_replaces_the_texts_and_a_file_without_them_keeps_them(
    store: Session,
) -> None:
    apply(store, CATALOGUE + BANNER)
    apply(store, CATALOGUE + "banner:\n  texts:\n    es:\n      save: Guardar cambios\n")
    assert texts.own_texts(store) == {"es": {"save": "Guardar cambios"}}
    apply(store, CATALOGUE)  # no banner section: the texts stay as they are
    assert texts.own_texts(store) == {"es": {"save": "Guardar cambios"}}
    apply(store, CATALOGUE + "banner:\n")  # an empty one: back to the built-in texts
    assert texts.own_texts(store) == {}


def test_removing_a_purpose_translation_takes_it_out_of_the_banner(
    store: Session, settings: Settings
) -> None:
    apply(store, CATALOGUE)
    untranslated = CATALOGUE.split("    translations:")[0]
    apply(store, untranslated)
    assert texts.purpose_translations(store) == {}
    spanish = banner.config(store, settings, "FR", "es")
    assert next(c for c in spanish.categories if c.key == "performance").title == "Performance"
