"""`rightful inventory ...` and `rightful systems ...`: the data map."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rightful.cli.common import acting, fail_on_error, open_runtime
from rightful.core.db import unit_of_work

app = typer.Typer(
    help="The data map: datasets, systems, partners, disclosures.", no_args_is_help=True
)
systems = typer.Typer(help="Connections to the company's data stores.", no_args_is_help=True)


@app.command("apply")
@fail_on_error
def apply(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    strict: bool = typer.Option(
        False, "--strict", help="Refuse datasets that break a card or password rule"
    ),
) -> None:
    """Validate and save data-map YAML files (fideslang datasets, systems, partners)."""
    from rightful.inventory.service import apply_files

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        result = apply_files(
            session,
            files=[(str(f), f.read_text()) for f in files],
            actor=acting(session),
            strict=strict,
            http_webhooks=rt.settings.http_webhooks_allowed,
        )
    typer.echo(
        f"Applied {len(result.datasets)} dataset(s), {len(result.systems)} system(s), "
        f"{len(result.partners)} partner(s), {result.disclosures} disclosure(s)."
    )
    for note in result.notes:
        typer.echo(f"Note: {note}")
    for warning in result.warnings:
        typer.echo(f"Warning: {warning}")


@app.command("lint")
@fail_on_error
def lint_map(
    files: list[Path] = typer.Argument(
        None, exists=True, dir_okay=False, readable=True, help="Files to check (default: stored)"
    ),
) -> None:
    """Check the data map (or files before applying them) against card and password rules."""
    from rightful.inventory.lint import lint
    from rightful.inventory.service import parse_datasets, stored_datasets

    if files:
        datasets = parse_datasets([(str(f), f.read_text()) for f in files])
    else:
        with unit_of_work(open_runtime().sessions) as session:
            datasets = stored_datasets(session, actor=acting(session))
    findings = lint(datasets)
    for finding in findings:
        typer.echo(str(finding))
    if findings:
        raise typer.Exit(1)
    typer.echo(f"{len(datasets)} dataset(s) keep the card and password rules.")


@app.command("show")
@fail_on_error
def show(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Print the data map."""
    from rightful.inventory.service import summary

    with unit_of_work(open_runtime().sessions) as session:
        data = summary(session, actor=acting(session))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for s in data["systems"]:
        conn = "connected" if s["connection_configured"] else "no connection"
        typer.echo(f"system  {s['key']:<16} {s['name']} ({s['operated_by'] or 'ours'}; {conn})")
    for d in data["datasets"]:
        colls = ", ".join(c["name"] for c in d["collections"])
        typer.echo(f"dataset {d['key']:<16} {colls}")
    for p in data["partners"]:
        typer.echo(f"partner {p['key']:<16} {p['name']} ({p['role']})")
    typer.echo(f"{len(data['disclosures'])} disclosure(s)")


@app.command("export")
@fail_on_error
def export(output: Path | None = typer.Option(None, "-o", help="Write to a file")) -> None:
    """Export the data map as fideslang-compatible YAML (never secrets)."""
    from rightful.inventory.service import export_yaml

    with unit_of_work(open_runtime().sessions) as session:
        text = export_yaml(session, actor=acting(session))
    if output:
        output.write_text(text)
        typer.echo(f"Wrote {output}")
    else:
        typer.echo(text)


@systems.command("connect")
@fail_on_error
def connect(
    system: str,
    url: str = typer.Option(
        ..., prompt=True, hide_input=True, help="SQLAlchemy URL, e.g. postgresql+psycopg://..."
    ),
) -> None:
    """Store a system's connection URL, encrypted."""
    from rightful.inventory.service import set_connection
    from rightful.security.vault import Vault

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        set_connection(
            session,
            Vault(rt.settings, "connections"),
            system_key=system,
            url=url,
            actor=acting(session),
        )
    typer.echo(f"Connection for {system} saved (encrypted).")


@systems.command("test")
@fail_on_error
def test(system: str) -> None:
    """Check that Rightful can reach a system's data store."""
    from rightful.rights.staff import check_connection

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        check_connection(session, rt.settings, actor=acting(session), system=system)
    typer.echo(f"{system}: connection works.")
