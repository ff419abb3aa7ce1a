"""`rightful` — the command line, a thin shell over the same services as the console and API."""

from __future__ import annotations

import importlib
import json

from rightful.core.startup import loading

# What every command imports first (Typer, SQLAlchemy, pydantic, the settings), imported as
# `serve` and `worker` import the rest (PRELOAD below): with the cyclic garbage collector
# paused, what was made then frozen (core/startup.py). The collector's passes over these
# modules' objects were about a sixth of this import's CPU, and none of them is ever garbage.
with loading():
    import typer

    from rightful.cli.common import acting_as, fail_on_error, open_runtime, refuse_public_demo
    from rightful.cli.lazy import LazyGroup
    from rightful.core.db import unit_of_work

# The other groups (rights, consent, staff, ...) are imported when used (cli/lazy.py).
app = typer.Typer(
    cls=LazyGroup,
    help="Rightful: keep the promises of your privacy statement.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db = typer.Typer(help="Rightful's own database.", no_args_is_help=True)
demo = typer.Typer(help="The demo company.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(demo, name="demo")


# What a long-running command keeps for its whole life, imported before it runs with the
# garbage collector paused, then frozen (core/startup.py): a sixth of the server's start.
PRELOAD = {
    "serve": ("uvicorn", "rightful.web.app", "rightful.web.serving"),
    "worker": ("rightful.worker.loop",),
}


@app.callback()
def root(
    ctx: typer.Context,
    as_: str | None = typer.Option(
        None,
        "--as",
        envvar="RIGHTFUL_AS",
        help="Act as this staff member, with their role (default: the operator, as admin)",
    ),
) -> None:
    """Rightful: keep the promises of your privacy statement."""
    acting_as.set(as_)
    if modules := PRELOAD.get(ctx.invoked_subcommand or ""):
        with loading():
            for module in modules:
                importlib.import_module(module)


@db.command("upgrade")
@fail_on_error
def db_upgrade() -> None:
    """Create or migrate Rightful's tables, and load the default taxonomy."""
    from rightful.inventory.taxonomy import load_default
    from rightful.migrations import upgrade

    rt = open_runtime(create=True)
    upgrade(rt.engine)
    with unit_of_work(rt.sessions) as session:
        added = load_default(session)
    typer.echo(f"Database is up to date ({added} taxonomy entries added).")


@demo.command("setup")
@fail_on_error
def demo_setup(
    people: int = typer.Option(3000, help="Synthetic customers to create"),
    rebuild: bool = typer.Option(False, help="Rebuild the demo databases"),
    fresh: bool = typer.Option(
        False, help="Start over: delete the store, demo databases and packages first"
    ),
) -> None:
    """Build the demo company and print how to try it."""
    from rightful.core.config import Settings
    from rightful.demo.setup import reset_demo, setup_demo

    if fresh:
        settings = Settings()
        if reset_demo(settings):
            typer.echo(
                f"Removed the earlier demo's store, databases and packages in {settings.data_dir}/."
            )
    rt = open_runtime(create=True)
    info = setup_demo(rt, people=people, rebuild=rebuild)
    p = info.people[0]
    url = rt.settings.base_url
    typer.echo(f"""
Rightful demo is ready: {rt.settings.company_name}, on SQLite in {rt.settings.data_dir}/.

  Privacy center   {url}/
  Privacy notice   {url}/privacy
  Admin console    {url}/admin
      e-mail       {info.admin_email}
      password     {info.admin_password}
  API              {url}/api/docs   (token: {info.api_token})

Try an access request as a demo customer:
  e-mail {p.email} · phone {p.phone} · name {p.first_name} {p.last_name} · ZIP {p.postal_code}
  The 6-digit code and every other e-mail appear in the console's Outbox.
  After you approve it, the request waits on the paper archive (kept by hand): open
  the console's Tasks, enter what the archive holds for her, and it completes.

See consent at work:
  Demo shop        {url}/demo/store   (cookie banner; "Privacy preferences" signs {p.first_name} in)
  Preferences      {url}/preferences  (anyone, by e-mailed link)
  Console          {url}/admin/consent
""")
    if info.earlier_requests is not None:
        n = info.earlier_requests
        typer.echo(
            f"This demo keeps what earlier runs did: {n} request{'s' if n != 1 else ''}, "
            "and anyone erased stays erased.\n"
            "To take the tour from the start: make demo-reset (or rightful demo setup --fresh).\n"
        )


@app.command()
@fail_on_error
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_public_demo: bool = typer.Option(
        False, help="In demo mode, listen on an address other machines can reach anyway"
    ),
    workers: int = typer.Option(
        1,
        min=1,
        max=64,
        envvar="RIGHTFUL_SERVE_WORKERS",
        help="Server processes (one a core); the embedded worker still runs once",
    ),
) -> None:
    """Serve the privacy center, admin console and API (with the embedded worker)."""
    from rightful.web.serving import serve as run_server

    refuse_public_demo(host, allowed=allow_public_demo)
    rt = open_runtime()
    if rt.settings.demo_mode and "base_url" not in rt.settings.model_fields_set:
        # The demo's links and its stand-in vendors are at the address it is served on.
        from rightful.core.runtime import build_runtime
        from rightful.demo.vendors import follow_base_url

        rt.engine.dispose()
        rt = build_runtime(rt.settings.model_copy(update={"base_url": f"http://{host}:{port}"}))
        follow_base_url(rt)
    run_server(rt, host=host, port=port, workers=workers)


@app.command()
@fail_on_error
def worker(once: bool = typer.Option(False, help="One pass, then exit")) -> None:
    """Run the database-polling worker in the foreground (no broker needed)."""
    from rightful.worker.loop import EmbeddedWorker, run_once

    rt = open_runtime()
    if once:
        typer.echo(json.dumps({"requests_run": run_once(rt)}))
        return
    EmbeddedWorker(rt).run_forever()
