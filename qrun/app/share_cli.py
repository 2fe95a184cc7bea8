"""The commands that share stored runs: `qrun report`, `qrun export mlflow` and `qrun export runtime-json`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from ..model.findings import close_matches
from ..store.catalog import MANIFEST
from ..store.export import runtime_json
from ..views.htmlreport import write
from ..views.mlflow_export import export
from .clitools import RESULTS, debug_option, on_disk

_RUNS = click.Path(exists=True, file_okay=False, path_type=Path)


@click.command("report")
@click.argument("targets", nargs=-1, type=_RUNS)
@click.option(
    "--html",
    "-o",
    "html_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file: one self-contained page that opens offline (default: report.html in the "
    "results root the report is of).",
)
@click.option(
    "--compare",
    nargs=2,
    multiple=True,
    type=_RUNS,
    metavar="RUN_A RUN_B",
    help="Add a comparison of two runs, as `qrun diff` shows it (repeatable).",
)
@debug_option
def report_cmd(targets: tuple[Path, ...], html_file: Path | None, compare: tuple[tuple[Path, Path], ...]) -> None:
    """Write an HTML report of the runs under TARGETS (results roots, a spec's folder in one, multirun groups or run
    folders; default: results): a sortable, filterable runs table with multirun points and their swept keys, a page per run with its
    values, exact values, deviations, warnings, figures and resolved spec, a page per multirun group, and
    comparisons. Needs qrun[plot] for the figures."""

    chosen = list(targets) or [Path(RESULTS)]
    if html_file is None:
        # beside the runs it shows, where a results root is the one target; a run folder or group is one owner's
        roots = [t for t in chosen if not (t / "metadata.json").exists() and not (t / MANIFEST).exists()]
        if not targets and not chosen[0].is_dir():
            raise UsageError(f"no runs to report: there is no {RESULTS}/ here; name a results root or run folder")
        if len(chosen) != 1 or not roots:
            raise UsageError("name the page to write: -o/--html FILE (the default is for one results root)")
        html_file = roots[0] / "report.html"
    click.echo(write(chosen, html_file, list(compare)))


class _ExportGroup(click.Group):
    """`qrun export RUN` names no tool: say which there are, where click said "No such command 'results/...'"."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            word, tools = args[0], sorted(self.commands)
            if on_disk(word):
                usage = " or ".join(f"qrun export {tool} {word}" for tool in tools)
                raise UsageError(f"'{word}' is what to export; name the tool first: {usage}")
            close = close_matches(word, tools)
            if close:
                raise UsageError(f"no export '{word}'; did you mean 'qrun export {close[0]}'?")
            page = "; an HTML page of runs is `qrun report`" if word.lower() in ("html", "report") else ""
            raise UsageError(f"no export '{word}'; there are {' and '.join(tools)}{page}")
        return super().resolve_command(ctx, args)


@click.group("export", cls=_ExportGroup)
def export_group() -> None:
    """Send stored runs to another tool."""


@export_group.command("mlflow")
@click.argument("targets", nargs=-1, required=True, type=_RUNS)
@click.option(
    "--tracking-uri",
    default=None,
    metavar="URI",
    help="The MLflow tracking store (default: MLflow's own choice: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).",
)
@click.option(
    "--experiment", default=None, metavar="NAME", help="The MLflow experiment (default: each run's spec name)."
)
@debug_option
def export_mlflow_cmd(targets: tuple[Path, ...], tracking_uri: str | None, experiment: str | None) -> None:
    """Log runs to MLflow (needs qrun[mlflow]): the resolved spec, overrides and swept values as params; each value,
    σ, exact value, deviation and usage as metrics; backend, session, job ids, git and versions as tags; the run
    folder as artifacts. TARGETS are run folders, multirun groups, results roots or a spec's folder in one.
    Exporting a run again updates its MLflow run; it makes no second one, and a run unchanged since it was last
    exported is not sent again."""

    for path, run_id, sent in export(list(targets), tracking_uri, experiment):
        click.echo(f"{path}: mlflow run {run_id}" + ("" if sent else " (unchanged since its last export)"))


@export_group.command("runtime-json")
@click.argument("run_dir", metavar="RUN", type=_RUNS)
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write to (default: RUN/runtime-json).",
)
@debug_option
def export_runtime_json_cmd(run_dir: Path, out: Path | None) -> None:
    """Write each finished job's PrimitiveResult of RUN in qiskit-ibm-runtime's own JSON encoding, one NN-name.json
    per job, which RuntimeDecoder reads back: what a local run of many jobs keeps in its batch files, for a tool that
    reads the runtime's format. A service run's job files already hold it."""

    folder, written = runtime_json(run_dir, out)
    click.echo(f"{len(written)} job file{'s' * (len(written) != 1)} in {folder}")
