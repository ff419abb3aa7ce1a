"""Role by action over every CLI command run `--as` a staff member: a role without the
permission is refused (exit 1, nothing recorded) and the roles with it get through. Without
`--as` the CLI acts as the machine's operator, with admin's permissions.

The table is checked against the CLI's own commands, so a command added without an entry here
fails `test_every_cli_command_has_a_permission`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from rightful.cli.main import app
from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.demo.setup import HERE as DEMO
from rightful.security.permissions import Permission, Role, system_actor
from rightful.security.service import create_api_token, create_staff
from tests.support.roles import ROLES, Member, add_staff, allowed, audit_count, awaiting, status_of

P = Permission
runner = CliRunner()
OPERATOR = None  # runs the installation itself (store, demo, server, worker): not a staff action
REFUSED = "Your role does not allow"

# command -> [(arguments after the command, what they need)]. A new command needs a row here.
CLI: dict[str, list[tuple[list[str], tuple[Permission, ...] | None]]] = {
    "db upgrade": [([], OPERATOR)],
    "demo setup": [([], OPERATOR)],
    "serve": [([], OPERATOR)],
    "worker": [([], OPERATOR)],
    "keys status": [([], OPERATOR)],  # data keys and the key-encryption key: the machine's
    "keys rotate": [([], OPERATOR)],
    "keys retire": [([], OPERATOR)],
    "keys rewrap": [([], OPERATOR)],
    "keys new-kek": [([], OPERATOR)],
    "audit anchor": [([], (P.AUDIT_VERIFY, P.CONSENT_VIEW))],
    "audit verify": [([], (P.AUDIT_VERIFY,))],
    "staff create": [
        (
            ["{new}", "--name", "New", "--role", "viewer", "--password-file", "{password}"],
            (P.STAFF_MANAGE,),
        ),
    ],
    "staff invite": [(["{new}", "--name", "New", "--role", "analyst"], (P.STAFF_MANAGE,))],
    "staff role": [(["{target}", "analyst"], (P.STAFF_MANAGE,))],
    "staff deactivate": [(["{target}"], (P.STAFF_MANAGE,))],
    "staff unlock": [(["{target}"], (P.STAFF_MANAGE,))],
    "staff totp": [(["{target}"], (P.STAFF_MANAGE,))],
    "staff token create": [(["{target}", "--name", "x"], (P.TOKENS_MANAGE,))],
    "staff token list": [([], (P.TOKENS_MANAGE,))],
    "staff token revoke": [(["{prefix}"], (P.TOKENS_MANAGE,))],
    "rights submit": [
        (["--type", "access", "--email", "{new}", "--signature", "A Person"], (P.REQUESTS_SUBMIT,))
    ],
    "rights verify": [(["{request}", "--code", "000000"], (P.REQUESTS_SUBMIT,))],
    "rights import": [(["{requests_csv}", "--source", "Role matrix"], (P.REQUESTS_SUBMIT,))],
    "rights list": [([], (P.REQUESTS_VIEW,))],
    "reports records": [(["--out", "{records}"], (P.REQUESTS_VIEW,))],
    "reports metrics": [(["--year", "2025"], (P.REQUESTS_VIEW,))],
    "rights show": [(["{request}"], (P.REQUESTS_VIEW,))],
    "rights approve": [(["{request}"], (P.REQUESTS_DECIDE,))],
    "rights deny": [(["{request}", "--reason", "Told the person in full."], (P.REQUESTS_DECIDE,))],
    "rights extend": [
        (["{request}", "--reason", "Told the person in full."], (P.REQUESTS_DECIDE,))
    ],
    "rights complete": [(["{request}", "--note", "Done by hand, in full."], (P.REQUESTS_DECIDE,))],
    "rights waive": [
        (
            ["{request}", "nobody", "--reason", "It closed down.", "--tell-person", "It closed."],
            (P.REQUESTS_DECIDE,),
        ),
    ],
    "rights policy": [([str(DEMO / "policies" / "delete.yml")], (P.POLICIES_MANAGE,))],
    "rights preview": [(["{request}"], (P.REQUESTS_PREPARE,))],
    "rights partner-secret": [(["nobody"], (P.INVENTORY_MANAGE,))],
    "rights transfer-secret": [(["https://receiver.example/in"], (P.INVENTORY_MANAGE,))],
    "rights review": [(["{request}"], (P.REQUESTS_READ_PERSONAL,))],
    "rights retention": [([], (P.REQUESTS_PREPARE,)), (["--run"], (P.ERASURE_APPROVE,))],
    "rights package": [(["{request}"], (P.REQUESTS_READ_PERSONAL,))],
    "rights due": [([], (P.REQUESTS_VIEW,)), (["--send"], (P.REQUESTS_VIEW,))],
    "rights appeals": [([], (P.REQUESTS_VIEW,))],
    "rights decide-appeal": [
        (["none", "--outcome", "upheld", "--explanation", "Told in full."], (P.REQUESTS_DECIDE,))
    ],
    "tasks list": [([], (P.REQUESTS_VIEW,)), (["--all"], (P.REQUESTS_VIEW,))],
    "tasks show": [(["none"], (P.REQUESTS_VIEW,))],
    "tasks complete": [(["none", "--outcome", "nothing_found"], (P.REQUESTS_READ_PERSONAL,))],
    "tasks waive": [(["none", "--reason", "Cannot be done, told in full."], (P.REQUESTS_DECIDE,))],
    # Importing a DROP list approves the deletions it calls for (docs/drop.md).
    "drop import": [(["{drop_list}"], (P.REQUESTS_DECIDE, P.ERASURE_APPROVE))],
    "drop download": [([], (P.REQUESTS_DECIDE, P.ERASURE_APPROVE))],
    "drop status": [([], (P.REQUESTS_VIEW,))],
    "drop status-file": [(["--out", "{drop_out}"], (P.REQUESTS_DECIDE,))],
    "drop upload": [([], (P.REQUESTS_DECIDE,))],
    "mailbox poll": [([], OPERATOR)],  # the worker's job, run by hand: reads the mailbox
    "mail resend": [(["--failed"], (P.OUTBOX_RESEND,))],
    "inventory apply": [([str(DEMO / "datasets" / "support_desk.yml")], (P.INVENTORY_MANAGE,))],
    "inventory lint": [([], (P.INVENTORY_VIEW,))],
    "inventory show": [([], (P.INVENTORY_VIEW,))],
    "inventory export": [([], (P.INVENTORY_VIEW,))],
    "systems connect": [(["support_desk", "--url", "{support_url}"], (P.INVENTORY_MANAGE,))],
    "systems test": [(["support_desk"], (P.INVENTORY_MANAGE,))],
    "systems http-dataset": [(["--shipped", "stripe"], OPERATOR)],  # files in, text out
    "notices draft": [([str(DEMO / "notice.md")], (P.POLICIES_MANAGE,))],
    "notices publish": [(["--material", "--summary", "Reviewed."], (P.POLICIES_MANAGE,))],
    "notices list": [([], (P.INVENTORY_VIEW,))],
    "notices show": [([], (P.INVENTORY_VIEW,))],
    "notices diff": [(["1", "1"], (P.INVENTORY_VIEW,))],
    "notices check": [([], (P.INVENTORY_VIEW,))],
    "consent apply": [([str(DEMO / "consent.yml")], (P.CONSENT_MANAGE,))],
    "consent import": [([], (P.CONSENT_MANAGE,))],
    "consent purposes": [([], (P.CONSENT_VIEW,))],
    "consent record": [
        (
            [
                "--email",
                "{new}",
                "--purpose",
                "marketing.offers",
                "--channel",
                "post",
                "--proof",
                "Letter of 3 May",
            ],
            (P.CONSENT_RECORD,),
        ),
    ],
    "consent show": [(["--email", "avery.quinn@example.com"], (P.CONSENT_READ_PERSONAL,))],
    "consent check": [
        (
            ["--purpose", "marketing.offers", "--channel", "email", "--email", "a@example.com"],
            (P.CONSENT_CHECK,),
        ),
    ],
    "consent verify": [([], (P.CONSENT_VIEW,))],
    "consent rebuild": [([], (P.CONSENT_MANAGE,))],
    "consent suppressions export": [([], (P.CONSENT_CHECK,))],
    "consent suppressions check": [(["{addresses}"], (P.CONSENT_CHECK,))],
    "consent destinations": [([], (P.CONSENT_VIEW,))],
    "consent destination-secret": [(["engagement_subscriptions"], (P.CONSENT_MANAGE,))],
    "consent redeliver": [(["1"], (P.CONSENT_MANAGE,))],
    "consent replay": [(["engagement_subscriptions"], (P.CONSENT_MANAGE,))],
}


def commands(group: Any, prefix: str = "") -> set[str]:
    """Every leaf command of the CLI, as typed after `rightful` (looked up as click does, so
    the groups loaded on first use are found too: cli/lazy.py)."""
    found = set()
    context = typer.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if hasattr(command, "commands"):  # a group
            found |= commands(command, f"{prefix}{name} ")
        else:
            found.add(f"{prefix}{name}")
    return found


def test_every_cli_command_has_a_permission() -> None:
    assert commands(typer.main.get_command(app)) == set(CLI)


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Path]]:
    """A demo company for the module, with a staff member of each role."""
    folder = tmp_path_factory.mktemp("cli-roles")
    env = {"RIGHTFUL_DATA_DIR": str(folder), "RIGHTFUL_SECRET_KEY": secrets.token_urlsafe(40)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        for key in ("RIGHTFUL_DATABASE_URL", "RIGHTFUL_SMTP_URL", "RIGHTFUL_AS"):
            patch.delenv(key, raising=False)
        result = runner.invoke(app, ["demo", "setup", "--people", "30"])
        assert result.exit_code == 0, result.output
        runtime = build_runtime(Settings())
        yield runtime, folder
        runtime.engine.dispose()
        dispose_all()


@pytest.fixture(scope="module")
def members(cli_store: tuple[Runtime, Path]) -> dict[Role, Member]:
    return add_staff(cli_store[0])


def _values(runtime: Runtime, folder: Path) -> dict[str, str]:
    """Fresh things for one command: a request awaiting approval, a staff member and a token
    to act on, files to read."""
    target = f"target.{secrets.token_hex(3)}@lumen.example"
    with unit_of_work(runtime.sessions) as session:
        staff = create_staff(
            session,
            email=target,
            name="T",
            password="x" * 16,
            role="viewer",
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=staff, name="t", actor=system_actor("test"))
    password, addresses = folder / "password.txt", folder / "addresses.txt"
    password.write_text(secrets.token_urlsafe(18) + "\n")
    addresses.write_text("avery.quinn@example.com\n")
    drop_list = folder / f"20261201_4821_Email_{secrets.token_hex(3)}.csv"
    drop_list.write_text("ID,Hash\n")
    requests_csv = folder / f"requests-{secrets.token_hex(3)}.csv"
    line = f"{secrets.token_hex(4)},delete,new.{secrets.token_hex(3)}@example.com"
    requests_csv.write_text(f"external_id,request_type,email\n{line}\n")
    return {
        "request": awaiting(runtime),
        "target": target,
        "prefix": token.split("_")[1],
        "new": f"new.{secrets.token_hex(3)}@example.com",
        "password": str(password),
        "addresses": str(addresses),
        "requests_csv": str(requests_csv),
        "records": str(folder / "records.csv"),
        "drop_list": str(drop_list),
        "drop_out": str(folder / "drop-status"),
        "support_url": f"sqlite:///{folder}/support_desk.db",
    }


STAFF_COMMANDS = sorted(
    (command, i)
    for command, variants in CLI.items()
    for i, (_, needs) in enumerate(variants)
    if needs is not OPERATOR
)


@pytest.mark.parametrize(("command", "variant"), STAFF_COMMANDS, ids=lambda v: str(v))
def test_each_role_may_run_only_what_its_permissions_allow(
    cli_store: tuple[Runtime, Path], members: dict[Role, Member], command: str, variant: int
) -> None:
    runtime, folder = cli_store
    template, needs = CLI[command][variant]
    assert needs is not None
    values = _values(runtime, folder)
    args = [a.format(**values) for a in template]
    for role in ROLES:  # least first: refusals come before any allowed run changes things
        before = audit_count(runtime)
        result = runner.invoke(app, ["--as", members[role].email, *command.split(), *args])
        if allowed(role, needs):
            assert REFUSED not in result.output, (role, result.output)
            continue
        assert result.exit_code == 1 and REFUSED in result.output, (role, result.output)
        assert audit_count(runtime) == before, f"{role} was refused but {command} recorded"
        assert status_of(runtime, values["request"]) == "awaiting_approval"


def test_without_as_the_cli_acts_as_the_operator_with_admin_rights(
    cli_store: tuple[Runtime, Path],
) -> None:
    runtime, _ = cli_store
    request_id = awaiting(runtime)
    result = runner.invoke(app, ["rights", "approve", request_id])
    assert result.exit_code == 0, result.output
    assert status_of(runtime, request_id) == "executing"


def test_acting_as_a_deactivated_or_unknown_staff_member_is_refused(
    cli_store: tuple[Runtime, Path],
) -> None:
    runtime, folder = cli_store
    target = _values(runtime, folder)["target"]
    assert runner.invoke(app, ["staff", "deactivate", target]).exit_code == 0
    gone = runner.invoke(app, ["--as", target, "rights", "list"])
    assert gone.exit_code == 1 and "deactivated" in gone.output
    unknown = runner.invoke(app, ["--as", "nobody@lumen.example", "rights", "list"])
    assert unknown.exit_code == 1 and "No staff member" in unknown.output
