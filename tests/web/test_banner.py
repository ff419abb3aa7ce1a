"""The cookie banner's endpoints: consent.js, its configuration per jurisdiction, the choices it
records in the ledger, Global Privacy Control, and clear problems for bad input."""

from __future__ import annotations

import gzip
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rightful.consent import subjects
from rightful.consent.models import ConsentEvent, ConsentSubject
from rightful.core.runtime import build_runtime
from rightful.migrations import upgrade
from rightful.web.app import create_app
from tests.support.app import App, make_settings

SITE = "https://shop.lumen.example"
SCRIPT = Path(__file__).parents[2] / "src/rightful/web/static/consent.js"
MAX_GZIP_BYTES = 15_000


def device_id() -> str:
    return secrets.token_urlsafe(16)


def post(app: App, body: Any, **headers: str) -> Any:
    return app.client.post(
        "/consent/events",
        json=body,
        headers={"Origin": SITE, "Content-Type": "text/plain;charset=UTF-8", **headers},
    )


def events_of(app: App, device: str) -> list[ConsentEvent]:
    with app.runtime.sessions() as session:
        subject = subjects.resolve(session, app.runtime.settings, device_id=device, create=False)
        if subject is None:
            return []
        stmt = select(ConsentEvent).where(ConsentEvent.subject_id == subject.id)
        return list(session.scalars(stmt.order_by(ConsentEvent.id)))


def states(app: App, device: str) -> dict[str, tuple[str, str]]:
    """purpose → (state, interface) of the latest event per purpose."""
    return {e.purpose: (e.state, e.interface) for e in events_of(app, device)}


def ledger_size(app: App) -> tuple[int, int]:
    with app.runtime.sessions() as session:
        events = session.scalar(select(func.count()).select_from(ConsentEvent))
        people = session.scalar(select(func.count()).select_from(ConsentSubject))
        return int(events or 0), int(people or 0)


# --- consent.js ---------------------------------------------------------------------------


