"""POST /api/v1/rights-requests/batch as an integrator calls it: over HTTP, with a token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from rightful.rights.models import RightsRequest
from tests.support.app import App

URL = "/api/v1/rights-requests/batch"


def _line(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": f"AG-{n:05d}",
        "request_type": "delete",
        "email": f"person.{n}@example.com",
        "received_at": "2026-11-30",
        **extra,
    }


def _requests(app: App) -> int:
    with app.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RightsRequest)) or 0)


def test_a_batch_is_filed_and_answered_line_by_line(rightful_app: App) -> None:
    body = {"source": "Permission Slip", "requests": [_line(n) for n in range(1, 301)]}
    answer = rightful_app.client.post(URL, json=body, headers=rightful_app.auth)
    assert answer.status_code == 201, answer.text  # 300 lines: over the usual body limit
    report = answer.json()
    assert report["saved"] is True and report["lines"] == 300
    assert [i["line"] for i in report["imported"]] == list(range(1, 301))
    first = rightful_app.client.get(
        f"/api/v1/rights-requests/{report['imported'][0]['id']}", headers=rightful_app.auth
    ).json()
    assert first["reference"] == report["imported"][0]["reference"]
    assert first["received_at"].startswith("2026-11-30")
    assert _requests(rightful_app) == 300


def test_a_retried_call_reports_the_lines_as_already_imported(rightful_app: App) -> None:
    body = {"source": "Permission Slip", "requests": [_line(1), _line(2)]}
    first = rightful_app.client.post(URL, json=body, headers=rightful_app.auth).json()
    again = rightful_app.client.post(URL, json=body, headers=rightful_app.auth)
    assert again.status_code == 200
    assert again.json()["imported"] == []
    assert [d["reference"] for d in again.json()["duplicates"]] == [
        i["reference"] for i in first["imported"]
    ]
    assert _requests(rightful_app) == 2


def test_bad_lines_get_422_problem_json_with_every_line_and_nothing_filed(
    rightful_app: App,
) -> None:
    body = {
        "source": "Permission Slip",
        "requests": [_line(1), _line(2, email="nobody-at-all"), _line(3, request_type="erase")],
    }
    answer = rightful_app.client.post(URL, json=body, headers=rightful_app.auth)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/batch_rejected")
    assert problem["detail"].startswith("Nothing was imported: 2 of 3 lines")
    rejected = problem["report"]["rejected"]
    assert [(r["line"], r["errors"][0]["field"]) for r in rejected] == [
        (2, "email"),
        (3, "request_type"),
    ]
    assert {"field": "line 2: email", "message": rejected[0]["errors"][0]["message"]} in problem[
        "errors"
    ]
    assert _requests(rightful_app) == 0


def test_valid_only_files_the_good_lines_and_reports_the_bad(rightful_app: App) -> None:
    body = {
        "source": "Previous tool",
        "mode": "valid_only",
        "requests": [_line(1), _line(2, received_at="2019-05-01"), _line(3)],
    }
    answer = rightful_app.client.post(URL, json=body, headers=rightful_app.auth)
    assert answer.status_code == 201
    assert [i["line"] for i in answer.json()["imported"]] == [1, 3]
    assert answer.json()["rejected"] == [
        {
            "line": 2,
            "external_id": "AG-00002",
            "errors": [
                {"field": "received_at", "message": "The date received is before January 1, 2022."}
            ],
        }
    ]
    assert _requests(rightful_app) == 2


def test_a_dry_run_checks_every_line_and_files_nothing(rightful_app: App) -> None:
    body = {"source": "Permission Slip", "dry_run": True, "requests": [_line(1), _line(2)]}
    answer = rightful_app.client.post(URL, json=body, headers=rightful_app.auth)
    assert answer.status_code == 200
    assert [i["reference"] for i in answer.json()["imported"]] == ["", ""]
    assert _requests(rightful_app) == 0


def test_a_batch_needs_a_token(rightful_app: App) -> None:
    answer = rightful_app.client.post(URL, json={"source": "x", "requests": [_line(1)]})
    assert answer.status_code == 401
    assert _requests(rightful_app) == 0


def test_a_numeric_external_id_is_the_same_reference_as_its_text(rightful_app: App) -> None:
    first = {"source": "Previous tool", "requests": [_line(1, external_id=42)]}
    again = {"source": "Previous tool", "requests": [_line(1, external_id="42")]}
    assert rightful_app.client.post(URL, json=first, headers=rightful_app.auth).status_code == 201
    answer = rightful_app.client.post(URL, json=again, headers=rightful_app.auth)
    assert answer.status_code == 200
    assert [d["external_id"] for d in answer.json()["duplicates"]] == ["42"]
    assert _requests(rightful_app) == 1
