"""Reading the public consent pages in tests as a browser would: forms, links, the ledger."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rightful.consent import service, subjects
from rightful.consent.models import ConsentEvent, ConsentSubject, MarketingSuppression
from rightful.core.db import unit_of_work
from rightful.messaging.service import Letter, list_outbox, open_letter
from tests.support.app import App, link_from

CASEY = "casey.morgan@example.com"


# --- reading pages, the outbox and the ledger ----------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would submit from one form: hidden fields, ticked boxes, chosen radios."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif tag == "input" and self.inside and a.get("name"):
            kind = a.get("type", "text")
            if kind not in ("checkbox", "radio") or "checked" in a:
                self.fields.append((str(a["name"]), str(a.get("value") or "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_on(page: str, form_id: str = "choices") -> dict[str, list[str]]:
    """The form as the browser would send it now."""
    reader = _FormReader(form_id)
    reader.feed(page)
    fields: dict[str, list[str]] = {}
    for name, value in reader.fields:
        fields.setdefault(name, []).append(value)
    assert fields, f"no form #{form_id} on the page"
    return fields


def csrf_on(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no form token on the page"
    return found.group(1)


def letters(app: App, to: str, template: str) -> list[Letter]:
    with app.runtime.sessions() as session:
        opened = [open_letter(app.runtime.settings, m) for m in list_outbox(session)]
    return [m for m in opened if m.to == to and m.template == template]


def events(app: App, email: str = CASEY) -> list[ConsentEvent]:
    with app.runtime.sessions() as session:
        person = subjects.find_person(session, app.runtime.settings, email)
        if person is None:
            return []
        stmt = select(ConsentEvent).where(ConsentEvent.subject_id == person.id)
        return list(session.scalars(stmt.order_by(ConsentEvent.id)))


def suppressed_topics(app: App, email: str = CASEY) -> set[str]:
    with app.runtime.sessions() as session:
        stmt = select(MarketingSuppression.topic).where(
            MarketingSuppression.email_sha256 == subjects.email_sha256(email)
        )
        return set(session.scalars(stmt))


def subject_count(app: App) -> int:
    with app.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ConsentSubject)) or 0)


# --- what people do ------------------------------------------------------------------------------


def ask_for_link(client: TestClient, email: str, path: str = "/preferences") -> str:
    token = csrf_on(client.get(path).text)
    action = "/preferences/link" if path == "/preferences" else path
    return client.post(action, data={"csrf": token, "email": email}).text


def open_preferences(app: App, email: str = CASEY) -> str:
    """Ask for a link, open it from the e-mail, press its button, and return the manage page."""
    ask_for_link(app.client, email)
    url = link_from(letters(app, email, "preferences_link")[0].text, "/preferences/open/")
    opened = app.client.get(url, follow_redirects=False)
    assert opened.status_code == 200 and "Open my choices" in opened.text  # a GET signs no one in
    answer = app.client.post(url, data={"csrf": csrf_on(opened.text)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/preferences/manage"
    page = app.client.get("/preferences/manage")
    assert page.status_code == 200, page.text
    return page.text


def save(app: App, page: str, changes: dict[str, str]) -> str:
    """Change some choices on the manage page (field → 'given' or 'withdrawn') and save."""
    fields = form_on(page)
    for field, state in changes.items():
        fields.pop(field, None)
        if state == "given" or field.endswith(":all"):
            fields[field] = [state]
    return app.client.post("/preferences/manage", data=fields).text


def unsubscribe_url(app: App, email: str = CASEY, topic: str = "marketing.offers") -> str:
    """The List-Unsubscribe URL of a marketing e-mail, as the mailbox provider reads it."""
    with unit_of_work(app.runtime.sessions) as session:
        headers = service.unsubscribe_headers(
            session, app.runtime.settings, email=email, topic=topic
        )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return headers["List-Unsubscribe"].strip("<>")
