"""The qrun command line: click commands, and QrunError mapped to exit codes; nothing else."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from .app import supervise
from .app.clitools import SpecCommand, debug_option
from .app.share_cli import export_group, report_cmd
from .errors import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    QrunError,
    SpecError,
    SpecsInvalid,
    UsageError,
)
from .running.clock import SYSTEM, Clock
from .version import __version__

_debug_option = debug_option


def _template_options(f: Any) -> Any:
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


def _out_option(help_text: str) -> Any:
    return click.option("--out", default="results", show_default=True, type=click.Path(file_okay=False), help=help_text)


def _estimates_option(f: Any) -> Any:
    return click.option(
        "--estimates",
        type=click.Choice(["learned", "declared", "fresh"]),
        default="learned",
        show_default=True,
        help="Where estimates come from: learned (a matching earlier run, else declared, else computed), "
        "declared (the spec's, else computed) or fresh (computed from the backend's timing).",
    )(f)


def _cache_option(f: Any) -> Any:
    return click.option(
        "--no-cache",
        "no_cache",
        is_flag=True,
        help="Transpile afresh instead of using the on-disk transpile cache ($QRUN_CACHE_DIR, "
        "default ~/.cache/qrun/transpile).",
    )(f)


def _overrides(assignments: tuple[str, ...]) -> dict[str, Any]:
    from .spec import parse_assignment

    given = dict(parse_assignment(a) for a in assignments)
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get("qrun.allow_python"):
        given["allow_python"] = True  # --allow-python is the override allow_python=true, recorded as one
    return given


class QrunGroup(click.Group):
    """A group where `qrun SPEC ...` means `qrun run SPEC ...`."""

    def resolve_command(self, ctx: Any, args: Any) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            import difflib

            close = difflib.get_close_matches(args[0], list(self.commands), n=1, cutoff=0.75)
            if close and not Path(args[0]).exists():  # `qrun valdate x.yaml` is a typo, not a spec named valdate
                raise UsageError(f"no command '{args[0]}'; did you mean 'qrun {close[0]}'?")
            return "run", self.commands["run"], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage("qrun", "SPEC [RUN OPTIONS]  |  qrun COMMAND [ARGS]...")


@click.group(cls=QrunGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="qrun")
@_debug_option
def cli() -> None:
    """Run declarative YAML experiments on Qiskit Runtime.

    \b
      qrun experiments/vqe.yaml          run a spec (same as `qrun run SPEC`)
      qrun validate experiments/*.yaml   check specs, run nothing

    Exit codes: 0 ok, 1 a job, the run, the service or the environment failed, 2 bad spec or usage,
    3 internal error (a bug in qrun), 130 interrupted.
    """


@cli.command("run", cls=SpecCommand)
@click.argument("spec", type=click.Path(dir_okay=False))
@_out_option("Results root; each run gets results/<name>/<UTC time>-<id>/.")
@_template_options
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Quiet: no progress and no summary; the run folder on stdout, and on stderr only warnings and errors.",
)
@_estimates_option
@click.option(
    "--resume",
    is_flag=False,
    flag_value="latest",
    default=None,
    metavar="[RUN_DIR]",
    help="Continue an interrupted run (default: the latest run of this spec): finished jobs are kept, "
    "the rest run in order.",
)
@click.option(
    "-m",
    "--multirun",
    "multirun_args",
    multiple=True,
    metavar="NAME=V1,V2,...",
    help="Run once per combination of these template variables' values, all in ONE session, into one group "
    "folder with a combined CSV (repeatable; as a spec's multirun: block does).",
)
@click.option(
    "--dask",
    "dask_address",
    default=None,
    metavar="ADDRESS",
    help="Send local simulation (aer, fake devices) through this Dask scheduler, e.g. tcp://host:8786 "
    "(or set QRUN_DASK_SCHEDULER); needs qrun[dask].",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    metavar="N",
    help="Start a local Dask cluster of N worker processes for local simulation; needs qrun[dask].",
)
@click.option(
    "--mlflow",
    "to_mlflow",
    is_flag=True,
    help="When the run completes, log it to MLflow as `qrun export mlflow` does ($MLFLOW_TRACKING_URI; the "
    "experiment is the spec's name); needs qrun[mlflow].",
)
@_cache_option
@_debug_option
def run_cmd(
    spec: str,
    out: str,
    assignments: tuple[str, ...],
    vars_files: tuple[str, ...],
    quiet: bool,
    estimates: str,
    resume: str | None,
    multirun_args: tuple[str, ...],
    dask_address: str | None,
    workers: int | None,
    no_cache: bool,
    to_mlflow: bool,
) -> None:
    """Run SPEC: validate it, open one session, run its jobs in order, write results."""
    from .app.pipeline import run, run_multirun
    from .store.reader import load

    grid = _multirun_grid(spec, multirun_args)
    group = _resume_group(spec, out, resume, grid)
    if group is not None:
        from .app import groups

        folder, resumed = groups.resume(
            spec, group, out, grid, "quiet" if quiet else "auto", estimates, use_cache=not no_cache, clock=_clock()
        )
        done = ", ".join(p.name for p in resumed) or "none: every point had finished"
        click.echo(_relative(folder) if quiet else f"resumed: {done}\nresults: {_relative(folder)} (multirun.csv)")
        return
    if grid:
        folder = run_multirun(
            spec,
            grid,
            out,
            overrides=_overrides(assignments),
            vars_files=list(vars_files),
            progress="quiet" if quiet else "auto",
            estimates=estimates,
            use_cache=not no_cache,
            clock=_clock(),
        )
        click.echo(_relative(folder) if quiet else f"results: {_relative(folder)} (multirun.csv, one folder per point)")
        _export_mlflow(to_mlflow, folder, quiet)
        return
    from .running.cluster import from_options

    cluster = from_options(dask_address, workers)
    try:
        run_dir = run(
            spec,
            out,
            overrides=_overrides(assignments),
            vars_files=list(vars_files),
            progress="quiet" if quiet else "auto",
            estimates=estimates,
            resume=resume,
            use_cache=not no_cache,
            cluster=cluster,
            clock=_clock(),
        )
    finally:
        if cluster is not None:
            cluster.close()
    shown = _relative(run_dir)
    if quiet:
        click.echo(shown)
    else:
        from .views.report import summary

        click.echo(summary(load(run_dir)))
        click.echo(f"results: {shown}")
    _export_mlflow(to_mlflow, run_dir, quiet)


def _export_mlflow(wanted: bool, folder: Path, quiet: bool) -> None:
    if not wanted:
        return
    from .views.mlflow_export import export

    for path, run_id in export([folder]):
        if not quiet:
            click.echo(f"mlflow: {_relative(path)} -> run {run_id}")


def _resume_group(spec: str, out: str, resume: str | None, grid: dict[str, list[Any]]) -> Path | None:
    """The multirun group, or group point, that --resume names; None when it names a plain run."""
    if resume is None:
        return None
    from .app import groups

    if resume == "latest":
        if not grid:
            return None
        from .spec import load

        name = load(spec, {k: values[0] for k, values in grid.items()}).data["name"]  # any point names the spec
        found = groups.latest_group(Path(out), name)
        if found is None:
            raise UsageError(f"--resume latest: no earlier multirun of {spec} under {out}")
        return found
    target = Path(resume)
    if groups.group_of(target) is not None:
        return target
    if grid:
        raise UsageError(f"--resume {resume}: not a multirun group or one of its points (no multirun.json)")
    return None


def _multirun_grid(spec: str, multirun_args: tuple[str, ...]) -> dict[str, list[Any]]:
    """-m values, else the spec's own multirun: block."""
    from .app import multirun
    from .spec import MAX_SPEC_BYTES, declared_multirun, read_text_limited

    if multirun_args:
        return multirun.parse(list(multirun_args))
    return declared_multirun(spec, read_text_limited(Path(spec), spec, MAX_SPEC_BYTES, "specs"))


def _relative(path: Path) -> Path:
    """The run folder as the user would type it: relative when it is under the current folder."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return Path(path)


@cli.command("rerun")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Results root for the new run (default: the one RUN_DIR is in).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Quiet: no progress and no summary; the new run folder on stdout, warnings on stderr.",
)
@_cache_option
@_debug_option
def rerun_cmd(run_dir: str, out: str | None, quiet: bool, no_cache: bool) -> None:
    """Run a finished or failed run again, from the resolved spec saved in RUN_DIR, into a new run folder."""
    from .app.pipeline import run
    from .store.reader import load

    folder = Path(run_dir)
    meta = load(folder).metadata  # a real run folder, or RunFolderError naming what is wrong
    name = meta["name"]
    _say_python_changed(folder, meta)
    if out is None and folder.resolve().parent.name != name:
        # A run lives in ROOT/<spec name>/<run>: anywhere else (a copied folder), its grandparent is no results root.
        raise UsageError(f"{run_dir}: not inside a results root (ROOT/{name}/RUN); say where to write with --out DIR")
    root = Path(out) if out else folder.resolve().parent.parent
    new = run(folder / "spec.yaml", root, progress="quiet" if quiet else "auto", use_cache=not no_cache, clock=_clock())
    if quiet:
        click.echo(_relative(new))
        return
    from .views.report import summary

    click.echo(summary(load(new)))
    click.echo(f"results: {_relative(new)}")


@cli.command("validate", cls=SpecCommand)
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_template_options
@_estimates_option
@_out_option("Results root, where learned estimates are looked up.")
@click.option(
    "--deep",
    is_flag=True,
    help="Also build every circuit and transpile it, as a run does: parses QASM "
    "fully and checks computed estimates (imports qiskit; slower).",
)
@_debug_option
def validate_cmd(
    specs: tuple[str, ...],
    assignments: tuple[str, ...],
    vars_files: tuple[str, ...],
    estimates: str,
    out: str,
    deep: bool,
) -> None:
    """Check each SPEC against the schema, its meaning and its time budget; run nothing. Exit 0 if all are valid, else 2.

    Without --deep this never imports qiskit, so it is fast enough for editors and pre-commit.
    """
    from .app import multirun
    from .app.pipeline import prepare, quick_check

    bad = 0
    overrides = _overrides(assignments)  # a malformed --set is the command line's problem, not a spec's
    for path in specs:
        try:
            # a multirun spec is as valid as its every point
            for point in multirun.points(_multirun_grid(path, ())) or [{}]:
                given = {**overrides, **point}
                if deep:
                    _say_python_runs(path, given, list(vars_files))
                    prepared = prepare(path, given, list(vars_files), estimates, out, online=False)
                else:
                    prepared = quick_check(path, given, list(vars_files), estimates, out)
        except SpecError as e:
            bad += 1
            click.echo(str(e), err=True)
            continue
        except UsageError as e:  # a missing or unreadable file: say so, and check the rest
            bad += 1
            click.echo(f"qrun: {e}", err=True)
            continue
        for warning in prepared.warnings:
            click.echo(str(warning), err=True)
        click.echo(f"{path}: ok")
    if bad:
        raise SpecsInvalid(f"{bad} of {len(specs)} spec{'s' * (len(specs) != 1)} invalid")


def _say_python_changed(folder: Path, meta: dict[str, Any]) -> None:
    """A rerun of a run whose Python sources have changed since runs today's code: say so, by source."""
    recorded = (meta.get("spec") or {}).get("python")
    if not recorded:
        return
    from .sources import pysource
    from .spec import load

    spec = load(folder / "spec.yaml")
    changes = pysource.changed(recorded, pysource.of_spec(spec.data, spec.base_dir))
    if changes:
        click.echo(
            f"qrun: warning: the Python this run used has changed since ({'; '.join(changes)}); the rerun runs it as "
            "it is now",
            err=True,
        )


def _say_python_runs(path: str, overrides: dict[str, Any], vars_files: list[str]) -> None:
    """Before validate --deep imports the user's code, say which: checking a spec should not run code silently."""
    from .spec import load

    data = load(path, overrides, vars_files).data
    if not isinstance(data, dict) or not data.get("allow_python"):
        return
    refs = [
        f"{kind}.{name}: {value['python']}"
        for kind in ("circuits", "observables")
        for name, value in (data.get(kind) or {}).items()
        if isinstance(value, dict) and isinstance(value.get("python"), str)
    ]
    if refs:
        click.echo(f"qrun: importing and running your Python, as allow_python allows: {'; '.join(refs)}", err=True)


@cli.command("plan", cls=SpecCommand)
@click.argument("spec", type=click.Path(dir_okay=False))
@_template_options
@_estimates_option
@_out_option("Results root, where learned estimates are looked up.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--all", "all_rows", is_flag=True, help="A row for every job, however many (else the first and last).")
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    envvar="QRUN_RATE",
    default=None,
    metavar="PER_SECOND",
    help="Price of one QPU second (env QRUN_RATE); the plan then shows the cost of the charged time.",
)
@_cache_option
@_debug_option
def plan_cmd(
    spec: str,
    assignments: tuple[str, ...],
    vars_files: tuple[str, ...],
    estimates: str,
    out: str,
    as_json: bool,
    all_rows: bool,
    rate: float | None,
    no_cache: bool,
) -> None:
    """Show each job's estimate and the budget verdict; run nothing. Exit 0 if the plan fits max_time, else 2."""
    import json

    from .app.pipeline import plan_errors, prepare
    from .views.report import plan_summary, plan_table

    prepared = prepare(
        spec, _overrides(assignments), list(vars_files), estimates, out, enforce_budget=False, use_cache=not no_cache
    )
    for warning in prepared.warnings:
        click.echo(str(warning), err=True)
    summary = plan_summary(prepared.plan, rate)
    if as_json:
        # One job per line: readable, and json's C encoder writes each (an indented dump of 10,000 jobs took 0.5 s).
        jobs = ",\n".join(f"    {json.dumps(job)}" for job in summary["jobs"])
        head = json.dumps({k: v for k, v in summary.items() if k != "jobs"}, indent=2)
        click.echo(f'{head[:-2]},\n  "jobs": [\n{jobs}\n  ]\n}}' if summary["jobs"] else json.dumps(summary, indent=2))
    else:
        plan_table(prepared.plan, rate, all_rows=all_rows)
    plan_errors(prepared.spec, prepared.plan)


@cli.command("show")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--all", "all_rows", is_flag=True, help="A row for every job, however many (else the first and last).")
@_debug_option
def show_cmd(run_dir: str, all_rows: bool) -> None:
    """Summarize a run: each job's state, result, estimate against actual time, and the session. RUN_DIR may be a
    multirun group: then one row per point, with its swept values and headline results."""
    from .store.catalog import MANIFEST
    from .store.reader import load
    from .views.listing import group_text
    from .views.report import show

    if (Path(run_dir) / MANIFEST).is_file():
        click.echo(group_text(Path(run_dir)), nl=False)
        return
    click.echo(show(load(run_dir), all_rows=all_rows), nl=False)


@cli.command("list")
@click.argument("root", default="results", required=False, type=click.Path(file_okay=False))
@click.option("--name", default=None, help="Only runs of the spec with this name.")
@click.option("--status", default=None, help="Only runs with this status (completed, failed, interrupted, running).")
@click.option("--json", "as_json", is_flag=True, help="The same rows as JSON.")
@_debug_option
def list_cmd(root: str, name: str | None, status: str | None, as_json: bool) -> None:
    """List the runs under ROOT (default: results), oldest first: status, backend, the variables and overrides that
    differ between them, and headline results (each estimator value ± its standard error, each minimize optimum)."""
    import json

    from .views.listing import list_text, runs

    if as_json:
        click.echo(json.dumps(runs(Path(root), name, status), indent=2))
    else:
        import shutil

        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None  # rich measures the terminal
        click.echo(list_text(Path(root), name, status, width))


@cli.command("diff")
@click.argument("run_a", type=click.Path(exists=True, file_okay=False))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False))
@_debug_option
def diff_cmd(run_a: str, run_b: str) -> None:
    """Compare two runs: how their resolved specs differ, then each value side by side with the difference, the
    combined standard error σ and the z-score (B - A) / σ."""
    from .store.reader import load
    from .views.compare import diff_text

    click.echo(diff_text(load(run_a), load(run_b)))


@cli.command("plot")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@_debug_option
def plot_cmd(run_dir: str) -> None:
    """Write PNGs of a run into RUN_DIR/plots: convergence, sweep curves, count histograms (needs qrun[plot]). For a
    multirun group, each headline value against each numeric swept key."""
    from .views.plots import plot_run

    for path in plot_run(Path(run_dir)):
        click.echo(path)


@cli.command("status")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@_debug_option
def status_cmd(run_dir: str) -> None:
    """Show a run's session and each job's status; for a service run, as the service reports them now, and with
    the usage the service had not reported yet written into the run."""
    from .app.pipeline import complete_usage
    from .views.report import live_status

    complete_usage(Path(run_dir))
    click.echo(live_status(Path(run_dir)))


@cli.command("render", cls=SpecCommand)
@click.argument("spec", type=click.Path(dir_okay=False))
@_template_options
@_debug_option
def render_cmd(spec: str, assignments: tuple[str, ...], vars_files: tuple[str, ...]) -> None:
    """Print SPEC as it would run: its template rendered and its overrides applied; run nothing."""
    from .spec import load

    loaded = load(spec, _overrides(assignments), list(vars_files))
    click.echo(loaded.resolved_text() if loaded.overrides else loaded.text, nl=False)


@cli.command("schema")
@_debug_option
def schema_cmd() -> None:
    """Print the JSON Schema of the spec format."""
    import json

    from .spec.schema import schema

    click.echo(json.dumps(schema(), indent=2))


cli.add_command(report_cmd)
cli.add_command(export_group)


def entry() -> None:
    """The `qrun` command and `python -m qrun`: main(), then leave without Python's teardown.

    By the time main returns, every file qrun wrote is complete and closed (atomic renames, the journal closed, the
    run lock and any Dask cluster released). What Python would still do is free every object and module one by one:
    0.2 s after importing qiskit, 0.6 s after qiskit-ibm-runtime, for nothing anyone can see. Only the standard
    streams need flushing first. Library callers and the tests call main(), which returns."""
    if supervise.available() and _runs_jobs(sys.argv[1:]):
        code = supervise.supervise(main, _record_stop)
    else:
        code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`qrun list | head`): nothing more can reach it
            pass
    os._exit(code)


def _runs_jobs(args: list[str]) -> bool:
    """Whether the command line runs jobs (qrun SPEC, run, rerun): those run under supervise."""
    first = next((a for a in args if not a.startswith("-")), None)
    return first is not None and (first in ("run", "rerun") or first not in cli.commands)


def _record_stop(run_dir: Path) -> None:
    from .errors import QrunError
    from .store.journal import record_stop

    try:
        record_stop(run_dir, "stopped by the user: a job did not return in time")
    except (QrunError, OSError) as e:
        click.echo(f"qrun: {run_dir}: could not record how the run ended ({e})", err=True)


def _clock() -> Clock:
    """The clock main() was given (a test's stand-in service's), else the machine's."""
    ctx = click.get_current_context(silent=True)
    given: Clock | None = ctx.obj if ctx is not None else None  # subcommands inherit main()'s obj
    return given if given is not None else SYSTEM


def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    """Entry point: run the CLI and turn every outcome into an exit code. `clock` is where runs read the time and
    wait (a test's stand-in service hands its own); the machine's by default."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    # qiskit-ibm-runtime attaches a console handler of its own at import ("Loading account with the given token"):
    # its lines would land before qrun's one-line error and in -q runs. They are for --debug, or for a user who set
    # QISKIT_IBM_RUNTIME_LOG_LEVEL, which the runtime applies at import over this level.
    logging.getLogger("qiskit_ibm_runtime").setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)
    try:
        code = cli.main(args=args, prog_name="qrun", standalone_mode=False, obj=clock)
        return code if isinstance(code, int) else EXIT_OK
    except click.exceptions.Abort:
        click.echo("qrun: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as e:
        e.show()
        return EXIT_USAGE if isinstance(e, click.UsageError) else e.exit_code
    except QrunError as e:
        if debug:
            traceback.print_exc()
        # A SpecError's lines are already FILE:LINE:COL: PATH: message; anything else is one line with the program's
        # name, whatever line breaks the runtime put in the text it carries ("...has failed:\nKaboom!").
        one_line = " ".join(part.strip() for part in str(e).splitlines() if part.strip())
        click.echo(str(e) if isinstance(e, SpecError) else f"qrun: {one_line}", err=True)
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("qrun: interrupted", err=True)
        return EXIT_INTERRUPTED
    except OSError as e:  # the environment failed (disk full, read-only, no such file): name the path and the reason
        if debug:
            traceback.print_exc()
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        click.echo(f"qrun: {where}{e.strerror or e}", err=True)
        return EXIT_FAILED
    except Exception:  # a bug in qrun or a library: say so plainly; the traceback is one flag away
        if debug:
            traceback.print_exc()
        click.echo("qrun: internal error; run again with --debug for a traceback", err=True)
        return EXIT_INTERNAL
