"""The commands that check specs and run nothing: validate, plan, render, schema (registered by cli)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import click

from ..errors import SpecError, SpecsInvalid, UsageError
from ..model.findings import by_key
from ..model.records import RunMetadata
from ..sources import pysource
from ..spec import load
from ..spec.diff import said_once
from ..spec.schema import schema
from ..spec.source import no_specs, specs_in
from ..views.plans import PlanSummary, plan_summary, plan_table
from . import multirun
from .clitools import (
    SpecCommand,
    cache_option,
    debug_option,
    estimates_option,
    multirun_grid,
    multirun_option,
    out_option,
    overrides_of,
    template_options,
)
from .prepare import plan_errors, prepare, quick_check


def _specs_in(paths: tuple[str, ...]) -> list[str]:
    """Each SPEC as given; a folder, as the specs in it (its *.yaml, *.yml and their .j2 templates, not its
    subfolders, where circuit files and --vars files live): `qrun validate experiments/`, as `ruff check DIR` reads."""
    out: list[str] = []
    for given in paths:
        folder = Path(given)
        if not folder.is_dir():
            out.append(given)
            continue
        found = specs_in(folder)
        if not found:
            raise UsageError(no_specs(folder, given))
        out += [str(folder / name) for name in found]
    return out


@click.command("validate", cls=SpecCommand)
@click.argument("specs", nargs=-1, required=True, type=click.Path())
@template_options
@multirun_option(
    "Check every point of this grid of template variables' values, and all of them in one budget, as "
    "`qrun SPEC -m` runs them (repeatable; else the spec's multirun: block)."
)
@estimates_option
@out_option("Results root, where learned estimates are looked up.")
@click.option(
    "--deep",
    is_flag=True,
    help="Also build every circuit and transpile it, as a run does: parses QASM "
    "fully and checks computed estimates (imports qiskit; slower).",
)
@debug_option
def validate_cmd(
    specs: tuple[str, ...],
    assignments: tuple[str, ...],
    vars_files: tuple[str, ...],
    multirun_args: tuple[str, ...],
    estimates: str,
    out: str,
    deep: bool,
) -> None:
    """Check each SPEC (or each spec in a folder) against the schema, its meaning and its time budget; run nothing.
    Exit 0 if all are valid, else 2.

    Without --deep this never imports qiskit, so it is fast enough for editors and pre-commit.
    """

    bad = 0
    overrides = overrides_of(assignments)  # a malformed --set is the command line's problem, not a spec's
    for path in _specs_in(specs):
        try:
            # a multirun spec is as valid as its every point, and all of them together, as it runs
            chosen = multirun.points(multirun_grid(path, multirun_args, overrides)) or [{}]
            every = []
            for point in chosen:
                given = {**overrides, **point}
                if deep:
                    _say_python_runs(path, given, list(vars_files))
                    prepared = multirun.at_point(
                        point,
                        partial(prepare, path, given, list(vars_files), estimates, out, online=False, swept=point),
                    )
                else:
                    prepared = multirun.at_point(
                        point, partial(quick_check, path, given, list(vars_files), estimates, out, swept=point)
                    )
                every.append(prepared)
            if len(chosen) > 1:
                multirun.joint_budgets(every, multirun.labels(chosen))
        except SpecError as e:
            bad += 1
            click.echo(e.report(), err=True)
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


def say_python_changed(folder: Path, meta: RunMetadata) -> None:
    """A rerun of a run whose Python sources have changed since runs today's code: say so, by source."""
    recorded = (meta.get("spec") or {}).get("python")
    if not recorded:
        return

    spec = load(folder / "spec.yaml")
    changes = pysource.changed(recorded, pysource.of_spec(spec.data, spec.base_dir))
    if changes:
        click.echo(
            f"qrun: warning: the Python this run used has changed since ({'; '.join(said_once(changes))}); the rerun runs it as "
            "it is now",
            err=True,
        )


