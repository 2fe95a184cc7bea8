"""The qrun command line: click commands, and QrunError mapped to exit codes; nothing else."""

from __future__ import annotations

import errno
import logging
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from . import collector
from .app import groups, multirun, supervise
from .app.cligroup import QrunGroup
from .app.clitools import (
    SpecCommand,
    cache_option,
    debug_option,
    estimates_option,
    given_or_newest,
    multirun_grid,
    multirun_option,
    out_option,
    overrides_of,
    relative,
    template_options,
)
from .app.pipeline import run, run_multirun
from .errors import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    QrunError,
    SpecError,
    UsageError,
)
from .running.clock import SYSTEM, Clock
from .running.cluster import from_options
from .running.events import Sink
from .spec import load as load_spec
from .store.reader import load
from .version import __version__


@click.group(cls=QrunGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="qrun")
@debug_option
def cli() -> None:
    """Run declarative YAML experiments on Qiskit Runtime.

    \b
      qrun experiments/vqe.yaml          run a spec (same as `qrun run SPEC`)
      qrun validate experiments/*.yaml   check specs, run nothing

    Exit codes: 0 ok, 1 a job, the run, the service or the environment failed, 2 bad spec or usage,
    3 internal error (a bug in qrun), 130 interrupted.
    """


@cli.command("run", cls=SpecCommand)
@click.argument("spec", type=click.Path())
@out_option("Results root; each run gets results/<name>/<UTC time>-<id>/.")
@template_options
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Quiet: no progress and no summary; the run folder on stdout, and on stderr only warnings and errors.",
)
@estimates_option
@click.option(
    "--resume",
    is_flag=False,
    flag_value="latest",
    default=None,
    metavar="[RUN_DIR]",
    help="Continue an interrupted run (default: the latest run of this spec): finished jobs are kept, "
    "the rest run in order.",
)
@multirun_option(
    "Run once per combination of these template variables' values (or dotted keys), all together (one batch or "
    "session; each backend's in turn, for -m backend=A,B), into one group folder with a combined CSV (repeatable; as a "
    "spec's multirun: block does)."
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
@cache_option
@debug_option
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
    """Run SPEC: validate it, plan it, run its jobs in order in one batch or session (on the service under mode: auto,
    a session only around the jobs that need one), write results."""

    grid = multirun_grid(spec, multirun_args, overrides_of(assignments))
    group = _resume_group(spec, out, resume, grid)
    if group is not None:
        folder, resumed = groups.resume(
            spec, group, out, grid, "quiet" if quiet else "auto", estimates, use_cache=not no_cache, clock=_clock()
        )
        done = ", ".join(p.name for p in resumed) or "none: every point had finished"
        _group_table(folder, quiet)
        click.echo(relative(folder) if quiet else f"resumed: {done}\nresults: {relative(folder)} (multirun.csv)")
        return
    if grid:
        folder = run_multirun(
            spec,
            grid,
            out,
            overrides=overrides_of(assignments),
            vars_files=list(vars_files),
            progress="quiet" if quiet else "auto",
            estimates=estimates,
            use_cache=not no_cache,
            clock=_clock(),
        )
        _group_table(folder, quiet)
        click.echo(relative(folder) if quiet else f"results: {relative(folder)} (multirun.csv, one folder per point)")
        _export_mlflow(to_mlflow, folder, quiet)
        return

    cluster = from_options(dask_address, workers)
    try:
        run_dir = run(
            spec,
            out,
            overrides=overrides_of(assignments),
            vars_files=list(vars_files),
            progress="quiet" if quiet else "auto",
            estimates=estimates,
            resume=resume,
            use_cache=not no_cache,
            cluster=cluster,
            clock=_clock(),
            sinks=_seams().sinks,
        )
    finally:
        if cluster is not None:
            cluster.close()
    shown = relative(run_dir)
    if quiet:
        click.echo(shown)
    else:
        from .views.report import closing_summary  # the views' modules: only once the run is done, not with -q

        click.echo(closing_summary(shown))
        click.echo(f"results: {shown}")
    _export_mlflow(to_mlflow, run_dir, quiet)


def _group_table(folder: Path, quiet: bool) -> None:
    """A multirun ends with its points' table, as a run ends with its values."""
    if not quiet:
        from .views.listing import group_text  # the views' modules: only once the run is done, not with -q

        click.echo(group_text(relative(folder)), nl=False)


def _export_mlflow(wanted: bool, folder: Path, quiet: bool) -> None:
    if not wanted:
        return
    from .views.mlflow_export import export  # only a run that exports (mlflow itself is imported later still)

    for path, run_id, _ in export([folder]):
        if not quiet:
            click.echo(f"mlflow: {relative(path)} -> run {run_id}")


def _resume_group(spec: str, out: str, resume: str | None, grid: dict[str, list[object]]) -> Path | None:
    """The multirun group, or group point, that --resume names; None when it names a plain run."""
    if resume is None:
        return None

    if resume == "latest":
        if not grid:
            return None

        names = [load_spec(spec, point).data["name"] for point in multirun.points(grid)]
        found = groups.latest_group(Path(out), multirun.group_name(names, Path(spec).stem))
        found = found or groups.latest_group(Path(out), names[0])  # a group made under its first point's name
        if found is None:
            raise UsageError(f"--resume latest: no earlier multirun of {spec} under {out}")
        return found
    target = Path(resume)
    if groups.group_of(target) is not None:
        return target
    if grid:
        raise UsageError(f"--resume {resume}: not a multirun group or one of its points (no multirun.json)")
    return None


@cli.command("rerun")
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False))
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
@cache_option
@debug_option
def rerun_cmd(run_dir: str | None, out: str | None, quiet: bool, no_cache: bool) -> None:
    """Run a finished or failed run again, from the resolved spec saved in RUN_DIR (default: the newest run under
    results/; a spec's folder: its newest run), into a new run folder."""

    folder = given_or_newest(run_dir, groups=False)
    if groups.group_of(folder) == folder:  # its points each have their own resolved spec; it has none
        names = groups.point_names(folder)
        points = ", ".join(names[:3]) + (f" and {len(names) - 3:,} more" if len(names) > 3 else "")
        raise UsageError(
            f"{folder}: a multirun group, whose points each have their own resolved spec: rerun one "
            f"(qrun rerun {folder}/POINT; its points: {points}), or run the multirun again (qrun SPEC -m ...)"
        )
    meta = load(folder).metadata  # a real run folder, or RunFolderError naming what is wrong
    name = meta["name"]
    from .app.check_cli import say_python_changed  # a command module: imported when named (LAZY_COMMANDS)

    say_python_changed(folder, meta)
    home = folder.resolve().parent
    group = groups.group_of(folder)
    if group is not None and group.resolve() == home:  # a multirun's point, ROOT/<name>/<group>/<point>: run alone
        home = home.parent
    if out is None and home.name != name:
        # A run lives in ROOT/<spec name>/<run>: anywhere else (a copied folder), its grandparent is no results root.
        raise UsageError(
            f"{folder}: not inside a results root (ROOT/{name}/RUN, or a multirun's ROOT/{name}/GROUP/POINT); say "
            "where to write with --out DIR"
        )
    root = Path(out) if out else home.parent
    new = run(folder / "spec.yaml", root, progress="quiet" if quiet else "auto", use_cache=not no_cache, clock=_clock())
    shown = relative(new)
    if quiet:
        click.echo(shown)
        return

    from .views.report import closing_summary  # the views' modules: only once the run is done, not with -q

    click.echo(closing_summary(shown))
    click.echo(f"results: {shown}")


