"""`rightful staff ...`: a role for every account, the password never on the command line, and
API tokens listed and revoked."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from rightful.cli.main import app
from rightful.core.config import Settings
from rightful.core.runtime import build_runtime
from rightful.security.models import StaffUser
from rightful.security.passwords import verify_secret
from tests.support.cli import run

runner = CliRunner()
PASSWORD = "a long passphrase nobody guesses"


def staff(email: str) -> StaffUser:
    runtime = build_runtime(Settings())
    with runtime.sessions() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == email)).one()
    runtime.engine.dispose()
    return user


def test_staff_create_asks_for_the_password_twice_without_showing_it(cli_env: Path) -> None:
    result = runner.invoke(
        app,
        ["staff", "create", "ana@lumen.example", "--name", "Ana", "--role", "analyst"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # typed at a hidden prompt
    user = staff("ana@lumen.example")
    assert user.role == "analyst" and verify_secret(user.password_hash, PASSWORD)


def test_staff_create_reads_the_password_from_a_file(cli_env: Path) -> None:
    secret = cli_env / "password.txt"
    secret.write_text(PASSWORD + "\n")
    run(
        "staff",
        "create",
        "al@lumen.example",
        "--name",
        "Al",
        "--role",
        "approver",
        "--password-file",
        str(secret),
    )
    assert verify_secret(staff("al@lumen.example").password_hash, PASSWORD)


def test_the_password_is_never_an_argument(cli_env: Path) -> None:
    result = runner.invoke(
        app,
        [
            "staff",
            "create",
            "x@lumen.example",
            "--name",
            "X",
            "--role",
            "viewer",
            "--password",
            PASSWORD,
        ],
    )
    assert result.exit_code == 2 and "No such option" in result.output


def test_staff_create_needs_a_known_role(cli_env: Path) -> None:
    secret = cli_env / "password.txt"
    secret.write_text(PASSWORD)
    result = runner.invoke(
        app,
        [
            "staff",
            "create",
            "x@lumen.example",
            "--name",
            "X",
            "--role",
            "owner",
            "--password-file",
            str(secret),
        ],
    )
    assert result.exit_code == 2 and "no role 'owner'" in result.output


def test_tokens_are_issued_listed_and_revoked(cli_env: Path) -> None:
    email = "privacy.officer@lumen.example"
    token = run(
        "staff",
        "token",
        "create",
        email,
        "--name",
        "sender",
        "--scope",
        "consent.check",
        "--days",
        "30",
    ).strip()
    prefix = token.split("_")[1]
    listed = run("staff", "token", "list", email)
    line = next(x for x in listed.splitlines() if x.startswith(prefix))
    assert "sender" in line and "live" in line and "consent.check" in line
    assert token not in listed  # never the secret
    run("staff", "token", "revoke", prefix)
    line = next(x for x in run("staff", "token", "list").splitlines() if x.startswith(prefix))
    assert "revoked" in line


def second_admin(cli_env: Path) -> None:
    """Another administrator, so that the demo's officer is not the last one."""
    secret = cli_env / "password.txt"
    secret.write_text(PASSWORD)
    run(
        "staff",
        "create",
        "deputy@lumen.example",
        "--name",
        "Deputy",
        "--role",
        "admin",
        "--password-file",
        str(secret),
    )


def test_the_last_administrator_cannot_be_deactivated(cli_env: Path) -> None:
    email = "privacy.officer@lumen.example"
    result = runner.invoke(app, ["staff", "deactivate", email])
    assert result.exit_code != 0 and "last administrator" in result.output
    assert staff(email).active


def test_a_deactivated_staff_member_loses_their_tokens(cli_env: Path) -> None:
    email = "privacy.officer@lumen.example"
    second_admin(cli_env)
    run("staff", "deactivate", email)
    assert not staff(email).active
    assert all(" live " not in x for x in run("staff", "token", "list", email).splitlines())
