"""What every command shares: settings, and turning errors into readable messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic import ValidationError

from rightful.core.errors import RightfulError
from rightful.core.runtime import Runtime, build_runtime

F = TypeVar("F", bound=Callable[..., Any])


def open_runtime() -> Runtime:
    """Settings and database for a command."""
    return build_runtime()


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

    return wrapper  # type: ignore[return-value]
