"""The commands that read stored runs: show, list, diff, plot, status (registered by cli)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from ..errors import UsageError
from ..store.catalog import MANIFEST, read_manifest
from ..store.reader import load, previous_run
from ..views.compare import diff_data, diff_text
from ..views.listing import group_text, list_text, runs
from ..views.plots import plot_run
from ..views.report import show
from .clitools import RESULTS, debug_option, given_or_newest


@click.command("show")
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--all", "all_rows", is_flag=True, help="A row for every job or point, however many (else the first and last)."
)
@debug_option
def show_cmd(run_dir: str | None, all_rows: bool) -> None:
    """Summarize a run: each job's state, result, estimate against actual time, and the session. RUN_DIR may be a
    multirun group: then one row per point, with its swept values and headline results; or a spec's folder
    (results/vqe-h2): its newest run. Without RUN_DIR: the newest run (or group) under results/."""

    folder = given_or_newest(run_dir)
    if (folder / MANIFEST).is_file():
        click.echo(group_text(folder, all_rows=all_rows), nl=False)
        return
    click.echo(show(load(folder), all_rows=all_rows), nl=False)


@click.command("list")
@click.argument("root", default=RESULTS, required=False, type=click.Path(file_okay=False))
@click.option("--name", default=None, help="Only runs of the spec with this name.")
@click.option(
    "--status",
    default=None,
    type=click.Choice(["completed", "failed", "interrupted", "running", "died"]),
    help="Only runs with this status (died: recorded as running, but no qrun holds it).",
)
@click.option("--json", "as_json", is_flag=True, help="The same rows as JSON.")
@debug_option
def list_cmd(root: str, name: str | None, status: str | None, as_json: bool) -> None:
    """List the runs under ROOT (default: results; or one spec's folder in it), oldest first: status, backend, the
    variables and overrides that differ between them, and headline results (each estimator value ± its standard
    error, each minimize optimum, each derived value)."""

    if as_json:
        click.echo(json.dumps(runs(Path(root), name, status), indent=2))
    else:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None  # rich measures the terminal
        click.echo(list_text(Path(root), name, status, width))


@click.command("diff")
@click.argument("run_a", required=False, type=click.Path(exists=True, file_okay=False))
@click.argument("run_b", required=False, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--all", "all_rows", is_flag=True, help="Every value (of many, the 25 with the largest |z|; of a sweep, 20)."
)
@click.option("--json", "as_json", is_flag=True, help="The comparison as JSON, every value, for a script.")
@debug_option
def diff_cmd(run_a: str | None, run_b: str | None, all_rows: bool, as_json: bool) -> None:
    """Compare two runs: how their resolved specs differ, then each value side by side with the difference, the
    combined standard error σ and the z-score (B - A) / σ. With one run: that run against the run of its spec before
    it; with none: the newest run under results/ against the one before it. A spec's folder (results/vqe-h2) stands
    for its newest run."""

    def compare(a: Path | str, b: Path | str) -> str:
        return json.dumps(diff_data(load(a), load(b)), indent=2) if as_json else diff_text(load(a), load(b), all_rows)

    if run_a is not None and run_b is not None:
        click.echo(compare(given_or_newest(run_a, groups=False), given_or_newest(run_b, groups=False)))
        return
    later = given_or_newest(run_a, groups=False)
    if (later / MANIFEST).is_file() or (later.parent / MANIFEST).is_file():
        what = "a multirun group" if (later / MANIFEST).is_file() else "a point of a multirun"
        raise UsageError(f"{later} is {what}: name the two runs to compare (qrun diff RUN_A RUN_B)")
    earlier = previous_run(later)
    if earlier is None:
        raise UsageError(
            f"{later}: no earlier run of its spec to compare it with (qrun diff RUN_A RUN_B compares any two)"
        )
    click.echo(f"qrun: comparing the run before it, {earlier}, with {later}", err=True)
    click.echo(compare(earlier, later))


@click.command("plot")
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--all", "all_jobs", is_flag=True, help="Every job's figure (of many, the first 15 and last 10 are drawn)."
)
@debug_option
def plot_cmd(run_dir: str | None, all_jobs: bool) -> None:
    """Write PNGs of a run into RUN_DIR/plots: convergence, sweep curves, count histograms, fitted derived values
    (needs qrun[plot]). For a multirun group, each headline value against each swept key (names, as backends, side by
    side). Prints each PNG's path; what it left out goes to stderr. Without RUN_DIR: the newest run (or group) under
    results/; a spec's folder: its newest."""

    written, left_out = plot_run(given_or_newest(run_dir), all_jobs)
    for path in written:
        click.echo(path)
    if left_out:
        click.echo(left_out, err=True)


@click.command("status")
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--all", "all_rows", is_flag=True, help="Every job (a run of many lists its first 15 and last 10).")
@debug_option
def status_cmd(run_dir: str | None, all_rows: bool) -> None:
    """Show a run's session and each job's status; for a service run, as the service reports them now, and with
    the usage the service had not reported yet written into the run. Without RUN_DIR: the newest run under
    results/; a spec's folder: its newest run; a multirun group: each of its points in turn."""
    from .status import status_text  # the service's client, only for this command

    folder = given_or_newest(run_dir, groups=False)
    if (folder / MANIFEST).is_file():  # a group: its points, as qrun show GROUP tabulates them
        click.echo("\n\n".join(status_text(point, all_rows) for _, point in read_manifest(folder)))
        return
    click.echo(status_text(folder, all_rows))
