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
    from rightful.notices.service import drift

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        result = apply_files(
            session,
            files=[(str(f), f.read_text()) for f in files],
            actor=acting(session),
            strict=strict,
            http_webhooks=rt.settings.http_webhooks_allowed,
        )
        result.notice_warnings = drift(session, rt.settings)
    typer.echo(
        f"Applied {len(result.datasets)} dataset(s), {len(result.systems)} system(s), "
        f"{len(result.partners)} partner(s), {result.disclosures} disclosure(s)."
    )
    for note in result.notes:
        typer.echo(f"Note: {note}")
    for warning in result.warnings:
        typer.echo(f"Warning: {warning}")
    for warning in result.notice_warnings:
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
    from rightful.connectors import registry

    for s in data["systems"]:
        conn = "connected" if s["connection_configured"] else "no connection"
        if registry.by_hand(s["connection_type"]):
            conn = f"handled by hand: tasks for {s['owner'] or 'the approvers'}"
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
    kind: str = typer.Option("sql", help="Connector kind: sql, http or an installed plug-in's"),
    url: str | None = typer.Option(None, help="SQL: SQLAlchemy URL (asked for when not given)"),
    config: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="HTTP: the system's YAML config"
    ),
    shipped: str | None = typer.Option(None, help="HTTP: a config that ships (stripe, ...)"),
    param: list[str] = typer.Option(
        [], help="A setting or HTTP connector param as name=value (repeatable)"
    ),
    settings_file: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="Settings as a JSON object (keeps secrets out of shell history)",
    ),
) -> None:
    """Store a system's connection (its kind and settings), encrypted; secrets are asked for."""
    from rightful.inventory.service import set_connection
    from rightful.security.vault import Vault

    settings = _connection_settings(kind, url, config, shipped, param, settings_file)
    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        set_connection(
            session,
            Vault(rt.settings, "connections"),
            system_key=system,
            kind=kind,
            settings=settings,
            actor=acting(session),
        )
    typer.echo(f"Connection for {system} saved (encrypted).")


def _connection_settings(
    kind: str,
    url: str | None,
    config: Path | None,
    shipped: str | None,
    pairs: list[str],
    settings_file: Path | None,
) -> dict[str, object]:
    """Settings from the options; the SQL URL and sensitive HTTP params asked for, hidden."""
    settings: dict[str, object] = {}
    if settings_file:
        settings.update(json.loads(settings_file.read_text()))
    given = dict(p.split("=", 1) for p in pairs if "=" in p)
    if kind == "sql":
        settings.update(given)
        settings["url"] = url or settings.get("url") or typer.prompt("URL", hide_input=True)
        return settings
    if kind != "http":
        return {**settings, **given}
    from rightful.connectors.http import config_of

    if config:
        settings["config"] = config.read_text()
    if shipped:
        settings["shipped"] = shipped
    params = dict(settings.get("params") or {})  # type: ignore[call-overload]
    params.update(given)
    for p in config_of(settings).connector_params:
        if p.name not in params and p.default_value is None:
            params[p.name] = typer.prompt(p.label or p.name, hide_input=p.sensitive)
    settings["params"] = params
    return settings


@systems.command("http-dataset")
@fail_on_error
def http_dataset(
    dataset: Path | None = typer.Argument(
        None, exists=True, dir_okay=False, help="The system's fideslang dataset (YAML)"
    ),
    config: Path | None = typer.Option(None, exists=True, dir_okay=False),
    shipped: str | None = typer.Option(None, help="A config that ships (stripe, ...)"),
) -> None:
    """Print a dataset with the inputs of an HTTP config's requests declared (identities and
    references), ready for `rightful inventory apply`."""
    import yaml

    from rightful.connectors.http import complete_dataset, config_of, shipped_dataset

    settings = {"config": config.read_text() if config else None, "shipped": shipped}
    loaded = config_of(settings)
    text = dataset.read_text() if dataset else shipped_dataset(shipped or "")
    doc = yaml.safe_load(text)
    entries = doc.get("dataset", [doc]) if isinstance(doc, dict) else []
    done = [complete_dataset(loaded, entry) for entry in entries]
    typer.echo(yaml.safe_dump({"dataset": done}, sort_keys=False, allow_unicode=True))


@systems.command("test")
@fail_on_error
def test(system: str) -> None:
    """Check that Rightful can reach a system's data store."""
    from rightful.rights.staff import check_connection

    rt = open_runtime()
    with unit_of_work(rt.sessions) as session:
        check_connection(session, rt.settings, actor=acting(session), system=system)
    typer.echo(f"{system}: connection works.")