def entry() -> None:
    """`python -m qrun` and the `qrun` command, but for a run where fork is available (qrun.__main__ supervises that
    one itself): main(), then leave without Python's teardown.

    By the time main returns, every file qrun wrote is complete and closed (atomic renames, the journal closed, the
    run lock and any Dask cluster released). What Python would still do is free every object and module one by one:
    for nothing anyone can see (benchmarks/RESULTS.md, "Measurements behind the code"). Only the standard
    streams need flushing first. Library callers and the tests call main(), which returns."""
    if not supervise.runs_jobs(sys.argv[1:]):
        collector.release()  # a run releases it once prepared (pipeline._drive); other commands after the imports
    supervise.leave(main())


@dataclass(frozen=True)
class Seams:
    """What main() hands the commands besides the command line: the clock runs read time from (a test's stand-in
    service's), and extra sinks that see each run's events after its run folder does (a test's fault injection)."""

    clock: Clock = SYSTEM
    sinks: tuple[Sink, ...] = ()


def _seams() -> Seams:
    ctx = click.get_current_context(silent=True)
    given = ctx.obj if ctx is not None else None  # subcommands inherit main()'s obj
    return given if isinstance(given, Seams) else Seams()


def _clock() -> Clock:
    return _seams().clock


def main(argv: list[str] | None = None, clock: Clock | None = None, sinks: Sequence[Sink] = ()) -> int:
    """Entry point: run the CLI and turn every outcome into an exit code. `clock` and `sinks`: see Seams."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    # qiskit-ibm-runtime attaches a console handler of its own at import ("Loading account with the given token"):
    # its lines would land before qrun's one-line error and in -q runs. They are for --debug, or for a user who set
    # QISKIT_IBM_RUNTIME_LOG_LEVEL, which the runtime applies at import over this level.
    logging.getLogger("qiskit_ibm_runtime").setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)
    try:
        code = cli.main(args=args, prog_name="qrun", standalone_mode=False, obj=Seams(clock or SYSTEM, tuple(sinks)))
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
        click.echo(e.report() if isinstance(e, SpecError) else f"qrun: {one_line}", err=True)
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("qrun: interrupted", err=True)
        return EXIT_INTERRUPTED
    except SystemExit as e:
        # click's answer to a closed pipe (`qrun SPEC 2>&1 | head`), even outside standalone mode: its streams made
        # quiet, exit 1. Escaping here, it left the supervised child no code of its own to exit with.
        return e.code if isinstance(e.code, int) else EXIT_FAILED
    except OSError as e:  # the environment failed (disk full, read-only, no such file): name the path and the reason
        if debug:
            traceback.print_exc()
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        click.echo(f"qrun: {where}{e.strerror or e}", err=True)
        return EXIT_USAGE if e.errno == errno.ENAMETOOLONG else EXIT_FAILED  # a name no file can have: bad input
    except Exception:  # a bug in qrun or a library: say so plainly; the traceback is one flag away
        if debug:
            traceback.print_exc()
        click.echo("qrun: internal error; run again with --debug for a traceback", err=True)
        return EXIT_INTERNAL
