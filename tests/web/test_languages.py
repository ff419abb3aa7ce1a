"""Consumer pages in the reader's language: Accept-Language, the switch and its cookie."""

from __future__ import annotations

import re

from sqlalchemy import select

from rightful.rights.models import RightsRequest
from tests.support.app import AVERY, App


def test_a_browser_asking_for_spanish_gets_the_privacy_center_in_spanish(rightful_app: App) -> None:
    page = rightful_app.client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert "Sus derechos de privacidad" in page.text
    assert "Eliminar mi información personal" in page.text  # a request kind's label
    assert page.headers["content-language"] == "es"


def test_a_browser_preferring_a_language_we_lack_gets_english(rightful_app: App) -> None:
    page = rightful_app.client.get("/", headers={"Accept-Language": "de-DE,fr;q=0.8"})
    assert '<html lang="en">' in page.text
    assert "Your privacy rights" in page.text


def test_the_switch_remembers_the_choice_over_the_browser(rightful_app: App) -> None:
    client = rightful_app.client
    answer = client.post(
        "/language",
        data={"lang": "es", "next": "/requests/new?type=delete"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/requests/new?type=delete"
    assert "rightful_lang=es" in answer.headers["set-cookie"]
    page = client.get("/", headers={"Accept-Language": "en-US"})
    assert '<html lang="es">' in page.text
    client.post("/language", data={"lang": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "es"}).text


def test_the_switch_goes_back_only_to_this_site(rightful_app: App) -> None:
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:x",
    ):
        answer = rightful_app.client.post(
            "/language", data={"lang": "es", "next": elsewhere}, follow_redirects=False
        )
        assert answer.headers["location"] == "/"


def test_an_unknown_language_changes_nothing(rightful_app: App) -> None:
    answer = rightful_app.client.post(
        "/language", data={"lang": "xx", "next": "/"}, follow_redirects=False
    )
    assert "set-cookie" not in answer.headers


def test_the_console_stays_english_whatever_the_browser_asks(rightful_app: App) -> None:
    page = rightful_app.client.get("/admin/login", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in page.text
    assert 'action="/language"' not in page.text


def test_an_error_page_speaks_the_readers_language(rightful_app: App) -> None:
    page = rightful_app.client.get("/nothing-here", headers={"Accept-Language": "es"})
    assert page.status_code == 404
    assert '<html lang="es">' in page.text
    assert "Volver al centro de privacidad" in page.text


def test_a_person_signs_the_declaration_in_the_language_they_read_it_in(
    rightful_app: App,
) -> None:
    client = rightful_app.client
    spanish = {"Accept-Language": "es-MX"}
    page = client.get("/requests/new", headers=spanish).text
    assert "Declaro bajo pena de perjurio conforme a" in page
    assert "las leyes del Estado de California" in page
    assert 'data-law="las leyes de la Mancomunidad de Virginia"' in page  # what the script shows
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    form = {
        "csrf": csrf.group(1),
        "request_type": "access",
        "date_range": "all",
        "jurisdiction": "US-CA",
        "declaration_jurisdiction": "US-CA",
        "declaration_signature": AVERY["name"],
        **AVERY,
    }
    answer = client.post("/requests", data=form, headers=spanish, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    with rightful_app.runtime.sessions() as session:
        req = session.scalars(select(RightsRequest)).one()
        assert req.language == "es"
        assert req.declaration == (  # the very text the page showed, in Spanish
            "Declaro bajo pena de perjurio conforme a las leyes del Estado de California que soy "
            "el consumidor cuya información personal es objeto de esta solicitud, o que estoy "
            "autorizado para hacer esta solicitud en su nombre."
        )


def test_an_english_page_keeps_the_english_declaration(rightful_app: App) -> None:
    page = rightful_app.client.get("/requests/new", headers={"Accept-Language": "en"}).text
    assert "I declare under penalty of perjury under" in page
    assert "the laws of the State of California" in page
