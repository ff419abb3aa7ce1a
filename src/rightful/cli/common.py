"""What every command shares: settings, a store that is there, and errors as readable messages."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.core.errors import ConfigurationError, NotAllowedError, RightfulError
from rightful.core.runtime import Runtime, build_runtime
from rightful.security.permissions import Actor

F = TypeVar("F", bound=Callable[..., Any])
UPGRADE = "run `rightful db upgrade`"


def open_runtime(*, create: bool = False) -> Runtime:
    """Settings and database for a command; unless it creates the store, the store must be
    there and migrated (else ConfigurationError in one line, and nothing is created)."""
    settings = Settings()
    if not create and (missing := _missing_store(settings)):
        raise ConfigurationError(missing)
    runtime = build_runtime(settings)
    if not create and (problem := store_problem(settings, runtime.engine)):
        runtime.engine.dispose()
        raise ConfigurationError(problem)
    return runtime


def _where(settings: Settings) -> str:
    """The store, as an operator would look for it: a file path, or a URL without password."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def _missing_store(settings: Settings) -> str | None:
    """Why there is no store, for a SQLite file that does not exist (connecting would make it)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if Path(url.database).exists():
        return None
    return f"No Rightful store at {url.database}: {UPGRADE} (or `make demo`)."


def store_problem(settings: Settings, engine: Engine) -> str | None:
    """Why the store cannot be used by this Rightful (no tables, or another schema), or None."""
    from rightful import migrations

    with engine.connect() as conn:
        current = migrations.current(conn)
    newest, known = migrations.shipped()
    if current == newest:
        return None
    where = _where(settings)
    if not current:
        return f"The Rightful store at {where} has no tables yet: {UPGRADE}."
    at = f"The Rightful store at {where} is at migration {', '.join(sorted(current))}"
    if current - known:
        return f"{at}, from a newer Rightful: use that one."
    return f"{at}, this Rightful needs {', '.join(sorted(newest))}: {UPGRADE}."


def is_loopback(host: str) -> bool:
    """Whether an address to listen on is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost: it names a network interface
        return False


def refuse_public_demo(host: str, *, allowed: bool) -> None:
    """Demo mode prints its login and accepts placeholder secrets: it listens on loopback only,
    unless the operator says otherwise (ConfigurationError in one line, before the store opens)."""
    if not allowed and not is_loopback(host) and Settings().demo_mode:
        raise ConfigurationError(
            f"Demo mode listens on this machine only (127.0.0.1), not {host}: its login is "
            "printed and its secrets are placeholders. Add --allow-public-demo to serve it anyway."
        )


# The staff member `rightful --as EMAIL` names; set by the root command for each run.
acting_as: ContextVar[str | None] = ContextVar("acting_as", default=None)


def acting(session: Session) -> Actor:
    """Who a command acts as: the staff member named by `rightful --as EMAIL` (or RIGHTFUL_AS),
    with their role, else the machine's operator with admin's permissions (docs/cli.md)."""
    from rightful.security.permissions import operator_actor, staff_actor
    from rightful.security.service import access_staff

    email = acting_as.get()
    if not email:
        return operator_actor()
    staff = access_staff(session, email=email)
    if not staff.active:
        raise NotAllowedError(f"{staff.email} is deactivated.")
    return staff_actor(name=staff.email, staff_id=staff.id, role=staff.role)


def fail_on_error(fn: F) -> F:
    """Print a RightfulError plainly on stderr and exit 1 (2 for bad input)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RightfulError as exc:
            typer.secho(f"Error: {exc.detail}", err=True, fg=typer.colors.RED)
            for item in exc.errors if "\n" not in exc.detail else []:  # else listed in detail
                typer.secho(f"  {item.get('field', '')}: {item['message']}", err=True)
            raise typer.Exit(2 if exc.status in (400, 409, 422) else 1) from exc
        except ValidationError as exc:
            typer.secho("Error: some values need attention.", err=True, fg=typer.colors.RED)
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"])
                message = str(err["msg"]).removeprefix("Value error, ")
                typer.secho(f"  {field}: {message}", err=True)
            raise typer.Exit(2) from exc
        except OperationalError as exc:  # the store is unreachable, locked or not what we expect
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
            typer.secho(
                f"Error: the Rightful store could not be used: {reason}",
                err=True,
                fg=typer.colors.RED,
            )
            raise typer.Exit(1) from exc

    return wrapper  # type: ignore[return-value]
