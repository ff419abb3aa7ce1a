"""`rightful staff unlock` and `rightful staff totp`: clearing a lockout, setting up or removing
a staff member's second factor. Registered on the `staff` group by `register`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from rightful.security.models import StaffUser
    from rightful.security.permissions import Actor


def _staff(session: Session, email: str) -> tuple[StaffUser, Actor]:
    """The account to act on, and who acts: managing accounts needs staff.manage."""
    from rightful.security.service import staff_to_manage

    actor = acting(session)
    return staff_to_manage(session, email=email, actor=actor), actor


@fail_on_error
def unlock(email: str) -> None:
    """Clear a staff member's failed sign-ins and lockout, so they can sign in at once."""
    from rightful.security import signin_limits

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        user, actor = _staff(session, email)
        cleared = signin_limits.unlock(
            session, rt.settings, email=user.email, actor=actor.name, staff_id=user.id
        )
    typer.echo(
        f"Cleared the failed sign-ins of {user.email}; they can sign in now."
        if cleared
        else f"{user.email} had no failed sign-ins to clear."
    )


@fail_on_error
def second_factor(
    email: str,
    remove: bool = typer.Option(False, "--remove", help="Take the second factor away"),
    replace: bool = typer.Option(False, "--replace", help="Replace one in force (a new phone)"),
) -> None:
    """Set up a staff member's authenticator app (shows the key once), or remove it."""
    from rightful.security import totp

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        user, actor = _staff(session, email)
        if remove:
            removed = totp.remove(session, staff_id=user.id, actor=actor.name)
            typer.echo(
                f"Removed the second factor of {user.email}."
                if removed
                else f"{user.email} had no second factor."
            )
            return
        enrolment = totp.enrol(session, rt.settings, staff=user, actor=actor.name, replace=replace)
    typer.echo(f"""Give this to {user.email} (only they should see it):

  Key, to type into an authenticator app   {enrolment.key}
  Or the link, for apps that take one      {enrolment.uri}

It is in force from their first sign-in with a code from the app.""")


def register(staff: typer.Typer) -> None:
    """Add the commands to the `staff` group."""
    staff.command("unlock")(unlock)
    staff.command("totp")(second_factor)
