"""What qrun's commands share: their options (--debug, --set, --vars, --out, ...), and bare KEY=VALUE overrides after a
spec, as Hydra takes them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from ..errors import UsageError
from ..spec import parse_assignment
from ..store.catalog import MANIFEST, METADATA
from ..store.reader import newest_run
from . import multirun

F = TypeVar("F", bound=Callable[..., object])  # a command's function, as click's decorators take and give it

# precision=0.05, +jobs.vqe.shots=100, ~options.seed: a key is never a path (no "/"), so a file never reads as one
BARE_OVERRIDE = re.compile(r"\+?[A-Za-z_][A-Za-z0-9_.\-\[\]θ]*=.*|~[A-Za-z_][A-Za-z0-9_.\-\[\]θ]*", re.S)


def debug_option(f: F) -> F:
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
            elif BARE_OVERRIDE.fullmatch(arg) and not on_disk(arg):
                out += ["--set", arg]
            else:
                out.append(arg)
        return super().parse_args(ctx, out)


def on_disk(arg: str) -> bool:
    """Whether a word of the command line names something on disk. One longer than a file's name may be (an override
    of a few hundred characters: a list of parameter values) names nothing; asking raised ENAMETOOLONG."""
    try:
        return Path(arg).exists()
    except OSError:
        return False


def template_options(f: F) -> F:
    f = click.option(
        "--vars",
        "vars_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="YAML file of template variables (repeatable; later files win).",
    )(f)
    f = click.option(
        "--set",
        "assignments",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override: KEY=VALUE sets a template variable or a key of the spec (dotted: options.seed=3, "
        "jobs.vqe.precision=0.01; top-level: backend=fake_manila); +KEY=VALUE adds a key, ~KEY removes one "
        "(repeatable; wins over --vars). The same may follow SPEC bare: qrun SPEC precision=0.05.",
    )(f)
    f = click.option(
        "--allow-python",
        is_flag=True,
        expose_value=False,
        callback=lambda ctx, _param, value: ctx.meta.__setitem__("qrun.allow_python", value),
        help="Let qrun import and run the Python functions the spec names as circuit or observable sources, as "
        "allow_python: true in the spec does (qrun validate runs them only with --deep).",
    )(f)
    return f


RESULTS = "results"  # the results root a run writes to, and the views read, unless told otherwise


def out_option(help_text: str) -> Callable[[F], F]:
    return click.option("--out", default=RESULTS, show_default=True, type=click.Path(file_okay=False), help=help_text)


def estimates_option(f: F) -> F:
    return click.option(
        "--estimates",
        type=click.Choice(["learned", "declared", "fresh"]),
        default="learned",
        show_default=True,
        help="Where estimates come from: learned (a matching earlier run, else declared, else computed; a fake "
        "device's runs teach nothing, being the simulator's time), declared (the spec's, else computed) or fresh "
        "(computed from the backend's timing).",
    )(f)


def cache_option(f: F) -> F:
    return click.option(
        "--no-cache",
        "no_cache",
        is_flag=True,
        help="Transpile afresh instead of using the on-disk transpile cache ($QRUN_CACHE_DIR, "
        "default ~/.cache/qrun/transpile).",
    )(f)


def overrides_of(assignments: tuple[str, ...]) -> dict[str, object]:

    given = dict(parse_assignment(a) for a in assignments)
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get("qrun.allow_python"):
        given["allow_python"] = True  # --allow-python is the override allow_python=true, recorded as one
    return given


def multirun_option(help_text: str) -> Callable[[F], F]:
    """-m NAME=V1,V2,...: a multirun's grid on the command line, as a spec's multirun: block gives it."""
    return click.option("-m", "--multirun", "multirun_args", multiple=True, metavar="NAME=V1,V2,...", help=help_text)


def multirun_grid(
    spec: str, multirun_args: tuple[str, ...], overrides: dict[str, object] | None = None
) -> dict[str, list[object]]:
    """-m values, else the spec's own multirun: block; a variable `overrides` sets is held at its value
    (multirun.narrowed)."""

    if multirun_args:
        return multirun.narrowed(multirun.parse(list(multirun_args)), overrides or {}, given=True)
    return multirun.declared(spec, overrides or {})


def relative(path: Path) -> Path:
    """The run folder as the user would type it: relative when it is under the current folder."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return Path(path)


def paths_starting(prefix: str) -> list[str]:
    """The files and folders (a folder with its trailing /) whose path starts with `prefix`, as a shell completes
    them; hidden ones only where the prefix names a dot."""
    folder, _, start = prefix.rpartition("/")
    where = Path(folder + "/" if folder or prefix.startswith("/") else ".")
    try:
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in where.iterdir() if p.name.startswith(start))
    except OSError:  # no such folder, or not one we may read: nothing to offer
        return []
    shown = [n for n in names if start.startswith(".") or not n.startswith(".")]
    return [f"{folder}/{n}" if folder or prefix.startswith("/") else n for n in shown]


def given_or_newest(run_dir: str | None, groups: bool = True) -> Path:
    """RUN_DIR as given; else the newest run under results/ (a multirun's point: its group, where `groups`), said on
    stderr, as `git show` shows the newest commit. A RUN_DIR that holds runs without being one (a spec's folder,
    `results/vqe-h2`, or a results root) stands for its newest run, said alike: it is what `ls results/` shows."""
    if run_dir is not None:
        given = Path(run_dir)
        if (given / METADATA).is_file() or (given / MANIFEST).is_file():
            return given
        root, found = given, newest_run(given)
        if found is None:
            return given  # no run under it: the reader's error says what is missing
    else:
        root, found = Path(RESULTS), newest_run(Path(RESULTS))
        if found is None:
            raise UsageError(f"no RUN_DIR given, and no runs under {RESULTS}/ to take the newest of")
    newest = found.group if groups and found.group is not None else found.path
    click.echo(f"qrun: the newest run under {str(root).rstrip('/')}/: {newest}", err=True)
    return newest
