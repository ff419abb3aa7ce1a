"""`rightful staff ...`: accounts, roles and API tokens. Registered on the `staff` group."""

from __future__ import annotations

from pathlib import Path

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work

ROLES = "viewer, analyst, approver or admin"
tokens = typer.Typer(help="API tokens: issue, list, revoke.", no_args_is_help=True)


def _password(password_file: Path | None) -> str:
    """The new password: the file's first line, or typed twice at a hidden prompt; never an
    argument, which shell history and the process list would keep."""
    if password_file is not None:
        lines = password_file.read_text().splitlines()
        return lines[0] if lines else ""
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@fail_on_error
def create(
    email: str,
    name: str = typer.Option(..., help="Full name"),
    role: str = typer.Option(..., help=f"What they may do: {ROLES} (docs/security.md)"),
    password_file: Path | None = typer.Option(
        None, exists=True, dir_okay=False, readable=True, help="Read the password from a file"
    ),
) -> None:
    """Add a staff member with a role (or reset an existing one's password and role)."""
    from rightful.security.service import create_staff

    password = _password(password_file)
    with unit_of_work(open_runtime().sessions) as session:
        create_staff(
            session, email=email, name=name, password=password, role=role, actor=acting(session)
        )
    typer.echo(f"Staff member {email} ({role}) can now sign in at /admin.")


@fail_on_error
def deactivate(email: str) -> None:
    """Stop a staff member signing in or using the API; their tokens are revoked."""
    from rightful.security.service import deactivate_staff

    with unit_of_work(open_runtime().sessions) as session:
        user = deactivate_staff(session, email=email, actor=acting(session))
    typer.echo(f"{user.email} can no longer sign in; their API tokens are revoked.")


@fail_on_error
def invite(
    email: str,
    name: str = typer.Option(..., help="Full name"),
    role: str = typer.Option(..., help=f"What they may do: {ROLES} (docs/security.md)"),
) -> None:
    """E-mail someone a one-time link to set up their account and choose their own password."""
    from rightful.messaging.invitations import invite as send_invitation

    runtime = open_runtime()
    with unit_of_work(runtime.sessions) as session:
        send_invitation(
            session, runtime.settings, email=email, name=name, role=role, actor=acting(session)
        )
    typer.echo(f"Invitation queued for {email} ({role}); the link works once, for 72 hours.")


@fail_on_error
def set_role(email: str, role: str = typer.Argument(..., help=f"The new role: {ROLES}")) -> None:
    """Give a staff member another role; their sessions end so it applies at once."""
    from rightful.security.staff_admin import change_role

    with unit_of_work(open_runtime().sessions) as session:
        user = change_role(session, email=email, role=role, actor=acting(session))
    typer.echo(f"{user.email} is now {user.role}.")


@tokens.command("create")
@fail_on_error
def token_create(
    email: str,
    name: str = typer.Option("cli", help="What the token is for"),
    scope: list[str] = typer.Option(
        [], "--scope", help="A permission, e.g. consent.check (repeat; default: all of the role)"
    ),
    days: int = typer.Option(90, help="Days until it expires (1 to 730)"),
) -> None:
    """Issue an API bearer token for a staff member (shown once)."""
    from rightful.security.service import access_staff, create_api_token

    with unit_of_work(open_runtime().sessions) as session:
        actor = acting(session)
        owner = access_staff(session, email=email)
        token = create_api_token(
            session, staff=owner, name=name, actor=actor, scopes=scope or None, days=days
        )
    typer.echo(token)


@tokens.command("list")
@fail_on_error
def token_list(email: str | None = typer.Argument(None, help="Only this staff member's")) -> None:
    """Every token: prefix, name, owner, status, expiry, last use and scopes (never a secret)."""
    from rightful.security.api_tokens import list_tokens

    with unit_of_work(open_runtime().sessions) as session:
        rows = list_tokens(session, actor=acting(session), email=email)
    for t in rows:
        status = "revoked" if t.revoked_at else "live" if t.live else "expired"
        expires = f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        typer.echo(
            f"{t.prefix}  {t.name:<20} {t.owner:<32} {status:<8} expires {expires}  "
            f"used {used}  {','.join(t.scopes)}"
        )
    if not rows:
        typer.echo("No API tokens.")


@tokens.command("revoke")
@fail_on_error
def token_revoke(prefix: str = typer.Argument(..., help="The part after rf_ (see `list`)")) -> None:
    """Stop a token working at once."""
    from rightful.security.api_tokens import revoke_token

    with unit_of_work(open_runtime().sessions) as session:
        row = revoke_token(session, prefix=prefix.removeprefix("rf_"), actor=acting(session))
    typer.echo(f"Token {row.prefix} ({row.name}) is revoked.")


def register(staff: typer.Typer) -> None:
    """Add the commands to the `staff` group."""
    staff.command("create")(create)
    staff.command("invite")(invite)
    staff.command("role")(set_role)
    staff.command("deactivate")(deactivate)
    staff.add_typer(tokens, name="token")


def staff_group() -> typer.Typer:
    """The `staff` group, built when first used (cli/lazy.py): signing in (cli/signin_cmds.py)
    and the accounts, roles and tokens of this module."""
    from rightful.cli import signin_cmds

    staff = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)
    signin_cmds.register(staff)  # unlock, totp
    register(staff)  # create, invite, role, deactivate, token create|list|revoke
    return staff