def test_consent_js_is_served_compressed_as_javascript_and_cached(rightful_app: App) -> None:
    r = rightful_app.client.get("/consent.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["content-encoding"] == "gzip"
    assert "max-age=3600" in r.headers["cache-control"]
    assert "window.RightfulConsent" in r.text
    again = rightful_app.client.get(
        "/consent.js", headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304


def test_consent_js_is_under_15_kb_compressed() -> None:
    assert len(gzip.compress(SCRIPT.read_bytes(), 9)) < MAX_GZIP_BYTES


# --- configuration --------------------------------------------------------------------------


def test_california_gets_an_opt_out_banner_with_the_sale_share_choice(rightful_app: App) -> None:
    r = rightful_app.client.get("/consent/config.json?jurisdiction=US-CA")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    config = r.json()
    assert config["mode"] == "opt-out"
    assert config["notice_version"] == rightful_app.runtime.settings.notice_version
    assert config["sale_share"]["title"] == "Selling or sharing my personal information"
    keys = [c["key"] for c in config["categories"]]
    assert keys == ["strictly_necessary", "performance", "functional", "targeting"]
    targeting = config["categories"][3]
    assert targeting["cookies"] == ["_bright_id", "_bright_seg*"]
    assert config["texts"]["gpc_honored"] == "Opt-out request honored"
    assert config["privacy_center"] == "http://testserver/"


def test_france_gets_an_opt_in_banner_with_nothing_optional_on(rightful_app: App) -> None:
    config = rightful_app.client.get("/consent/config.json?jurisdiction=fr").json()
    assert config["jurisdiction"] == "FR"
    assert config["mode"] == "opt-in"
    assert config["sale_share"] is None
    assert {c["key"]: c["default"] for c in config["categories"]} == {
        "strictly_necessary": True,
        "performance": False,
        "functional": False,
        "targeting": False,
    }


def test_without_a_jurisdiction_the_configured_default_applies(rightful_app: App) -> None:
    config = rightful_app.client.get("/consent/config.json").json()
    assert config["jurisdiction"] == rightful_app.runtime.settings.default_jurisdiction


def test_a_malformed_jurisdiction_is_a_clear_problem(rightful_app: App) -> None:
    r = rightful_app.client.get("/consent/config.json?jurisdiction=California")
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.json()["errors"][0]["field"] == "jurisdiction"


def test_a_json_post_from_the_company_site_passes_the_preflight(rightful_app: App) -> None:
    r = rightful_app.client.options(
        "/consent/events",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "Content-Type" in r.headers["access-control-allow-headers"]


# --- languages ----------------------------------------------------------------------------------


def test_a_mexican_visitor_gets_the_banner_in_spanish(rightful_app: App) -> None:
    r = rightful_app.client.get("/consent/config.json?jurisdiction=US-CA&lang=es-MX")
    assert r.status_code == 200
    config = r.json()
    assert config["lang"] == "es"
    assert config["texts"]["reject_all"] == "Rechazar todo"
    assert config["texts"]["accept_all"] == "Aceptar todo"
    assert config["texts"]["title"] == "Sus opciones de privacidad"
    titles = {c["key"]: c["title"] for c in config["categories"]}
    assert titles["strictly_necessary"] == "Estrictamente necesarias"  # built in
    assert titles["targeting"] == "Publicidad dirigida"  # the demo catalogue's translation
    assert config["sale_share"]["title"] == "Vender o compartir mi información personal"


def test_a_language_the_banner_lacks_gets_the_default_language(rightful_app: App) -> None:
    config = rightful_app.client.get("/consent/config.json?lang=de-AT").json()
    assert config["lang"] == "en"
    assert config["texts"]["reject_all"] == "Reject all"
    rightful_app.runtime.settings.banner_default_language = "es"
    assert rightful_app.client.get("/consent/config.json?lang=de-AT").json()["lang"] == "es"


def test_a_malformed_page_language_gets_the_default_banner(rightful_app: App) -> None:
    r = rightful_app.client.get("/consent/config.json", params={"lang": "<b>klingon</b>"})
    assert r.status_code == 200
    assert r.json()["lang"] == "en"


def put_catalogue(app: App, banner: dict[str, Any], purposes: list[dict[str, Any]]) -> Any:
    return app.client.put(
        "/api/v1/consent/purposes", json={"purposes": purposes, "banner": banner}, headers=app.auth
    )


PERFORMANCE = {
    "key": "cookies.performance",
    "kind": "cookies",
    "title": "Performance",
    "description": "Count visits and see which pages work, so we can improve the site.",
    "channels": ["web"],
    "cookies": ["_lumen_perf", "_ga*"],
}


def test_the_company_wording_wins_and_missing_texts_fall_back_key_by_key(
    rightful_app: App,
) -> None:
    banner = {
        "texts": {
            "es": {"opt_in_title": "Lumen y las cookies"},
            "fr": {"accept_all": "Tout accepter", "opt_in_title": "Les cookies chez Lumen"},
        }
    }
    translated = {**PERFORMANCE, "translations": {"fr": {"title": "Mesure d'audience"}}}
    r = put_catalogue(rightful_app, banner, [translated])
    assert r.status_code == 200, r.text
    performance = next(p for p in r.json() if p["key"] == "cookies.performance")
    assert performance["translations"] == {"fr": {"title": "Mesure d'audience"}}
    got = rightful_app.client.get("/api/v1/consent/banner", headers=rightful_app.auth)
    assert got.json() == banner  # what was put comes back, ready to put again

    spanish = rightful_app.client.get("/consent/config.json?jurisdiction=FR&lang=es").json()
    assert spanish["texts"]["title"] == "Lumen y las cookies"
    assert spanish["texts"]["reject_all"] == "Rechazar todo"
    french = rightful_app.client.get("/consent/config.json?jurisdiction=FR&lang=fr-FR").json()
    assert french["lang"] == "fr"
    assert french["texts"]["title"] == "Les cookies chez Lumen"
    assert french["texts"]["accept_all"] == "Tout accepter"
    assert french["texts"]["reject_all"] == "Reject all"  # not given in French: the default's
    titles = {c["key"]: (c["title"], c["description"]) for c in french["categories"]}
    assert titles["performance"] == ("Mesure d'audience", PERFORMANCE["description"])


def test_an_unknown_banner_text_is_refused_with_the_valid_keys(rightful_app: App) -> None:
    r = put_catalogue(rightful_app, {"texts": {"es": {"reject": "No"}}}, [PERFORMANCE])
    assert r.status_code == 422
    problem = r.json()
    assert problem["errors"][0]["field"] == "banner.texts.es.reject"
    assert "There is no banner text 'reject'" in problem["errors"][0]["message"]
    assert "reject_all" in problem["errors"][0]["message"]
    got = rightful_app.client.get("/api/v1/consent/banner", headers=rightful_app.auth)
    assert got.json() == {"texts": {}}


def test_a_choice_keeps_the_language_the_banner_was_read_in(rightful_app: App) -> None:
    device = device_id()
    body = {"device_id": device, "jurisdiction": "FR", "choices": {"targeting": False}}
    r = post(rightful_app, {**body, "action": "reject_all", "lang": "es"})
    assert r.status_code == 200, r.text
    [event] = events_of(rightful_app, device)
    assert event.proof == {"action": "reject_all", "mode": "opt-in", "lang": "es", "origin": SITE}


def test_a_malformed_language_in_a_choice_is_refused(rightful_app: App) -> None:
    before = ledger_size(rightful_app)
    body = {"device_id": GOOD_ID, "choices": {"targeting": True}, "lang": "español"}
    r = post(rightful_app, body)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["lang"]
    assert ledger_size(rightful_app) == before


# --- recording choices ----------------------------------------------------------------------


def test_accept_all_records_every_category_with_the_notice_version(rightful_app: App) -> None:
    device = device_id()
    choices = {"performance": True, "functional": True, "targeting": True}
    body = {"device_id": device, "jurisdiction": "FR", "choices": choices, "action": "accept_all"}
    r = post(rightful_app, body)
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.json()["choices"]["targeting"] is True
    events = events_of(rightful_app, device)
    assert {e.purpose for e in events} == {
        "cookies.performance",
        "cookies.functional",
        "cookies.targeting",
    }
    for e in events:
        assert (e.state, e.channel, e.interface, e.jurisdiction) == ("given", "web", "banner", "FR")
        assert e.notice_version == rightful_app.runtime.settings.notice_version
        assert e.proof == {"action": "accept_all", "mode": "opt-in", "origin": SITE}


def test_reject_all_in_california_opts_out_of_sale_and_targeted_ads(rightful_app: App) -> None:
    device = device_id()
    choices = {"performance": False, "functional": False, "targeting": False, "sale_share": False}
    r = post(rightful_app, {"device_id": device, "choices": choices, "action": "reject_all"})
    assert r.status_code == 200
    assert r.json()["choices"] == {
        "strictly_necessary": True,
        "performance": False,
        "functional": False,
        "targeting": False,
        "sale_share": False,
    }
    recorded = states(rightful_app, device)
    assert recorded["sale_share"] == ("withdrawn", "banner")
    assert recorded["targeted_advertising"] == ("withdrawn", "banner")
    assert recorded["cookies.targeting"] == ("withdrawn", "banner")


def test_sending_the_same_choice_again_records_nothing_new(rightful_app: App) -> None:
    body = {"device_id": device_id(), "jurisdiction": "GB", "choices": {"performance": True}}
    assert post(rightful_app, body).json()["recorded"] == 1
    assert post(rightful_app, body).json()["recorded"] == 0


def test_changing_a_choice_appends_to_the_ledger(rightful_app: App) -> None:
    device = device_id()
    post(rightful_app, {"device_id": device, "jurisdiction": "FR", "choices": {"targeting": True}})
    post(rightful_app, {"device_id": device, "jurisdiction": "FR", "choices": {"targeting": False}})
    assert [e.state for e in events_of(rightful_app, device)] == ["given", "withdrawn"]


# --- Global Privacy Control -------------------------------------------------------------------


def test_the_sec_gpc_header_opts_the_browser_out_without_asking(rightful_app: App) -> None:
    device = device_id()
    r = post(
        rightful_app, {"device_id": device, "choices": {}, "action": "gpc"}, **{"Sec-GPC": "1"}
    )
    assert r.status_code == 200
    assert r.json()["gpc"] is True
    events = events_of(rightful_app, device)
    assert {e.purpose for e in events} == {
        "sale_share",
        "targeted_advertising",
        "cookies.targeting",
    }
    assert {(e.state, e.interface) for e in events} == {("withdrawn", "gpc")}
    assert {e.proof["signal"] for e in events} == {"Sec-GPC"}


def test_the_page_signal_alone_counts_as_gpc(rightful_app: App) -> None:
    device = device_id()
    post(rightful_app, {"device_id": device, "gpc": True, "action": "gpc"})
    assert states(rightful_app, device)["sale_share"] == ("withdrawn", "gpc")
    assert events_of(rightful_app, device)[0].proof == {"signal": "navigator.globalPrivacyControl"}


def test_gpc_covers_the_known_person_the_browser_belongs_to(rightful_app: App) -> None:
    device = device_id()
    settings = rightful_app.runtime.settings
    with rightful_app.runtime.sessions() as session:
        person = subjects.person(session, settings, "avery.quinn@example.com")
        browser = subjects.device(session, settings, device)
        subjects.link_to_person(session, browser, person.id)
        person_id = person.id
        session.commit()
    post(rightful_app, {"device_id": device, "gpc": True, "action": "gpc"})
    with rightful_app.runtime.sessions() as session:
        stmt = select(ConsentEvent.purpose, ConsentEvent.state).where(
            ConsentEvent.subject_id == person_id
        )
        assert {p: s for p, s in session.execute(stmt)} == {
            "sale_share": "withdrawn",
            "targeted_advertising": "withdrawn",
        }


def test_gpc_wins_over_a_yes_to_targeting_and_sale(rightful_app: App) -> None:
    device = device_id()
    choices = {"performance": True, "targeting": True, "sale_share": True}
    r = post(rightful_app, {"device_id": device, "choices": choices, "gpc": True})
    assert r.json()["choices"]["targeting"] is False
    assert r.json()["choices"]["sale_share"] is False
    assert r.json()["choices"]["performance"] is True
    assert states(rightful_app, device)["cookies.targeting"] == ("withdrawn", "gpc")


def test_gpc_json_tells_the_world_gpc_is_honoured(rightful_app: App) -> None:
    r = rightful_app.client.get("/.well-known/gpc.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"gpc": True, "lastUpdate": rightful_app.runtime.settings.notice_version}


# --- bad input changes nothing ----------------------------------------------------------------

GOOD_ID = "a" * 22
BAD_BODIES = [
    pytest.param({"device_id": GOOD_ID, "choices": {"marketing": True}}, "choices", id="unknown"),
    pytest.param(
        {"device_id": "short", "choices": {"targeting": True}}, "device_id", id="short-id"
    ),
    pytest.param(
        {"device_id": "../../etc/passwd!!!!", "choices": {"targeting": True}},
        "device_id",
        id="id-with-symbols",
    ),
    pytest.param(
        {"device_id": GOOD_ID, "choices": {"targeting": "yes"}}, "choices.targeting", id="not-bool"
    ),
    pytest.param({"device_id": GOOD_ID, "choices": ["targeting"]}, "choices", id="list"),
    pytest.param({"device_id": GOOD_ID, "choices": {}, "gpc": False}, "choices", id="empty"),
    pytest.param(
        {"device_id": GOOD_ID, "choices": {"targeting": True}, "tracking": 1},
        "tracking",
        id="extra",
    ),
    pytest.param(
        {"device_id": GOOD_ID, "choices": {"strictly_necessary": False}},
        "choices",
        id="strictly-necessary-off",
    ),
    pytest.param(
        {"device_id": GOOD_ID, "jurisdiction": "FR", "choices": {"sale_share": False}},
        "choices",
        id="sale-share-in-france",
    ),
    pytest.param(
        {"device_id": GOOD_ID, "jurisdiction": "Europe", "choices": {"targeting": True}},
        "jurisdiction",
        id="jurisdiction",
    ),
    pytest.param({"choices": {"targeting": True}}, "device_id", id="no-id"),
    pytest.param([1, 2, 3], "body", id="array"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_input_is_a_problem_document_and_changes_nothing(
    rightful_app: App, body: Any, field: str
) -> None:
    before = ledger_size(rightful_app)
    r = post(rightful_app, body)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["access-control-allow-origin"] == "*"
    problem = r.json()
    assert problem["type"].endswith("/invalid_input") and problem["detail"]
    assert field in [e["field"] for e in problem["errors"]]
    assert ledger_size(rightful_app) == before


def test_a_body_that_is_not_json_is_a_problem_document(rightful_app: App) -> None:
    r = rightful_app.client.post("/consent/events", content=b"device_id=abc&accept=1")
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "body", "message": "Not JSON."}]


def test_a_choice_made_on_an_outdated_notice_is_refused(rightful_app: App) -> None:
    before = ledger_size(rightful_app)
    body = {"device_id": GOOD_ID, "choices": {"targeting": True}, "notice_version": "1999-01-01"}
    r = post(rightful_app, body)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert ledger_size(rightful_app) == before


# --- the demo shop ----------------------------------------------------------------------------


@pytest.fixture
def demo_client(tmp_path: Path) -> Iterator[TestClient]:
    runtime = build_runtime(make_settings(tmp_path, demo_mode=True))
    upgrade(runtime.engine)
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield client
    runtime.engine.dispose()


def test_the_demo_shop_loads_consent_js_and_holds_back_the_ad_script(
    demo_client: TestClient,
) -> None:
    page = demo_client.get("/demo/store?jurisdiction=FR").text
    assert '<script async src="/consent.js" data-jurisdiction="FR"></script>' in page
    assert 'type="text/plain" data-category="targeting" src="/demo/store/brightads.js"' in page
    assert demo_client.get("/demo/store/brightads.js").status_code == 200
    assert demo_client.get("/demo/store/store.css").headers["content-type"].startswith("text/css")


def test_the_demo_shop_can_show_the_banner_in_spanish(demo_client: TestClient) -> None:
    page = demo_client.get("/demo/store?jurisdiction=US-CA&lang=es").text
    assert 'src="/consent.js" data-jurisdiction="US-CA" data-lang="es"' in page
    english = demo_client.get("/demo/store?jurisdiction=US-CA&lang=nonsense!").text
    assert "data-lang" not in english


def test_the_demo_shop_exists_only_in_demo_mode(rightful_app: App) -> None:
    assert rightful_app.client.get("/demo/store").status_code == 404
    assert rightful_app.client.get("/demo/store/brightads.js").status_code == 404


def test_the_demo_shop_signs_its_customer_in_to_the_preference_center(
    demo_client: TestClient,
) -> None:
    from rightful.consent import catalog
    from rightful.core.db import unit_of_work

    runtime = demo_client.app.state.runtime  # type: ignore[attr-defined]
    with unit_of_work(runtime.sessions) as session:
        catalog.ensure_built_in(session)
    page = demo_client.get("/demo/store").text
    found = re.search(r'name="assertion" value="([^"]+)"', page)
    assert found and 'action="/preferences/sso"' in page
    signed_in = demo_client.post("/preferences/sso", data={"assertion": found.group(1)})
    assert signed_in.status_code == 200
    assert "a•••@example.com" in signed_in.text  # Avery, masked
    forged = demo_client.post("/preferences/sso", data={"assertion": found.group(1)[:-4] + "AAAA"})
    assert forged.status_code == 400


def test_a_connection_flooding_the_ledger_is_slowed_down_and_nothing_more_is_kept(
    rightful_app: App,
) -> None:
    limit = rightful_app.runtime.settings.banner_events_per_minute
    device = device_id()
    answers = [
        post(
            rightful_app,
            {"device_id": device, "jurisdiction": "FR", "choices": {"targeting": n % 2 == 0}},
        )
        for n in range(limit + 1)
    ]
    assert all(a.status_code == 200 for a in answers[:-1])
    assert answers[-1].status_code == 429
    assert answers[-1].headers["content-type"] == "application/problem+json"
    assert len(events_of(rightful_app, device)) == limit


# --- batches ----------------------------------------------------------------------------------


def item(device: str, **fields: Any) -> dict[str, Any]:
    return {"device_id": device, "jurisdiction": "FR", "choices": {"targeting": True}} | fields


def test_a_batch_records_every_browsers_choices_in_one_request(rightful_app: App) -> None:
    first, second = device_id(), device_id()
    body = {
        "events": [
            item(first),
            item(second, choices={"targeting": False, "performance": True}),
            item(first, jurisdiction="US-CA", choices={}, gpc=True, action="gpc"),
        ]
    }
    r = post(rightful_app, body)
    assert r.status_code == 200
    answer = r.json()
    recorded = [x["recorded"] for x in answer["results"]]
    assert recorded[:2] == [1, 2] and answer["results"][2]["gpc"] is True
    assert answer["recorded"] == sum(recorded)
    assert answer["results"][1]["choices"]["performance"] is True
    assert states(rightful_app, second)["cookies.targeting"][0] == "withdrawn"
    assert len(events_of(rightful_app, first)) == 1 + recorded[2]  # targeting, then GPC's


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        pytest.param(item(GOOD_ID, choices={"marketing": True}), "events.2.choices", id="unknown"),
        pytest.param(item("short"), "events.2.device_id", id="device-id"),
        pytest.param(
            item(GOOD_ID, choices={"targeting": "yes"}), "events.2.choices.targeting", id="not-bool"
        ),
        pytest.param(item(GOOD_ID, jurisdiction="Europe"), "events.2.jurisdiction", id="place"),
    ],
)
def test_a_batch_with_one_bad_event_names_it_and_records_nothing(
    rightful_app: App, bad: dict[str, Any], field: str
) -> None:
    before = ledger_size(rightful_app)
    r = post(rightful_app, {"events": [item(device_id()), item(device_id()), bad]})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert field in [e["field"] for e in problem["errors"]]
    assert ledger_size(rightful_app) == before  # not even the first two browsers


def test_a_batch_with_a_stale_notice_is_refused_whole_and_says_which_event(
    rightful_app: App,
) -> None:
    before = ledger_size(rightful_app)
    body = {"events": [item(device_id()), item(device_id(), notice_version="1999-01-01")]}
    r = post(rightful_app, body)
    assert r.status_code == 409
    assert r.json()["item"] == 1 and r.json()["errors"][0]["field"] == "events.1"
    assert ledger_size(rightful_app) == before


@pytest.mark.parametrize("count", [0, 51])
def test_a_batch_holds_1_to_50_events(rightful_app: App, count: int) -> None:
    r = post(rightful_app, {"events": [item(device_id()) for _ in range(count)]})
    assert r.status_code == 422
    assert "events" in [e["field"] for e in r.json()["errors"]]
