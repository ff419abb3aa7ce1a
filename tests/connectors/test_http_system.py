"""An integrator connects an HTTP system through the API and a request reaches it unchanged."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rightful.cli.main import app as cli_app
from rightful.connectors.http import complete_dataset, load_config
from rightful.inventory.models import System
from tests.connectors.apiserver import serving
from tests.connectors.users_api import API_KEY, CONFIG, DATASET, UsersAPI
from tests.support.app import AVERY, App, access_package
from tests.support.signin import run_cli

SYSTEM = {
    "fides_key": "users_api",
    "name": "Users API",
    "description": "Accounts kept by a hosted service.",
    "system_type": "Service",
    "connection_type": "http",
    "dataset_references": ["users_api"],
    "privacy_declarations": [
        {
            "name": "Accounts",
            "data_use": "essential.service",
            "data_categories": ["user.contact.email", "user.unique_id"],
            "data_subjects": ["customer"],
        }
    ],
}


@pytest.fixture
def api(rightful_app: App) -> Iterator[UsersAPI]:
    with serving(UsersAPI()) as server:
        server.users.append({"id": 7, "email": AVERY["email"], "order": "seventh", "select": "s"})
        server.orders.append({"id": "o7-0", "user": 7, "item": "a lamp"})
        dataset = complete_dataset(load_config(CONFIG), DATASET)
        content = yaml.safe_dump({"dataset": [dataset], "system": [SYSTEM]})
        r = rightful_app.client.post(
            "/api/v1/inventory",
            headers=rightful_app.auth,
            json=[{"name": "users_api.yml", "content": content}],
        )
        assert r.status_code == 200, r.text
        yield server


def test_an_http_connection_is_set_tested_and_sealed(rightful_app: App, api: UsersAPI) -> None:
    c, auth = rightful_app.client, rightful_app.auth
    r = c.put(
        "/api/v1/systems/users_api/connection",
        headers=auth,
        json={"kind": "http", "settings": api.settings()},
    )
    assert r.status_code == 204, r.text
    assert c.post("/api/v1/systems/users_api/connection/test", headers=auth).status_code == 204
    assert api.calls("GET", "/health")
    shown = c.get("/api/v1/inventory", headers=auth).json()
    mine = next(s for s in shown["systems"] if s["key"] == "users_api")
    assert mine["connection_type"] == "http" and mine["connection_configured"]
    assert API_KEY not in c.get("/api/v1/inventory/export", headers=auth).text
    with rightful_app.runtime.sessions() as session:
        stored = session.get(System, "users_api")
        assert stored is not None and API_KEY not in (stored.connection_secret or "")


def test_a_wrong_key_is_a_problem_naming_the_refusal_not_the_key(
    rightful_app: App, api: UsersAPI
) -> None:
    c, auth = rightful_app.client, rightful_app.auth
    settings = {**api.settings(), "params": {"host": "x", "api_key": "not-the-key"}}
    c.put(
        "/api/v1/systems/users_api/connection",
        headers=auth,
        json={"kind": "http", "settings": settings},
    )
    r = c.post("/api/v1/systems/users_api/connection/test", headers=auth)
    assert r.status_code == 502
    assert "401" in r.json()["detail"] and "not-the-key" not in r.text


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"kind": "carrier_pigeon", "settings": {}}, "Unknown connector kind 'carrier_pigeon'"),
        ({"kind": "http", "settings": {"config": CONFIG, "params": {"host": "x"}}}, "api_key"),
        ({"kind": "http", "settings": {"config": CONFIG + "\n  bogus_key: 1\n"}}, "'bogus_key'"),
        ({"kind": "sql", "settings": {}}, "url"),
    ],
)
def test_settings_a_kind_cannot_use_are_refused_and_nothing_is_stored(
    rightful_app: App, api: UsersAPI, body: dict[str, object], said: str
) -> None:
    r = rightful_app.client.put(
        "/api/v1/systems/users_api/connection", headers=rightful_app.auth, json=body
    )
    assert r.status_code in (400, 422), r.text
    assert said in r.json()["detail"]
    with rightful_app.runtime.sessions() as session:
        stored = session.get(System, "users_api")
        assert stored is not None and stored.connection_secret is None


def test_an_access_request_reaches_the_http_system(rightful_app: App, api: UsersAPI) -> None:
    rightful_app.client.put(
        "/api/v1/systems/users_api/connection",
        headers=rightful_app.auth,
        json={"kind": "http", "settings": api.settings()},
    )
    _, package = access_package(rightful_app.runtime)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        text = "\n".join(
            archive.read(n).decode() for n in archive.namelist() if n.endswith((".json", ".csv"))
        )
    assert "seventh" in text and "a lamp" in text  # the account and its order, over HTTP
    assert "o'hara" not in text  # nobody else's
    # Only the person's own values were ever sent to the API.
    assert {a.query["email"] for a in api.calls("GET", "/users")} == {AVERY["email"]}
    assert {a.query["user"] for a in api.calls("GET", "/orders")} == {"7"}


def test_the_cli_connects_an_http_system_asking_for_its_secret(
    rightful_app: App, api: UsersAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "users_api.yml"
    config.write_text(CONFIG)
    tuning = tmp_path / "settings.json"
    tuning.write_text(json.dumps({"base_url": api.url, "backoff_seconds": 0}))
    settings = rightful_app.runtime.settings
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", settings.secret_key)
    monkeypatch.delenv("RIGHTFUL_DATABASE_URL", raising=False)
    args = ["systems", "connect", "users_api", "--kind", "http", "--config", str(config)]
    args += ["--param", "host=api.example", "--settings-file", str(tuning)]
    result = CliRunner().invoke(cli_app, args, input=f"{API_KEY}\n")
    assert result.exit_code == 0, result.output
    assert API_KEY not in result.output  # asked for hidden
    assert "saved" in result.output
    assert (
        run_cli(rightful_app, monkeypatch, "systems", "test", "users_api")
        .strip()
        .endswith("connection works.")
    )
    assert api.calls("GET", "/health")[0].headers["X-Api-Key"] == API_KEY
