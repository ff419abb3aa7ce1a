"""The public privacy center works without JavaScript and reveals nothing before verification."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from rightful.rights.models import RightsRequest
from tests.support.app import AVERY, App, latest_code


def csrf(app: App, path: str = "/requests/new") -> str:
    page = app.client.get(path).text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def form(app: App, **overrides: str) -> dict[str, str]:
    values = {
        "csrf": csrf(app),
        "request_type": "access",
        "date_range": "all",
        "by_agent": "no",
        "jurisdiction": "CA",
        "declaration_signature": "Avery Quinn",
        **AVERY,
    }
    values.update(overrides)
    return values


def requests_count(app: App) -> int:
    with app.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RightsRequest)) or 0)


def test_home_lists_every_right_in_plain_words(rightful_app: App) -> None:
    page = rightful_app.client.get("/").text
    assert "Delete my personal information" in page
    assert "Do not sell or share my personal information" in page
    # Each right leads to the form with it chosen.
    assert '<a href="/requests/new?type=access">Get a copy of my personal information</a>' in page
    form_page = rightful_app.client.get("/requests/new?type=access").text
    assert re.search(r'<input[^>]*value="access"[^>]*checked', form_page)


def test_submitting_the_form_leads_to_a_private_status_page(rightful_app: App) -> None:
    r = rightful_app.client.post("/requests", data=form(rightful_app), follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/status/") and "avery" not in location.lower()
    page = rightful_app.client.get(location).text
    assert "Enter the code we e-mailed you" in page
    assert AVERY["email"] not in page  # the page never echoes personal data


def test_form_errors_re_render_with_every_field_and_keep_input(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/requests", data=form(rightful_app, email="nope", phone_number="12", request_type="")
    )
    assert r.status_code == 422
    assert "Enter a valid e-mail address" in r.text
    assert "Choose what you would like us to do." in r.text
    assert 'value="nope"' in r.text and 'aria-invalid="true"' in r.text
    assert requests_count(rightful_app) == 0


def test_a_form_without_its_token_is_refused(rightful_app: App) -> None:
    r = rightful_app.client.post("/requests", data=form(rightful_app, csrf="forged"))
    assert r.status_code == 400 and "form has expired" in r.text
    assert requests_count(rightful_app) == 0


def test_right_code_on_the_status_page_moves_the_request_to_review(rightful_app: App) -> None:
    location = rightful_app.client.post(
        "/requests", data=form(rightful_app), follow_redirects=False
    ).headers["location"]
    with rightful_app.runtime.sessions() as session:
        rid = session.scalar(select(RightsRequest.id))
    assert rid
    r = rightful_app.client.post(
        f"{location}/verify",
        data={"csrf": csrf(rightful_app, location), "code": latest_code(rightful_app.runtime, rid)},
    )
    assert r.status_code == 200 and "Under review by our privacy team" in r.text


def test_wrong_code_shows_a_clear_error_and_tries_left(rightful_app: App) -> None:
    location = rightful_app.client.post(
        "/requests", data=form(rightful_app), follow_redirects=False
    ).headers["location"]
    r = rightful_app.client.post(
        f"{location}/verify", data={"csrf": csrf(rightful_app, location), "code": "12345"}
    )
    assert r.status_code == 400 and "Enter the 6-digit code" in r.text
    r = rightful_app.client.post(
        f"{location}/verify", data={"csrf": csrf(rightful_app, location), "code": "999999"}
    )
    assert r.status_code == 400 and "tries left" in r.text


def test_tampered_status_link_shows_an_error_page_without_details(rightful_app: App) -> None:
    location = rightful_app.client.post(
        "/requests", data=form(rightful_app), follow_redirects=False
    ).headers["location"]
    tampered = location[:-3] + ("AAA" if not location.endswith("AAA") else "BBB")
    r = rightful_app.client.get(tampered)
    assert r.status_code == 400 and "This link is not valid" in r.text
    assert "R-" not in r.text


def test_tampered_download_link_is_refused(rightful_app: App) -> None:
    r = rightful_app.client.get("/download/IjEyMyI.aaaa.bbbb")
    assert r.status_code == 400 and "not valid" in r.text


def test_unknown_and_known_people_see_the_same_pages(rightful_app: App) -> None:
    pages = []
    for email in (AVERY["email"], "stranger@example.com"):
        r = rightful_app.client.post("/requests", data=form(rightful_app, email=email))
        pages.append(re.sub(r"R-[A-Z0-9]{8}|/status/[^\"]+|[A-Za-z]+ \d+, \d{4}", "", r.text))
    assert pages[0] == pages[1]


def test_security_headers_are_set(rightful_app: App) -> None:
    r = rightful_app.client.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"


def test_unknown_page_is_a_friendly_404(rightful_app: App) -> None:
    r = rightful_app.client.get("/nowhere")
    assert r.status_code == 404 and "There is nothing at this address." in r.text


def test_one_browser_address_gets_at_most_20_codes_an_hour(rightful_app: App) -> None:
    for i in range(20):
        r = rightful_app.client.post(
            "/requests", data=form(rightful_app, email=f"p{i}@example.com")
        )
        assert r.status_code == 200
    r = rightful_app.client.post("/requests", data=form(rightful_app, email="p21@example.com"))
    assert r.status_code == 429 and "from this connection" in r.text
    assert requests_count(rightful_app) == 20


def test_a_detail_the_company_configured_is_asked_for_and_matched(rightful_app: App) -> None:
    from rightful.core.config import ExtraDataPoint

    rightful_app.runtime.settings.extra_data_points = [
        ExtraDataPoint(
            key="device_serial",
            label="A device serial number",
            hint="On the back of any Lumen device.",
            categories=["user.device.device_id"],
        )
    ]
    page = rightful_app.client.get("/requests/new").text
    assert 'name="device_serial"' in page and "A device serial number" in page
    values = form(rightful_app, phone_number="", postal_code="")
    values["device_serial"] = "lmn-therm-00a1b2c3d4"  # as typed, case aside
    location = rightful_app.client.post("/requests", data=values, follow_redirects=False).headers[
        "location"
    ]
    with rightful_app.runtime.sessions() as session:
        rid = session.scalar(select(RightsRequest.id))
    assert rid
    r = rightful_app.client.post(
        f"{location}/verify",
        data={"csrf": csrf(rightful_app, location), "code": latest_code(rightful_app.runtime, rid)},
    )
    # e-mail code + name + serial = 3 points, enough for a copy.
    assert "Under review by our privacy team" in r.text


def test_a_detail_the_company_does_not_ask_for_is_refused(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={"request_type": "delete", "email": AVERY["email"], "other_points": {"ssn": "123"}},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "ssn", "message": "We do not ask for this detail."}]
    assert requests_count(rightful_app) == 0
