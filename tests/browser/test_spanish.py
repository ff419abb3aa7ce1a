"""The privacy center in Spanish, in a real browser: every consumer page, the language switch
without JavaScript, and a request made in Spanish answered in Spanish over real SMTP.

A browser set to Spanish (es-MX) sends Accept-Language: es-MX; Rightful answers in Spanish and
says so in <html lang="es">. E-mails follow the language the request was made in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from rightful.rights.models import RightsRequest
from tests.browser.test_access_journey import assert_accessible_basics, expect, heading
from tests.support.app import AVERY, code_from, link_from
from tests.support.live import LiveRightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PERSON = AVERY["email"]  # a customer in the demo estate, so her details match its records
SPANISH_DATE = re.compile(
    r"\b\d{1,2} de (enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    r"noviembre|diciembre) de \d{4}\b"
)


@pytest.fixture
def spanish_page(chromium_browser: Browser) -> Iterator[Page]:
    """A page in a browser whose language is Mexican Spanish."""
    context = chromium_browser.new_context(locale="es-MX")
    try:
        yield context.new_page()
    finally:
        context.close()


def assert_spanish(page: Page, title: str) -> None:
    """The page says it is Spanish, its heading is `title`, and it passes the basic checks."""
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(heading(page)).to_have_text(title)
    expect(page.get_by_role("link", name="Ir al contenido principal")).to_be_attached()
    assert_accessible_basics(page)


def make_request(page: Page, live: LiveRightful, kind: str) -> None:
    """Fill the form in Spanish for Avery and send it."""
    page.goto(live.url("/requests/new"))
    assert_spanish(page, "Hacer una solicitud de privacidad")
    page.get_by_label(kind).check()
    page.get_by_label("Correo electrónico", exact=True).fill(PERSON)
    page.get_by_label(re.compile(r"^Nombre completo")).fill(AVERY["name"])
    page.get_by_label(re.compile(r"^Código postal")).fill(AVERY["postal_code"])
    page.get_by_role("button", name="Enviar solicitud").click()
    page.wait_for_load_state()


def stored_language(live: LiveRightful) -> str:
    with live.runtime.sessions() as session:
        return str(session.scalar(select(RightsRequest.language)))


def test_every_consumer_page_reads_in_spanish(
    spanish_page: Page, live_rightful: LiveRightful
) -> None:
    page, live = spanish_page, live_rightful
    for path, title in [
        ("/", "Sus derechos de privacidad"),
        ("/requests/lookup", "Consultar una solicitud"),
        ("/preferences", "Administre sus preferencias de publicidad y privacidad"),
        ("/list-removal", "Quite su dirección de nuestras listas de publicidad"),
        ("/status/not-a-real-link", "No pudimos verificarlo"),
        ("/no-such-page", "No encontrado"),
    ]:
        page.goto(live.url(path))
        assert_spanish(page, title)
    page.goto(live.url("/requests/lookup"))
    page.get_by_label("Referencia de la solicitud").fill("R-AAAAAAAA")
    page.get_by_label("Correo electrónico", exact=True).fill(PERSON)
    page.get_by_role("button", name="Enviarme un enlace por correo").click()
    assert_spanish(page, "Revise su correo electrónico")
    page.goto(live.url("/preferences"))
    page.get_by_label("Correo electrónico", exact=True).fill(PERSON)
    page.get_by_role("button", name="Enviarme un enlace").click()
    assert_spanish(page, "Revise su correo electrónico")


def test_a_request_made_in_spanish_is_answered_in_spanish(
    spanish_page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer
) -> None:
    page, live = spanish_page, live_rightful
    make_request(page, live, "Eliminar mi información personal")
    assert_spanish(page, "En espera de la verificación de identidad")
    expect(page.get_by_text("Solicitud recibida")).to_be_visible()
    assert SPANISH_DATE.search(page.locator("dl.facts").inner_text())
    assert stored_language(live) == "es"

    received = smtp_server.wait_for(PERSON, subject_contains="Recibimos su solicitud")
    text = received.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Hola:")
    assert "Eliminar mi información personal" in text
    assert SPANISH_DATE.search(text), text
    html = received.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Siga su solicitud" in html

    page.get_by_label("Código de 6 dígitos").fill(code_from(received))
    page.get_by_role("button", name="Confirmar").click()
    assert_spanish(page, "En revisión por nuestro equipo de privacidad")

    page.get_by_role("link", name="Retirar esta solicitud").click()
    assert_spanish(page, "¿Retirar esta solicitud?")
    page.get_by_role("button", name="Sí, retirarla").click()
    assert_spanish(page, "Retirada")
    withdrawn = smtp_server.wait_for(PERSON, subject_contains="fue retirada")
    assert "como usted lo pidió" in withdrawn.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_someone_who_lost_the_link_gets_a_new_one_in_spanish(
    spanish_page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer
) -> None:
    page, live = spanish_page, live_rightful
    make_request(page, live, "Eliminar mi información personal")
    received = smtp_server.wait_for(PERSON, subject_contains="Recibimos su solicitud")
    reference = re.search(r"R-[A-Z0-9]{8}", str(received["subject"]))
    assert reference
    page.goto(live.url("/requests/lookup"))
    page.get_by_label("Referencia de la solicitud").fill(reference.group(0).lower())
    page.get_by_label("Correo electrónico", exact=True).fill(PERSON.upper())
    page.get_by_role("button", name="Enviarme un enlace por correo").click()
    assert_spanish(page, "Revise su correo electrónico")
    fresh = smtp_server.wait_for(PERSON, subject_contains="Su enlace para seguir")
    page.goto(link_from(fresh, "/status/"))
    assert_spanish(page, "En espera de la verificación de identidad")


def test_the_switch_changes_the_language_without_javascript(
    chromium_browser: Browser, live_rightful: LiveRightful
) -> None:
    context = chromium_browser.new_context(locale="en-US", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_rightful.url("/requests/lookup"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_role("button", name="Español").click()
        assert page.url.endswith("/requests/lookup")  # back on the page it was chosen on
        assert_spanish(page, "Consultar una solicitud")
        page.goto(live_rightful.url("/"))  # the choice is remembered, over the browser's
        assert_spanish(page, "Sus derechos de privacidad")
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(heading(page)).to_have_text("Your privacy rights")
    finally:
        context.close()
