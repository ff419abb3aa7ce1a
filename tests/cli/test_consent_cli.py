"""The consent commands as staff use them: catalogue, a choice by post, checks, the ledger."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rightful.cli.main import app
from rightful.consent.subjects import email_sha256
from tests.support.cli import run, runner


def test_staff_record_a_letter_and_check_it(cli_env: Path) -> None:
    purposes = run("consent", "purposes")
    assert "marketing.offers" in purposes and "sale_share" in purposes
    recorded = run(
        "consent",
        "record",
        "--email",
        "Pat@Example.com",
        "--purpose",
        "marketing",
        "--channel",
        "post",
        "--proof",
        "letter of 3 May",
    )
    assert "Recorded withdrawn for marketing on post" in recorded
    again = run(
        "consent",
        "record",
        "--email",
        "pat@example.com",
        "--purpose",
        "marketing",
        "--channel",
        "post",
        "--proof",
        "second copy of the letter",
    )
    assert "No change" in again
    denied = runner.invoke(
        app,
        [
            "consent",
            "check",
            "--email",
            "pat@example.com",
            "--purpose",
            "marketing.offers",
            "--channel",
            "post",
        ],
    )
    assert denied.exit_code == 3 and "not allowed" in denied.output
    shown = run("consent", "show", "--email", "pat@example.com")
    assert "via staff" in shown and "1 recorded choice" in shown
    assert "intact" in run("consent", "verify")


def test_bad_input_is_named_and_changes_nothing(cli_env: Path) -> None:
    bad = runner.invoke(
        app,
        [
            "consent",
            "record",
            "--email",
            "pat@example.com",
            "--purpose",
            "marketing.nope",
            "--channel",
            "email",
            "--proof",
            "call",
        ],
    )
    assert bad.exit_code == 2 and "no purpose 'marketing.nope'" in bad.output
    assert "0 recorded choice" in run("consent", "show", "--email", "pat@example.com")


def test_suppression_list_export_and_check(cli_env: Path, tmp_path: Path) -> None:
    run(
        "consent",
        "record",
        "--email",
        "gone@example.com",
        "--purpose",
        "marketing",
        "--channel",
        "email",
        "--proof",
        "phone call",
    )
    exported = run("consent", "suppressions", "export")
    assert f"{email_sha256('gone@example.com')},*,staff" in exported
    hashes = tmp_path / "list.txt"
    hashes.write_text(
        "\n".join(hashlib.sha256(a.encode()).hexdigest() for a in ["gone@example.com", "x@y.z"])
    )
    checked = run("consent", "suppressions", "check", str(hashes))
    assert checked.strip().splitlines()[0] == email_sha256("gone@example.com")


def test_a_new_destination_is_sent_the_choices_made_before_it(
    cli_env: Path, tmp_path: Path
) -> None:
    run(
        "consent",
        "record",
        "--email",
        "early@example.com",
        "--purpose",
        "sale_share",
        "--channel",
        "all",
        "--proof",
        "phone call",
    )
    catalogue = tmp_path / "more.yml"
    demo = (Path(__file__).parents[2] / "src/rightful/demo/consent.yml").read_text()
    catalogue.write_text(
        demo
        + "  - key: adnet\n    name: Ad network\n    kind: webhook\n"
        + "    url: https://adnet.example/hooks/consent\n    purposes: [sale_share]\n"
    )
    applied = run("consent", "apply", str(catalogue))
    assert "2 destination(s)" in applied and "adnet" in applied
    # Everyone with a sale/share choice: the demo's history, and the one made above.
    assert f"Queued {sale_share_choices()} choice(s) for adnet" in run("consent", "replay", "adnet")
    assert "Queued 0 choice(s)" in run("consent", "replay", "adnet")
    assert "adnet" in run("consent", "destinations")
    missing = runner.invoke(app, ["consent", "replay", "nope"])
    assert missing.exit_code == 1 and "no destination 'nope'" in missing.output


def sale_share_choices() -> int:
    from sqlalchemy import func, select

    from rightful.consent.models import ConsentState
    from rightful.core.runtime import build_runtime

    runtime = build_runtime()
    with runtime.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(ConsentState)
            .where(ConsentState.purpose == "sale_share")
        )
    runtime.engine.dispose()
    assert count and count > 1
    return int(count)


def test_applying_a_catalogue_with_banner_texts_says_which_languages_it_rewords(
    cli_env: Path, tmp_path: Path
) -> None:
    demo = (Path(__file__).parents[2] / "src/rightful/demo/consent.yml").read_text()
    catalogue = tmp_path / "worded.yml"
    catalogue.write_text(
        demo + "banner:\n  texts:\n    es:\n      opt_in_title: Lumen y las cookies\n"
    )
    applied = run("consent", "apply", str(catalogue))
    assert "Banner texts in your own words: es (1)." in applied
    typo = tmp_path / "typo.yml"
    typo.write_text(demo + "banner:\n  texts:\n    es:\n      title: Lumen y las cookies\n")
    refused = runner.invoke(app, ["consent", "apply", str(typo)])
    assert refused.exit_code != 0
    assert "banner.texts.es.title" in refused.output
    assert "There is no banner text 'title'" in refused.output


def test_a_stop_by_letter_for_a_number_is_recorded_and_checked(cli_env: Path) -> None:
    recorded = run(
        "consent",
        "record",
        "--phone",
        "(415) 555-0188",
        "--purpose",
        "marketing",
        "--channel",
        "sms",
        "--proof",
        "letter of 3 May",
    )
    assert "Recorded withdrawn for marketing on sms" in recorded
    check = runner.invoke(
        app,
        [
            "consent",
            "check",
            "--phone",
            "+14155550188",
            "--purpose",
            "marketing.offers",
            "--channel",
            "sms",
        ],
    )
    assert check.exit_code == 3 and "not allowed" in check.output
    shown = run("consent", "show", "--phone", "415 555 0188")
    assert "marketing/sms withdrawn via staff" in shown
    both = runner.invoke(
        app,
        [
            "consent",
            "check",
            "--phone",
            "+14155550188",
            "--email",
            "a@example.com",
            "--purpose",
            "marketing",
            "--channel",
            "sms",
        ],
    )
    assert both.exit_code == 2 and "exactly one" in both.output
