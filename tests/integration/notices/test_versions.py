"""Notice versions in the store: drafted, checked, published once and never changed; last-updated
moves only with a material change, which e-mails those who asked; any two versions compare."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from rightful.cli.main import app as cli
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.errors import ConflictError, InvalidInputError
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import deliver_pending, open_letter
from rightful.notices import service
from rightful.notices.models import NoticeVersion
from rightful.security.permissions import system_actor
from tests.integration.notices.conftest import SOURCE
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App
from tests.support.services import SmtpTestServer
from tests.support.signin import post_login, signed_in

OFFICER = system_actor("test")


def publish(app: App, source: str, *, material: bool, on: date, summary: str = "") -> NoticeVersion:
    with unit_of_work(app.runtime.sessions) as session:
        service.draft(session, app.runtime.settings, source=source, actor=OFFICER)
        row = service.publish(
            session,
            app.runtime.settings,
            actor=OFFICER,
            material=material,
            summary=summary,
            effective_on=on,
        )
        session.expunge(row)
        return row


def test_the_demo_notice_is_true_to_the_demo_data_map(lumen: App) -> None:
    row = publish(lumen, SOURCE, material=True, on=date(2026, 1, 1))
    with lumen.runtime.sessions() as session:
        report = service.check_version(session, lumen.runtime.settings, actor=OFFICER)
    assert report.version.number == row.number and report.mismatches == []


def test_last_updated_moves_only_when_a_version_is_marked_material(lumen: App) -> None:
    first = publish(lumen, SOURCE, material=False, on=date(2026, 1, 10))
    minor = publish(
        lumen,
        SOURCE.replace("in our privacy center", "on our privacy center"),
        material=False,
        on=date(2026, 3, 1),
    )
    major = publish(
        lumen,
        SOURCE + "\nWe added a section.\n",
        material=True,
        on=date(2026, 6, 1),
        summary="A new section.",
    )
    assert (first.effective_on, first.last_updated_on) == (date(2026, 1, 10), date(2026, 1, 10))
    assert (minor.effective_on, minor.last_updated_on) == (date(2026, 3, 1), date(2026, 1, 10))
    assert (major.effective_on, major.last_updated_on) == (date(2026, 6, 1), date(2026, 6, 1))
    page = lumen.client.get("/privacy").text
    assert "Last updated June 1, 2026" in page and "Effective June 1, 2026" in page


def test_a_published_version_is_kept_unchanged_and_readable_after_a_new_one(lumen: App) -> None:
    first = publish(lumen, SOURCE, material=True, on=date(2026, 1, 10))
    publish(
        lumen,
        SOURCE.replace("Lumen Devices privacy notice", "Lumen privacy notice"),
        material=False,
        on=date(2026, 2, 1),
    )
    with lumen.runtime.sessions() as session:
        kept = session.get(NoticeVersion, first.number)
        assert kept is not None and kept.rendered == first.rendered
        assert kept.status == "published"
    old = lumen.client.get(f"/privacy/versions/{first.number}").text
    assert "Lumen Devices privacy notice" in old and "has been replaced" in old
    assert "Lumen privacy notice</h1>" in lumen.client.get("/privacy").text


def test_the_diff_of_two_versions_shows_what_was_taken_out_and_put_in(lumen: App) -> None:
    a = publish(lumen, SOURCE, material=True, on=date(2026, 1, 10))
    b = publish(
        lumen, SOURCE.replace("for 30 days", "for 60 days"), material=False, on=date(2026, 2, 1)
    )
    with lumen.runtime.sessions() as session:
        text = service.diff(session, a.number, b.number, actor=OFFICER)
    removed = [line for line in text.splitlines() if line.startswith("-") and "30 days" in line]
    added = [line for line in text.splitlines() if line.startswith("+") and "60 days" in line]
    assert removed and added and text.startswith(f"--- version {a.number}")
    assert len([ln for ln in text.splitlines() if ln[:1] in "+-"]) == 4  # 2 headers, 1 out, 1 in


def test_a_draft_that_is_not_true_is_refused_and_nothing_is_published(lumen: App) -> None:
    untrue = SOURCE.replace(
        "  data_categories: [user.demographic]\n",
        "  data_categories: [user.demographic, user.biometric]\n",
    )
    with unit_of_work(lumen.runtime.sessions) as session:
        service.draft(session, lumen.runtime.settings, source=untrue, actor=OFFICER)
    with (
        pytest.raises(InvalidInputError, match=r"user\.biometric"),
        unit_of_work(lumen.runtime.sessions) as session,
    ):
        service.publish(session, lumen.runtime.settings, actor=OFFICER, material=True)
    with lumen.runtime.sessions() as session:
        assert service.current(session) is None
    assert lumen.client.get("/privacy").status_code == 404


def _choose(app: App, email: str, state: str) -> None:
    choice = {"purpose": "notices.updates", "channel": "email", "state": state}
    answer = app.client.post(
        "/api/v1/consent/events", json={"email": email, "choices": [choice]}, headers=app.auth
    )
    assert answer.status_code == 201, answer.text


def _told(app: App) -> list[str]:
    with app.runtime.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "notice_changed")
        )
        return sorted(open_letter(app.runtime.settings, r).to for r in rows)


def test_a_material_change_emails_only_those_who_asked_to_hear(lumen: App) -> None:
    publish(lumen, SOURCE, material=True, on=date(2026, 1, 10))
    _choose(lumen, "avery.quinn@example.com", "given")
    _choose(lumen, "jordan.lee@example.com", "given")
    _choose(lumen, "jordan.lee@example.com", "withdrawn")
    publish(lumen, SOURCE + "\nMinor wording.\n", material=False, on=date(2026, 2, 1))
    assert _told(lumen) == []  # a minor change tells nobody
    row = publish(
        lumen,
        SOURCE + "\nA new use.\n",
        material=True,
        on=date(2026, 3, 1),
        summary="We now say how long we keep your messages.",
    )
    assert _told(lumen) == ["avery.quinn@example.com"] and row.told == 1
    with lumen.runtime.sessions() as session:
        msg = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "notice_changed")
        ).one()
        letter = open_letter(lumen.runtime.settings, msg)
    assert "how long we keep your messages" in letter.text and "/privacy" in letter.text


def test_the_privacy_center_links_to_the_notice_once_one_is_published(lumen: App) -> None:
    assert 'href="/privacy"' not in lumen.client.get("/").text  # nothing to link to yet
    publish(lumen, SOURCE, material=True, on=date(2026, 1, 10))
    assert 'href="/privacy"' in lumen.client.get("/requests/new").text


def test_a_material_change_shows_a_banner_on_the_privacy_center_for_a_while(lumen: App) -> None:
    publish(lumen, SOURCE, material=True, on=date(2026, 1, 10))
    assert "We updated our privacy notice" not in lumen.client.get("/").text  # the first one
    publish(lumen, SOURCE + "\nMore.\n", material=True, on=date(2026, 3, 1), summary="More.")
    assert "We updated our privacy notice on March 1, 2026" in lumen.client.get("/").text
    lumen.runtime.settings.notice_banner_days = 0  # the period is over
    assert "We updated our privacy notice" not in lumen.client.get("/").text


def test_a_notice_in_force_for_over_12_months_is_warned_about(lumen: App) -> None:
    old = (utcnow() - timedelta(days=400)).date()
    publish(lumen, SOURCE, material=True, on=old)
    with lumen.runtime.sessions() as session:
        report = service.check_version(session, lumen.runtime.settings, actor=OFFICER)
    assert report.stale and "more than 12 months" in report.stale
    page = lumen.client.get("/admin/notices")  # signed out: the console asks to sign in
    assert page.status_code in (200, 303)


def test_a_data_map_change_that_makes_the_notice_false_is_flagged_when_applied(lumen: App) -> None:
    publish(lumen, SOURCE, material=True, on=date(2026, 1, 10))
    change = (
        "partner:\n  - fides_key: databroker\n    name: Data Broker Inc.\n    role: third_party\n"
        "disclosure:\n  - partner: databroker\n    data_categories: [user.contact.email]\n"
        "    data_use: marketing.advertising.third_party\n    sale: true\n"
    )
    answer = lumen.client.post(
        "/api/v1/inventory", json=[{"name": "broker.yml", "content": change}], headers=lumen.auth
    )
    assert answer.status_code == 200, answer.text
    warnings = answer.json()["notice_warnings"]
    assert any("Data Broker Inc." in w and "recipients" in w for w in warnings), warnings
    assert any("We sell user.contact.email to Data Broker Inc." in w for w in warnings), warnings
    with lumen.runtime.sessions() as session:  # applied all the same: a warning, not a refusal
        assert "databroker" in {g.partner for g in service.gather(session).given}


def test_inventory_apply_on_the_cli_warns_what_became_untrue_and_applies_it(
    lumen: App, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    publish(lumen, SOURCE, material=True, on=date(2026, 1, 10))
    settings = lumen.runtime.settings
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", settings.secret_key)
    for key in ("RIGHTFUL_DATABASE_URL", "RIGHTFUL_AS", "RIGHTFUL_DEMO_MODE"):
        monkeypatch.delenv(key, raising=False)
    change = tmp_path / "faces.yml"
    change.write_text(
        "system:\n  - fides_key: doorbell\n    name: Doorbell cloud\n"
        "    privacy_declarations:\n      - data_use: essential.service\n"
        "        data_categories: [user.biometric.fingerprint]\n"
        "        sources: [Your doorbell camera]\n"
    )
    result = CliRunner().invoke(cli, ["inventory", "apply", str(change)])
    assert result.exit_code == 0, result.output
    assert "Applied 0 dataset(s), 1 system(s)" in result.output
    warned = [
        line for line in result.output.splitlines() if line.startswith("Warning: The published")
    ]
    assert any("user.biometric.fingerprint" in w for w in warned), result.output
    assert any("Your doorbell camera" in w for w in warned), result.output
    check = CliRunner().invoke(cli, ["notices", "check"])
    assert check.exit_code == 1 and "NOT true" in check.output


def test_a_published_version_cannot_be_changed_even_by_hand(lumen: App) -> None:
    row = publish(lumen, SOURCE, material=True, on=date(2026, 1, 10))
    with pytest.raises(ConflictError), unit_of_work(lumen.runtime.sessions) as session:
        stored = session.get(NoticeVersion, row.number)
        assert stored is not None
        stored.source = "# Something else"
    with lumen.runtime.sessions() as session:
        kept = session.get(NoticeVersion, row.number)
        assert kept is not None and kept.source == SOURCE


@pytest.mark.postgres
def test_versions_publish_compare_and_check_on_postgresql(lumen_on_postgres: App) -> None:
    app = lumen_on_postgres
    a = publish(app, SOURCE, material=True, on=date(2026, 1, 10))
    _choose(app, "avery.quinn@example.com", "given")
    b = publish(
        app,
        SOURCE.replace("for 30 days", "for 45 days"),
        material=True,
        on=date(2026, 2, 1),
        summary="The banner shows for 45 days.",
    )
    assert (b.last_updated_on, b.told) == (date(2026, 2, 1), 1)
    with app.runtime.sessions() as session:
        assert "+in our privacy center for 45 days" in service.diff(
            session, a.number, b.number, actor=OFFICER
        )
        assert service.check_version(session, app.runtime.settings, actor=OFFICER).passed
    assert app.client.get("/privacy.json").json()["version"] == b.number


def test_the_e_mail_about_a_material_change_reaches_the_person(
    lumen_with_smtp: App, smtp_server: SmtpTestServer
) -> None:
    app = lumen_with_smtp
    publish(app, SOURCE, material=True, on=date(2026, 1, 10))
    _choose(app, "avery.quinn@example.com", "given")
    publish(
        app,
        SOURCE + "\nMore.\n",
        material=True,
        on=date(2026, 3, 1),
        summary="We now keep support notes for two years.",
    )
    with app.runtime.sessions() as session:
        deliver_pending(session, app.runtime.settings)
        session.commit()
    mail = smtp_server.wait_for("avery.quinn@example.com", subject_contains="privacy notice")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "We now keep support notes for two years." in text
    assert "http://testserver/privacy" in text and "takes effect on March 1, 2026" in text


def test_a_version_published_ahead_of_its_date_waits_and_is_announced(lumen: App) -> None:
    today = utcnow().date()
    first = publish(lumen, SOURCE, material=True, on=today - timedelta(days=30))
    later = today + timedelta(days=10)
    ahead = publish(
        lumen,
        SOURCE.replace("for 30 days", "for 60 days"),
        material=True,
        on=later,
        summary="The banner shows for 60 days.",
    )
    page = lumen.client.get("/privacy").text
    assert f"Version {first.number}" in page and "for 30 days" in page  # still in force
    assert "A new version takes effect on" in page and f"/privacy/versions/{ahead.number}" in page
    assert lumen.client.get("/privacy.json").json()["version"] == first.number
    early = lumen.client.get(f"/privacy/versions/{ahead.number}").text
    assert "which takes effect on" in early and "has been replaced" not in early
    with lumen.runtime.sessions() as session:
        assert service.current(session).number == first.number  # type: ignore[union-attr]
        assert service.current(session, later).number == ahead.number  # type: ignore[union-attr]
    with lumen.runtime.sessions() as session:
        [upcoming, in_force] = service.check_all(session, lumen.runtime.settings, actor=OFFICER)
    assert (upcoming.version.number, in_force.version.number) == (ahead.number, first.number)
    assert upcoming.passed and in_force.passed and in_force.stale is None
    assert signed_in(post_login(lumen.client, STAFF_EMAIL, STAFF_PASSWORD))
    console = lumen.client.get("/admin/notices").text
    assert f"Takes effect {later.isoformat()}" in console and "In force" in console
