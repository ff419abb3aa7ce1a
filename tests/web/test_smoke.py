"""Quick look at the whole journey through the API."""

from rightful.worker.loop import run_once
from tests.support.app import App


def test_access_request_end_to_end_via_api(rightful_app: App) -> None:
    c = rightful_app.client
    r = c.post("/api/v1/rights-requests", headers=rightful_app.auth, json={
        "request_type": "access", "email": "avery.quinn@example.com", "phone_number": "415-555-0134",
        "name": "Avery Quinn", "declaration_signature": "Avery Quinn", "channel": "api"})
    assert r.status_code == 201, r.text
    print(r.json())
