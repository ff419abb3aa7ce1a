"""The reports over HTTP and the CLI: the public metrics page and CSV, the request records
(console download, API, CLI) with no identities, also after minimisation."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.reports.records import COLUMNS
from rightful.rights import service
from rightful.rights.retention import minimise_old_requests
from rightful.rights.schemas import RequestIn
from rightful.rights.types import RequestType
from tests.integration.reports.seed import Seeded, seed_year
from tests.support.app import App
from tests.support.signin import run_cli
from tests.web.test_admin import csrf, sign_in


@pytest.fixture
def seeded(rightful_app: App) -> Seeded:
    with unit_of_work(rightful_app.runtime.sessions) as session:
        return seed_year(session, rightful_app.runtime.settings)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _cells(page: str, label: str) -> list[str]:
    """The cells of the table row headed `label`, as text."""
    row = re.search(rf"<th scope=\"row\"[^>]*>{re.escape(label)}</th>(.*?)</tr>", page, re.S)
    assert row, label
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1])]


def test_the_metrics_page_shows_the_year_s_figures_without_signing_in(
    rightful_app: App, seeded: Seeded
) -> None:
    page = rightful_app.client.get("/privacy/metrics/2025")
    assert page.status_code == 200
    assert "<caption>Requests received in 2025 from California consumers" in page.text
    # received, complied (of which in part), denied, withdrawn, open, median, mean: by hand
    assert _cells(page.text, "Requests to delete") == ["5", "1", "3", "0", "1", "13.0", "27.5"]
    assert _cells(page.text, "Requests to know") == [
        "7", "5 (1 in part)", "1", "1", "0", "12.0", "10.5"
    ]  # fmt: skip
    assert "@example.com" not in page.text and seeded.refs["D2"] not in page.text


def test_the_metrics_csv_has_one_row_per_kind_of_request(rightful_app: App, seeded: Seeded) -> None:
    answer = rightful_app.client.get("/privacy/metrics/2025.csv?scope=all")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = {r["request_kind"]: r for r in _rows(answer.text)}
    assert list(rows) == ["know", "delete", "correct", "opt_out", "limit"]
    delete = rows["delete"]
    assert (delete["received"], delete["denied"], delete["denied_other"]) == ("6", "4", "2")
    assert (delete["median_days_to_respond"], delete["mean_days_to_respond"]) == ("7.0", "23.4")


def test_a_year_before_the_ccpa_is_refused_with_a_clear_error(rightful_app: App) -> None:
    answer = rightful_app.client.get("/privacy/metrics/2019")
    assert answer.status_code in (400, 422)
    assert "Choose a year from 2020" in answer.text


def test_records_hold_the_required_columns_and_no_identities(
    rightful_app: App, seeded: Seeded
) -> None:
    answer = rightful_app.client.get(
        "/api/v1/reports/records?from=2025-01-01&to=2025-12-31", headers=rightful_app.auth
    )
    assert answer.status_code == 200, answer.text
    assert answer.text.splitlines()[0].split(",") == list(COLUMNS)
    assert "example.com" not in answer.text and "Person" not in answer.text
    rows = {r["reference"]: r for r in _rows(answer.text)}
    assert len(rows) == 16  # every seeded request but X1 (2024)
    d2, v1, d1 = rows[seeded.refs["D2"]], rows[seeded.refs["V1"]], rows[seeded.refs["D1"]]
    assert (d2["response"], d2["denial_basis"], d2["denial_reason_code"]) == (
        "denied", "exempt", "staff"
    )  # fmt: skip
    assert (d2["received_on"], d2["responded_on"], d2["channel"]) == (
        "2025-05-10", "2025-05-30", "web"
    )  # fmt: skip
    # The first answer stands in the record; the appeal reopened it and it is completed now.
    assert (v1["response"], v1["status_now"], v1["jurisdiction"]) == (
        "denied",
        "completed",
        "US-VA",
    )
    assert (d1["extended"], d1["response"], d1["denial_basis"]) == ("yes", "completed", "")


def test_records_stay_the_same_after_requests_are_minimised(
    rightful_app: App, seeded: Seeded
) -> None:
    url = "/api/v1/reports/records?from=2025-01-01&to=2025-12-31"
    before = _rows(rightful_app.client.get(url, headers=rightful_app.auth).text)
    clock.freeze(datetime(2029, 1, 1, tzinfo=UTC))  # long past the retention of every one
    try:
        with unit_of_work(rightful_app.runtime.sessions) as session:
            assert minimise_old_requests(session, rightful_app.runtime.settings) >= 15
    finally:
        clock.freeze(None)
    after = _rows(rightful_app.client.get(url, headers=rightful_app.auth).text)
    assert [{**r, "minimised": "-"} for r in after] == [{**r, "minimised": "-"} for r in before]
    assert {r["minimised"] for r in after if r["response"] != "open"} == {"yes"}


def test_the_console_downloads_the_records_as_a_csv_file(rightful_app: App, seeded: Seeded) -> None:
    sign_in(rightful_app)
    answer = rightful_app.client.get("/admin/reports/records.csv?from=2025-06-01&to=2025-06-30")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    assert {r["reference"] for r in _rows(answer.text)} == {seeded.refs[n] for n in ("D3", "D4")}


def test_a_period_that_ends_before_it_starts_is_refused(rightful_app: App) -> None:
    answer = rightful_app.client.get(
        "/api/v1/reports/records?from=2025-06-01&to=2025-01-01", headers=rightful_app.auth
    )
    assert answer.status_code == 422
    assert "ends before it starts" in answer.text


def test_the_cli_writes_the_records_and_prints_the_metrics(
    rightful_app: App, seeded: Seeded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "records.csv"
    said = run_cli(
        rightful_app, monkeypatch, "reports", "records", "--from", "2025-01-01", "--to",
        "2025-12-31", "--out", str(out),
    )  # fmt: skip
    assert "16 requests received 2025-01-01 to 2025-12-31" in said
    assert len(_rows(out.read_text())) == 16
    said = run_cli(rightful_app, monkeypatch, "reports", "metrics", "--year", "2025")
    assert "delete   received 5, complied 1 (0 in part), denied 3" in said
    assert "median 13.0, mean 27.5" in said


def _received_request(app: App, email: str) -> str:
    with unit_of_work(app.runtime.sessions) as session:
        data = RequestIn(request_type=RequestType.DELETE, email=email, jurisdiction="US-CA")
        return service.create_request(session, app.runtime.settings, data).reference


def _basis_of(app: App, reference: str) -> str:
    today = datetime.now(UTC).date().isoformat()
    text = app.client.get(
        f"/api/v1/reports/records?from=2020-01-01&to={today}", headers=app.auth
    ).text
    return next(r["denial_basis"] for r in _rows(text) if r["reference"] == reference)


def test_staff_give_the_grounds_of_a_denial_in_the_api_the_console_and_the_cli(
    rightful_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "An exception of the law applies; we explained it in full."
    by_api = _received_request(rightful_app, "api.denied@example.com")
    answer = rightful_app.client.post(
        f"/api/v1/rights-requests/{by_api}/deny",
        headers=rightful_app.auth,
        json={"reason": reason, "basis": "exempt"},
    )
    assert answer.status_code == 200, answer.text
    by_console = _received_request(rightful_app, "console.denied@example.com")
    sign_in(rightful_app)
    page = rightful_app.client.get(f"/admin/requests/{by_console}").text
    assert '<select id="deny-basis" name="basis"' in page
    form = {"csrf": csrf(rightful_app, "/admin"), "reason": reason, "basis": "not_by_consumer"}
    rightful_app.client.post(f"/admin/requests/{by_console}/deny", data=form)
    by_cli = _received_request(rightful_app, "cli.denied@example.com")
    run_cli(
        rightful_app, monkeypatch, "rights", "deny", by_cli, "--reason", reason, "--basis",
        "not_verifiable",
    )  # fmt: skip
    unsaid = _received_request(rightful_app, "unsaid.denied@example.com")
    rightful_app.client.post(
        f"/api/v1/rights-requests/{unsaid}/deny", headers=rightful_app.auth, json={"reason": reason}
    )
    assert [_basis_of(rightful_app, r) for r in (by_api, by_console, by_cli, unsaid)] == [
        "exempt", "not_by_consumer", "not_verifiable", "other"
    ]  # fmt: skip


def test_unknown_grounds_are_refused_and_the_request_stays_open(rightful_app: App) -> None:
    reference = _received_request(rightful_app, "unknown.grounds@example.com")
    answer = rightful_app.client.post(
        f"/api/v1/rights-requests/{reference}/deny",
        headers=rightful_app.auth,
        json={"reason": "An exception applies; explained in full.", "basis": "because"},
    )
    assert answer.status_code == 422
    assert _basis_of(rightful_app, reference) == ""


def test_the_metrics_page_reads_in_the_visitor_s_language(
    rightful_app: App, seeded: Seeded
) -> None:
    page = rightful_app.client.get("/privacy/metrics/2025", headers={"Accept-Language": "es"})
    assert '<html lang="es">' in page.text
    assert "<h1>Solicitudes de privacidad en 2025</h1>" in page.text
    assert _cells(page.text, "Solicitudes para eliminar") == [
        "5", "1", "3", "0", "1", "13.0", "27.5"
    ]  # fmt: skip
