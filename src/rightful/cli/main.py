"""`rightful` — the command line, a thin shell over the same services as the console and API."""

from __future__ import annotations

import json

import typer

from rightful.cli import (
    audit_cmds,
    casework_cmds,
    consent_cmds,
    drop_cmds,
    inventory_cmds,
    keys_cmds,
    mail_cmds,
    notice_cmds,
    report_cmds,
    rights_cmds,
    signin_cmds,
    staff_cmds,
    task_cmds,
)
from rightful.cli.common import acting_as, fail_on_error, open_runtime, refuse_public_demo
from rightful.core.db import unit_of_work

app = typer.Typer(
    help="Rightful: keep the promises of your privacy statement.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(inventory_cmds.app, name="inventory")
app.add_typer(inventory_cmds.systems, name="systems")
app.add_typer(rights_cmds.app, name="rights")
app.add_typer(consent_cmds.app, name="consent")
app.add_typer(audit_cmds.app, name="audit")
app.add_typer(keys_cmds.app, name="keys")
app.add_typer(casework_cmds.app, name="mailbox")
app.add_typer(mail_cmds.app, name="mail")
app.add_typer(task_cmds.app, name="tasks")
app.add_typer(notice_cmds.app, name="notices")
app.add_typer(drop_cmds.app, name="drop")
app.add_typer(report_cmds.app, name="reports")
db = typer.Typer(help="Rightful's own database.", no_args_is_help=True)
staff = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)
demo = typer.Typer(help="The demo company.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(staff, name="staff")
signin_cmds.register(staff)  # unlock, totp
app.add_typer(demo, name="demo")
staff_cmds.register(staff)  # create, deactivate, token create|list|revoke


@app.callback()
def root(
    as_: str | None = typer.Option(
        None,
        "--as",
        envvar="RIGHTFUL_AS",
        help="Act as this staff member, with their role (default: the operator, as admin)",
    ),
) -> None:
    """Rightful: keep the promises of your privacy statement."""
    acting_as.set(as_)


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
