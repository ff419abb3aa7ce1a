"""The CLI as a newcomer uses it: set up the demo, look at the data map, handle a request."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from rightful.cli.main import app
from rightful.connectors.sql import dispose_all
from tests.support.cli import run, runner


def verify_from_outbox(submitted: str) -> str:
    """Enter the code the consumer was sent, as staff would from a letter; returns the reference."""
    from rightful.core.runtime import build_runtime
    from tests.support.app import latest_code

    reference, request_id = submitted.split()[:2]
    runtime = build_runtime()
    code = latest_code(runtime, request_id)
    runtime.engine.dispose()
    run("rights", "verify", reference, "--code", code)
    return reference


def test_demo_setup_prints_the_login_and_a_customer_to_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RIGHTFUL_DEMO_MODE", "true")
    out = run("demo", "setup", "--people", "30")
    assert "privacy.officer@lumen.example" in out and "avery.quinn@example.com" in out
    assert re.search(r"password\s+\S{12,}", out)
    history = demo_consent_history()
    # A past of choices from every interface, delivered, and none for the tour's featured people.
    assert history["interfaces"] >= {
        "banner",
        "gpc",
        "preference_center",
        "list_removal",
        "sms_reply",
    }
    assert history["deliveries"] == {"acknowledged"} and history["avery_events"] == 0
    assert "intact" in run("consent", "verify")
    run("demo", "setup", "--people", "30")  # again: the history is not seeded twice
    assert demo_consent_history()["events"] == history["events"]
    dispose_all()


def demo_consent_history() -> dict[str, Any]:
    from sqlalchemy import func, select

    from rightful.consent import subjects
    from rightful.consent.models import ConsentDelivery, ConsentEvent
    from rightful.core.runtime import build_runtime

    runtime = build_runtime()
    with runtime.sessions() as session:
        avery = subjects.find_person(session, runtime.settings, "avery.quinn@example.com")
        found = {
            "events": session.scalar(select(func.count()).select_from(ConsentEvent)),
            "interfaces": set(session.scalars(select(ConsentEvent.interface).distinct())),
            "deliveries": set(session.scalars(select(ConsentDelivery.status).distinct())),
            "avery_events": 0 if avery is None else 1,
        }
    runtime.engine.dispose()
    return found


def test_settings_refuse_the_placeholder_secret_outside_demo_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RIGHTFUL_SECRET_KEY", raising=False)
    monkeypatch.delenv("RIGHTFUL_DEMO_MODE", raising=False)
    result = runner.invoke(app, ["rights", "list"])
    assert result.exit_code != 0
    assert "RIGHTFUL_SECRET_KEY" in str(result.exception) + result.output


def test_inventory_show_and_export(cli_env: Path) -> None:
    shown = run("inventory", "show")
    assert "storefront" in shown and "connected" in shown and "brightads" in shown
    exported = run("inventory", "export")
    assert "fides_key: support_desk" in exported and "sqlite" not in exported


def test_inventory_apply_reports_each_problem_and_exits_nonzero(cli_env: Path) -> None:
    bad = cli_env / "bad.yml"
    bad.write_text(
        "dataset:\n  - fides_key: x\n    collections:\n      - name: c\n        fields:\n"
        "          - name: f\n            data_categories: [user.nonsense]\n"
    )
    result = runner.invoke(app, ["inventory", "apply", str(bad)])
    assert result.exit_code == 2
    assert (
        "dataset x, collection c, field f: unknown data category 'user.nonsense'" in result.output
    )


def test_systems_test_checks_the_connection(cli_env: Path) -> None:
    assert "storefront: connection works." in run("systems", "test", "storefront")


def test_a_postal_request_from_submit_to_package(cli_env: Path) -> None:

    out = run(
        "rights",
        "submit",
        "--type",
        "access",
        "--email",
        "avery.quinn@example.com",
        "--phone",
        "415 555 0134",
        "--name",
        "Avery Quinn",
        "--signature",
        "Avery Quinn",
        "--everything",
    )
    assert "verifying" in out
    reference = verify_from_outbox(out)
    assert "awaiting_approval" in run("rights", "list")
    assert "executing" in run("rights", "approve", reference)
    assert '"requests_run": 1' in run("worker", "--once")
    # It waits on the paper archive, kept by hand: its owner enters what the boxes hold.
    assert "executing" in run("rights", "list")
    (task,) = run("tasks", "list", "--all").splitlines()
    assert reference in task and "Paper archive" in task
    assert "avery" not in task.lower()
    task_id = task.split()[0]
    assert "avery.quinn@example.com" in run("tasks", "show", task_id)
    card = "warranty_cards=A card for a Lumen Hub, mailed in 2023."
    assert "done" in run("tasks", "complete", task_id, "--outcome", "found", "--finding", card)
    assert '"requests_run": 1' in run("worker", "--once")
    assert "completed" in run("rights", "list")
    shown = run("rights", "show", reference)
    assert "request.completed" in shown and "avery" not in shown.lower()
    written = run("rights", "package", reference, "-o", str(cli_env))
    assert (cli_env / f"{reference}.zip").stat().st_size > 1000, written


def test_deny_needs_a_reason(cli_env: Path) -> None:
    out = run("rights", "submit", "--type", "delete", "--email", "jordan.lee@example.com")
    reference = out.split()[0]
    result = runner.invoke(app, ["rights", "deny", reference, "--reason", "no"])
    assert result.exit_code == 2 and "reason" in result.output
    assert "denied" in run(
        "rights", "deny", reference, "--reason", "The consumer withdrew the request by phone."
    )


def test_unknown_request_is_a_clear_error(cli_env: Path) -> None:
    result = runner.invoke(app, ["rights", "show", "R-NOPE"])
    assert result.exit_code == 1 and "There is no such request." in result.output


def test_a_manual_request_is_approved_then_recorded_as_done_by_staff(cli_env: Path) -> None:
    out = run("rights", "submit", "--type", "limit_sensitive", "--email", "jordan.lee@example.com")
    reference = out.split()[0]
    assert "awaiting_approval" in out  # limiting sensitive data needs no verification
    run("rights", "approve", reference)
    result = runner.invoke(app, ["rights", "complete", reference, "--note", "done"])
    assert result.exit_code == 2 and "in a sentence" in result.output
    assert "completed" in run(
        "rights",
        "complete",
        reference,
        "--note",
        "We now use your sensitive information only to provide our services.",
    )


def test_bad_input_gets_field_errors_not_a_traceback(cli_env: Path) -> None:
    result = runner.invoke(
        app, ["rights", "submit", "--type", "access", "--email", "nope", "--phone", "12"]
    )
    assert result.exit_code == 2
    assert "email: Enter a valid e-mail address" in result.output
    assert "phone_number:" in result.output and "Traceback" not in result.output


def test_erasure_preview_from_the_cli(cli_env: Path) -> None:

    out = run(
        "rights",
        "submit",
        "--type",
        "delete",
        "--email",
        "avery.quinn@example.com",
        "--phone",
        "415 555 0134",
    )
    reference = verify_from_outbox(out)
    shown = run("rights", "preview", reference)
    assert "customers" in shown and "delete_rows" in shown
    assert "retain_rows" in shown and "seven years" in shown


def test_a_correction_received_by_post_is_reviewed_from_the_cli(cli_env: Path) -> None:

    out = run(
        "rights",
        "submit",
        "--type",
        "correct",
        "--email",
        "avery.quinn@example.com",
        "--name",
        "Avery Quinn",
        "--postal-code",
        "94107",
        "--correct",
        "name",
        "--to",
        "Avery Quinn-Park",
    )
    reference = verify_from_outbox(out)
    shown = run("rights", "review", reference)
    assert "customers.last_name" in shown and "Quinn-Park" in shown
