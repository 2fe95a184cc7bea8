"""What qrun's commands share: the --debug option, and bare KEY=VALUE overrides after a spec, as Hydra takes them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

# precision=0.05, +jobs.vqe.shots=100, ~options.seed: a key is never a path (no "/"), so a file never reads as one
BARE_OVERRIDE = re.compile(r"\+?[A-Za-z_][A-Za-z0-9_.\-\[\]θ]*=.*|~[A-Za-z_][A-Za-z0-9_.\-\[\]θ]*", re.S)


def debug_option(f: Any) -> Any:
    return click.option("--debug", is_flag=True, expose_value=False, help="Show a traceback on errors.")(f)


class SpecCommand(click.Command):
    """A command on specs where `qrun SPEC precision=0.05 ~options.seed` means `--set precision=0.05 --set
    ~options.seed`: each bare override becomes a --set, in order, before click parses the line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        valued = {
            name
            for p in self.params
            if isinstance(p, click.Option) and not p.is_flag and not p.count
            for name in (*p.opts, *p.secondary_opts)
        }
        out: list[str] = []
        value_next = False
        for arg in args:
            if value_next:
                out.append(arg)
                value_next = False
            elif arg in valued:
                out.append(arg)
                value_next = True
            elif arg == "--":
                out.append(arg)
                value_next = False
            elif BARE_OVERRIDE.fullmatch(arg) and not Path(arg).exists():
                out += ["--set", arg]
            else:
                out.append(arg)
        return super().parse_args(ctx, out)
