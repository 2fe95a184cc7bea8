"""The qrun command group: `qrun SPEC` means `qrun run SPEC` (its options may come first), and each command is
imported when it is named."""

from __future__ import annotations

import importlib

import click
from click.shell_completion import CompletionItem

from ..errors import UsageError
from ..model.findings import close_matches
from .clitools import on_disk, paths_starting

# The commands other than run and rerun, each imported when it is named (or when --help lists them all): a run does
# not import the checks' and views' commands, the report or the exporters (benchmarks/RESULTS.md, "The supervisor
# forks first; templates and specs read once").
LAZY_COMMANDS = {
    **{name: ("qrun.app.check_cli", f"{name}_cmd") for name in ("validate", "plan", "render", "schema")},
    **{name: ("qrun.app.view_cli", f"{name}_cmd") for name in ("show", "list", "diff", "plot", "status")},
    "report": ("qrun.app.share_cli", "report_cmd"),
    "export": ("qrun.app.share_cli", "export_group"),
    "qubits": ("qrun.app.device_cli", "qubits_cmd"),
}


GROUP_OPTIONS = ("--debug", "-V", "--version", "-h", "--help", "--")  # the group's own, which keep their place


class QrunGroup(click.Group):
    """A group where `qrun SPEC ...` means `qrun run SPEC ...`, and whose commands are imported when named."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            module, name = LAZY_COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `qrun --quiet SPEC` is `qrun SPEC --quiet`: an option before any command that is not the group's is the run's
        lead = next((k for k, a in enumerate(args) if a != "--debug"), None)
        if lead is not None and args[lead].startswith("-") and args[lead] not in GROUP_OPTIONS:
            args = [*args[:lead], "run", *args[lead:]]
        return super().parse_args(ctx, args)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        names = self.list_commands(ctx)
        if args and args[0] not in names and not args[0].startswith("-"):
            # `qrun valdate x.yaml` is a typo, not a spec named valdate; a spec that exists is never matched
            # against the commands (that would import difflib on every run)
            close = [] if on_disk(args[0]) else close_matches(args[0], names, cutoff=0.75)
            if close:
                raise UsageError(f"no command '{args[0]}'; did you mean 'qrun {close[0]}'?")
            return "run", self.commands["run"], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("qrun", "SPEC [RUN OPTIONS]  |  qrun COMMAND [ARGS]...")

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """The first word completes to a command or, as `qrun SPEC` takes, a path: the shell's own file completion
        where no command matches, else the paths beside the commands."""
        items = super().shell_complete(ctx, incomplete)
        if incomplete.startswith("-"):
            return items
        if not items:
            return [CompletionItem(incomplete, type="file")]
        return items + [CompletionItem(path) for path in paths_starting(incomplete)]