def _say_python_runs(path: str, overrides: dict[str, object], vars_files: list[str]) -> None:
    """Before validate --deep imports the user's code, say which: checking a spec should not run code silently."""

    data = load(path, overrides, vars_files).data
    if not isinstance(data, dict) or not data.get("allow_python"):
        return
    used = pysource.in_use(data)
    refs = [
        f"{names}: {ref}"
        for names, ref in by_key(
            (f"{kind}.{name}", value["python"])
            for kind in ("circuits", "observables")
            for name, value in (data.get(kind) or {}).items()
            if isinstance(value, dict) and isinstance(value.get("python"), str) and name in used[kind]
        )
    ]
    if refs:
        click.echo(f"qrun: importing and running your Python, as allow_python allows: {'; '.join(refs)}", err=True)


@click.command("plan", cls=SpecCommand)
@click.argument("spec", type=click.Path())
@template_options
@multirun_option(
    "Plan every point of this grid of template variables' values together, as `qrun SPEC -m` "
    "runs them (repeatable; else the spec's multirun: block)."
)
@estimates_option
@out_option("Results root, where learned estimates are looked up.")
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
@cache_option
@debug_option
def plan_cmd(
    spec: str,
    assignments: tuple[str, ...],
    vars_files: tuple[str, ...],
    multirun_args: tuple[str, ...],
    estimates: str,
    out: str,
    as_json: bool,
    all_rows: bool,
    rate: float | None,
    no_cache: bool,
) -> None:
    """Show each job's estimate and the budget verdict; run nothing. Exit 0 if the plan fits max_time, else 2."""

    chosen = multirun.points(multirun_grid(spec, multirun_args, overrides_of(assignments))) or [{}]
    every = [
        multirun.at_point(
            point,
            partial(
                prepare,
                spec,
                {**overrides_of(assignments), **point},
                list(vars_files),
                estimates,
                out,
                enforce_budget=False,
                use_cache=not no_cache,
                defer_device=True,  # a plan only shown: a fake device's object is built only if the plan needs it
                swept=point,
            ),
        )
        for point in chosen
    ]
    # a multirun: each backend's points' jobs in one plan, as they run together (named by point, budgeted together)
    labels = multirun.labels(chosen)
    by_backend = multirun.by_backend(every) if len(every) > 1 else []
    plans = (
        [multirun.combine(every, labels, members, enforce=False) for members in by_backend]
        if by_backend
        else [every[0].planned]
    )
    for warning in dict.fromkeys(str(w) for p in every for w in p.warnings):
        click.echo(warning, err=True)
    if as_json:
        summaries = [_plan_json(plan_summary(the_plan, rate)) for the_plan in plans]
        # points on several backends: a plan each, as they run
        click.echo(summaries[0] if len(plans) == 1 else '{\n"plans": [\n' + ",\n".join(summaries) + "\n]\n}")
    else:
        for the_plan in plans:
            plan_table(the_plan, rate, all_rows=all_rows)
    for point in every:
        plan_errors(point.spec, point.planned, budget=len(every) == 1)
    for members, the_plan in zip(by_backend, plans):  # the plans just shown, each over its backend's points
        multirun.refuse_over([every[k] for k in members], the_plan.budget)


def _plan_json(summary: PlanSummary) -> str:
    """One job per line: readable, and json's C encoder writes each (an indented dump goes through the slow one)."""
    jobs = ",\n".join(f"    {json.dumps(job)}" for job in summary["jobs"])
    head = json.dumps({k: v for k, v in summary.items() if k != "jobs"}, indent=2)
    return f'{head[:-2]},\n  "jobs": [\n{jobs}\n  ]\n}}' if summary["jobs"] else json.dumps(summary, indent=2)


@click.command("render", cls=SpecCommand)
@click.argument("spec", type=click.Path())
@template_options
@debug_option
def render_cmd(spec: str, assignments: tuple[str, ...], vars_files: tuple[str, ...]) -> None:
    """Print SPEC as it would run: its template rendered and its overrides applied; run nothing."""

    given = overrides_of(assignments)
    loaded = load(spec, given, list(vars_files))
    # a variable given here shows in vars: as the value used; the text as rendered kept the defaults beside it
    click.echo(loaded.resolved_text(ran=False) if loaded.overrides or given or vars_files else loaded.text, nl=False)


@click.command("schema")
@debug_option
def schema_cmd() -> None:
    """Print the JSON Schema of the spec format."""

    click.echo(json.dumps(schema(), indent=2))
