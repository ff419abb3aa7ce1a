"""`rightful keys ...`: the data keys that encrypt what Rightful stores, and their rotation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from rightful.cli.common import fail_on_error, open_runtime
from rightful.core.runtime import Runtime

if TYPE_CHECKING:
    from rightful.security.sealed_places import Target

app = typer.Typer(help="Encryption keys: status, rotation, retirement.", no_args_is_help=True)
ACTOR = "cli"


def _targets(rt: Runtime) -> list[Target]:
    """Every sealed column of every model, and the access packages' folder."""
    from rightful.all_models import Base
    from rightful.rights.packaging import PACKAGE_PURPOSE
    from rightful.security.sealed_places import SealedFolder, sealed_targets

    return sealed_targets(Base.metadata, [SealedFolder(rt.settings.package_dir, PACKAGE_PURPOSE)])


@app.command("status")
@fail_on_error
def status() -> None:
    """Each data-key version, what it wraps with, and how many values each still seals."""
    from rightful.security import rotation

    rt = open_runtime()
    with rt.sessions() as session:
        found = rotation.status(session, _targets(rt))
        unfinished = rotation.rotating(session)
    newest = max(k.version for k, _ in found if k.retired_at is None)
    for key, used in found:
        made = "the first" if key.version == 1 else f"made {key.created_at:%Y-%m-%d %H:%M} UTC"
        state = (
            f"retired {key.retired_at:%Y-%m-%d}"
            if key.retired_at
            else ("seals new data" if key.version == newest else "opens old data")
        )
        typer.echo(f"Version {key.version}: {made}, {key.kek_id}; {state}")
        for name, n in sorted(used.items()):
            typer.echo(f"    {name}: {n}")
    if unfinished is not None:
        version, steps = unfinished
        done = sum(1 for s in steps if s.done_at)
        typer.echo(
            f"A rotation to version {version} is unfinished ({done} of {len(steps)} places "
            "done): run `rightful keys rotate` to finish it."
        )


@app.command("rotate")
@fail_on_error
def rotate(
    batch_size: int = typer.Option(500, min=1, help="Values re-encrypted per transaction"),
) -> None:
    """Make a new data-key version and re-encrypt everything with it, in batches (or finish a
    rotation that was interrupted). Everything stays readable throughout."""
    from rightful.security import rotation

    rt = open_runtime()

    def progress(name: str, count: int) -> None:
        typer.echo(f"  {name}: {count} re-encrypted")

    version, rewritten = rotation.rotate(
        rt.sessions, rt.settings, _targets(rt), actor=ACTOR, batch=batch_size, on_batch=progress
    )
    typer.echo(
        f"Everything is sealed with data-key version {version} "
        f"({sum(rewritten.values())} value(s) re-encrypted). Retire an older version with "
        "`rightful keys retire VERSION`."
    )


@app.command("retire")
@fail_on_error
def retire(version: int = typer.Argument(..., help="The version to retire")) -> None:
    """Destroy an old data-key version; refused while anything is still sealed with it."""
    from rightful.security import rotation

    rt = open_runtime()
    rotation.retire(rt.sessions, rt.settings, _targets(rt), version, actor=ACTOR)
    typer.echo(f"Data key version {version} is retired: nothing can decrypt with it again.")


@app.command("rewrap")
@fail_on_error
def rewrap() -> None:
    """Wrap the data keys with the newest key-encryption key (the first in RIGHTFUL_KEK_FILE);
    after it, the old KEK can be removed."""
    from rightful.security import rotation

    rt = open_runtime()
    count = rotation.rewrap(rt.sessions, rt.settings, actor=ACTOR)
    typer.echo(f"{count} data key(s) rewrapped with the newest key-encryption key.")


@app.command("new-kek")
def new_kek() -> None:
    """Print a new random key-encryption key, for RIGHTFUL_KEK_FILE."""
    from rightful.security.keys import new_kek as make

    typer.echo(make())
