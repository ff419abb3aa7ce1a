"""Quick look at the whole journey through the API."""

import io
import json
import zipfile

from rightful.core.db import unit_of_work
from rightful.messaging.service import list_outbox, open_letter
from rightful.worker.loop import run_once
from tests.support.app import App, code_from


def test_access_request_end_to_end_via_api(rightful_app: App) -> None:
    c = rightful_app.client
    rt = rightful_app.runtime
    r = c.post("/api/v1/rights-requests", headers=rightful_app.auth, json={
        "request_type": "access", "email": "avery.quinn@example.com", "phone_number": "415-555-0134",
        "name": "Avery Quinn", "declaration_signature": "Avery Quinn", "channel": "api",
        "date_range": "all"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    with unit_of_work(rt.sessions) as s:
        letter = open_letter(rt.settings, list_outbox(s, request_id=rid)[0])
    print(letter.text)
    r = c.post(f"/api/v1/rights-requests/{rid}/verify", headers=rightful_app.auth,
               json={"code": code_from(letter.text)})
    print(r.json())
    r = c.post(f"/api/v1/rights-requests/{rid}/approve", headers=rightful_app.auth)
    print(r.json())
    print(run_once(rt))
    r = c.get(f"/api/v1/rights-requests/{rid}", headers=rightful_app.auth)
    print(r.json())
    r = c.get(f"/api/v1/rights-requests/{rid}/package", headers=rightful_app.auth)
    z = zipfile.ZipFile(io.BytesIO(r.content))
    print(z.namelist())
    print(json.dumps(json.loads(z.read("data.json")), indent=1)[:3000])
    with unit_of_work(rt.sessions) as s:
        for m in list_outbox(s, request_id=rid):
            print(open_letter(rt.settings, m).text)
