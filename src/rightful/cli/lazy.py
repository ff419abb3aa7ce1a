"""Command groups loaded when used: `rightful serve` (or `worker`) imports what it needs, not
the modules of every other command (rights import, DROP, mailbox, ...), which would double the
time the server takes to give its first answer."""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

# Each group's name, and where its Typer app is: "module:attribute". An attribute that is a
# function builds the app when called (a group put together from several modules).
GROUPS: dict[str, str] = {
    "inventory": "rightful.cli.inventory_cmds:app",
    "systems": "rightful.cli.inventory_cmds:systems",
    "rights": "rightful.cli.rights_cmds:app",
    "consent": "rightful.cli.consent_cmds:app",
    "audit": "rightful.cli.audit_cmds:app",
    "keys": "rightful.cli.keys_cmds:app",
    "mailbox": "rightful.cli.casework_cmds:app",
    "mail": "rightful.cli.mail_cmds:app",
    "tasks": "rightful.cli.task_cmds:app",
    "notices": "rightful.cli.notice_cmds:app",
    "drop": "rightful.cli.drop_cmds:app",
    "reports": "rightful.cli.report_cmds:app",
    "staff": "rightful.cli.staff_cmds:staff_group",
}


def load(name: str) -> typer.Typer:
    """The Typer app of one lazily loaded group."""
    module, attribute = GROUPS[name].split(":")
    found: Any = getattr(importlib.import_module(module), attribute)
    return found if isinstance(found, typer.Typer) else found()


class LazyGroup(TyperGroup):
    """The root command: its own commands, and the groups of GROUPS, each imported the first
    time it is looked up (running it, or listing them all in --help)."""

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command name, loaded or not (click lists them in --help and completion)."""
        names = super().list_commands(ctx)
        return [*names, *(name for name in GROUPS if name not in names)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command, importing its group's module on first use."""
        if cmd_name in GROUPS and cmd_name not in self.commands:
            group = typer.main.get_group(load(cmd_name))
            group.name = cmd_name
            self.add_command(group, cmd_name)
        return super().get_command(ctx, cmd_name)
