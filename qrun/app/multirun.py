"""Multirun, as Hydra does it: a grid of template-variable values, every point its own run folder, all points on one
backend in ONE session with the budget checked over all of them (several backends: one after another), and a combined
tidy CSV."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import itertools
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..backends.registry import traits
from ..errors import SpecError, UsageError
from ..jobs.registry import kind_of
from ..model.jobfile import JobFile
from ..planning import batches, estimates, modes
from ..running.events import Fanout
from ..spec import DOTTED_KEY, MAX_SPEC_BYTES, cli_number, declared_multirun, read_text_limited, safe_yaml
from ..store.catalog import MANIFEST
from ..store.fsio import atomic_write, inside
from ..store.journal import read_metadata
from ..store.reader import read_job_body
from ..store.records import stored_points

T = TypeVar("T")

if TYPE_CHECKING:
    from ..model.budget import Budget
    from ..model.plan import JobPlan, Plan
    from ..running.events import Sink
    from .prepare import Prepared

MAX_POINTS = 1000


def narrowed(grid: dict[str, list[object]], overrides: dict[str, object], given: bool) -> dict[str, list[object]]:
    """The grid with each variable an override sets held at that value: `qrun SPEC n=5` of a spec whose multirun:
    block sweeps n runs n=5 (the block's other variables still swept; none left, a run of its own), where it ran the
    block's points and dropped n=5. Against a grid `given` on the command line (-m n=1,2 n=5) the two say different
    things: UsageError."""
    both = [k for k in grid if k in overrides]
    if given and both:
        raise UsageError(
            f"{', '.join(both)}: both swept (-m) and set ({', '.join(f'{k}=...' for k in both)}); drop one"
        )
    if grid and len(both) == len(grid):  # every swept variable set: one run, as the spec without its block runs
        return {}
    return {k: [overrides[k]] if k in overrides else values for k, values in grid.items()}


def declared(spec: str | Path, overrides: dict[str, object]) -> dict[str, list[object]]:
    """The spec's own multirun: block, narrowed by the overrides a run is given."""
    text = read_text_limited(Path(spec), str(spec), MAX_SPEC_BYTES, "specs")
    return narrowed(declared_multirun(str(spec), text), overrides, given=False)


def parse(assignments: list[str]) -> dict[str, list[object]]:
    """-m h=0.25,0.5,1 -m n=4,6 -> {"h": [0.25, 0.5, 1], "n": [4, 6]}; each value typed as a YAML scalar.

    NAME is a template variable, or a dotted path into the spec as --set takes one (-m options.seed=1,2,3);
    VALUES may be range(start, stop[, step]), Python's range: -m options.seed=range(1,4) is 1, 2, 3."""
    grid: dict[str, list[object]] = {}
    for text in assignments:
        key, sep, values = text.partition("=")
        key = key.strip()
        if not sep or not (key.isidentifier() or re.fullmatch(DOTTED_KEY, key)) or not values.strip():
            raise UsageError(
                f"-m {text!r}: expected NAME=V1,V2,... or NAME=range(START,STOP[,STEP]) "
                "(e.g. -m h=0.25,0.5,1, -m options.seed=range(1,4))"
            )
        if any(c in values for c in "\n\r\x00"):
            raise UsageError(f"-m {key}: values are one line")
        if key in grid:  # the later would have replaced the earlier without a word
            raise UsageError(f"-m {text}: {key} is swept twice; give its values once (-m {key}=V1,V2,...)")
        grid[key] = _range(key, values) if values.strip().startswith("range(") else _listed(values, "." in key)
    return grid


def _listed(text: str, flow: bool = False) -> list[object]:
    """The values, split at the commas outside brackets: -m angles=[0.1,0.2],[0.3] is two lists (each then read as
    one where the spec's vars: declares a list). `flow`: a dotted path into the spec takes a flow collection as --set
    does (-m circuits.ghz.layout=[0,1],[2,3])."""
    values, depth, start = [], 0, 0
    for at, c in enumerate(text):
        depth += (c in "[{") - (c in "]}")
        if c == "," and depth <= 0:
            values.append(text[start:at])
            start = at + 1
    return [_scalar(v.strip(), flow) for v in [*values, text[start:]]]


def _range(key: str, text: str) -> list[object]:
    inside = text.strip().removeprefix("range(").removesuffix(")")
    parts = [p.strip() for p in inside.split(",")]
    if not text.strip().endswith(")") or not 1 <= len(parts) <= 3 or not all(_is_int(p) for p in parts):
        raise UsageError(f"-m {key}: {text.strip()!r} is not range(START, STOP[, STEP]) of integers")
    bounds = [int(p) for p in parts]
    if len(bounds) == 3 and bounds[2] == 0:
        raise UsageError(f"-m {key}: a range's step cannot be 0")
    values = range(*bounds)
    if len(values) > MAX_POINTS:
        raise UsageError(f"-m {key}: {text.strip()} has {len(values):,} values, more than {MAX_POINTS:,}")
    if not values:
        raise UsageError(f"-m {key}: {text.strip()} has no values")
    return list(values)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit() and text.isascii()


def _scalar(text: str, flow: bool = False) -> object:
    try:  # with the spec's nesting and alias limits, as --set values are read
        value = safe_yaml("-m", text) if text else ""
    except SpecError:
        return text
    if flow and isinstance(value, (list, dict)):
        return value
    return cli_number(text, value) if isinstance(value, (int, float, str, bool)) else text


def points(grid: dict[str, list[object]]) -> list[dict[str, object]]:
    """Every combination, the last variable fastest; the same value written twice (1 and 1.0) counts once."""
    names = list(grid)
    columns = [list({canonical(v): v for v in grid[n]}.values()) for n in names]
    total = math.prod(len(c) for c in columns)
    if total > MAX_POINTS:
        raise UsageError(f"the multirun has {total:,} points, more than {MAX_POINTS:,}")
    return [dict(zip(names, combo)) for combo in itertools.product(*columns)]


def at_point(point: dict[str, object], make: Callable[[], T]) -> T:
    """make(), a point's check or plan; its SpecError says which point it is of (the spec's lines are every
    point's, and a value that only one point sets is wrong there alone)."""
    try:
        return make()
    except SpecError as e:
        if not point or all(p.message.startswith("-m ") for p in e.problems):  # each names its `-m KEY=VALUE`
            raise
        named = ", ".join(f"{k}={canonical(v)}" for k, v in point.items())
        raise SpecError(e.problems, f"multirun point {named}") from None


def canonical(value: object) -> str:
    """The text that names a value in folders and tables: 1 and 1.0 are both "1", 0.25 is "0.25"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return format(float(value), "g") if math.isfinite(float(value)) else str(value)
    return str(value)


MAX_LABEL = 120  # characters of a point's folder name; file systems allow 255 bytes


def label(point: dict[str, object]) -> str:
    """A point's folder name: h=0.25,n=4 (characters a folder name cannot hold become _)."""
    text = ",".join(f"{k}={canonical(v)}" for k, v in point.items())
    return "".join(c if c.isascii() and (c.isalnum() or c in "=,._-") else "_" for c in text)


def labels(chosen: list[dict[str, object]]) -> list[str]:
    """Every point's folder name, each unique and short: a long value, or two values that read alike once unsafe
    characters become _ (a/b and a_b), get a hash of the point's full text instead of failing at run time."""

    plain = [label(p) for p in chosen]
    out = []
    for point, name in zip(chosen, plain):
        if len(name) > MAX_LABEL or plain.count(name) > 1:
            full = ",".join(f"{k}={canonical(v)}" for k, v in point.items())
            name = f"{name[: MAX_LABEL - 13]}~{hashlib.sha256(full.encode()).hexdigest()[:12]}"
        out.append(name)
    return out


def write_manifest(folder: Path, rows: list[tuple[dict[str, object], str]]) -> None:
    """multirun.json: the points and their folders. Written before the first job, so a killed group can resume."""
    variables = list(rows[0][0]) if rows else []
    manifest = {"variables": variables, "points": [{"variables": p, "run": name} for p, name in rows]}
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def group_name(names: Sequence[str], stem: str) -> str:
    """The spec name a multirun's group folder goes under: its points' one name, or, where a swept variable is part
    of the name (`name: ising-h{{ h }}`: ising-h0.5, ising-h1.0), what every name shares up to its last - or _
    before they differ (ising); the spec file's stem where they share nothing. Before, the group went under its first
    point's name, which named one value for them all."""
    if len(set(names)) == 1:
        return names[0]
    common = os.path.commonprefix(list(names))
    cut = max(common.rfind("-"), common.rfind("_"))
    return common[:cut] if cut > 0 else re.sub(r"[^A-Za-z0-9._-]", "_", stem)


def group_dir(root: Path, name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = inside(root, name, f"multirun-{stamp}-{secrets.token_hex(3)}")
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def by_backend(prepared: Sequence[Prepared]) -> list[list[int]]:
    """The points' indexes on each backend, backends in the order the points first name them: a session or batch is
    on one backend, so each backend's points run together, one backend after another (`-m backend=a,b`)."""
    found: dict[str, list[int]] = {}
    for k, p in enumerate(prepared):
        name = p.plan.backend_name if p.plan is not None else p.checked.experiment.backend  # validate plans none
        found.setdefault(name, []).append(k)
    return list(found.values())


def combine(prepared: list[Prepared], labels: list[str], members: Sequence[int], enforce: bool = True) -> Plan:
    """One plan holding the jobs of the points `members` (indexes into `prepared`, all on one backend), each tagged
    with its point's index in the whole multirun (run_key: its seeds and folder), and one budget over them."""
    plans = [prepared[k].planned for k in members]
    first = plans[0]
    jobs = [dataclasses.replace(j, run_key=k) for k, plan in zip(members, plans) for j in plan.jobs]
    max_time = max(p.max_time for p in plans)
    experiment = prepared[members[0]].checked.experiment
    cut = modes.blocks(experiment.mode, jobs, first.sessions)
    together = batches.of_plan(jobs, cut, first.backend_kind)
    joined = {k for batch in together for k in batch[1:]}
    carrying = [c for k in members for c in prepared[k].carrying]
    for k in joined:
        if carrying[k]:  # its point's first job, in another point's runtime job: that one holds the overhead
            jobs[k].estimate = max(jobs[k].estimate - estimates.JOB_OVERHEAD, 0.0)
    budget = joint_budget(
        [prepared[k] for k in members],
        [labels[k] for k in members],
        [[(j.name, j.estimate) for j in jobs if j.run_key == k] for k in members],
        enforce,
    )
    mode, why = modes.overall(experiment.mode, cut, [j.job for j in jobs], first.sessions)
    return dataclasses.replace(
        first,
        jobs=jobs,
        max_time=max_time,
        budget=budget,
        blocks=cut,
        mode=mode,
        mode_reason=why,
        points=tuple(labels),
        batches=together,
    )


def joint_budget(
    prepared: list[Prepared], labels: list[str], estimated: list[list[tuple[str, float]]], enforce: bool = True
) -> Budget:
    """The budget of every point's jobs in one session (each point's (job, seconds) in `estimated`; the points on one
    backend: by_backend); where `enforce`, SpecError at the first point's max_time where they do not fit: a run,
    `qrun plan` and `qrun validate` give the same verdict."""
    checked = prepared[0].checked
    budget = dataclasses.replace(
        estimates.budget_for(
            checked.experiment,
            checked.backend.kind,
            [(f"{label}/{name}", seconds) for label, jobs in zip(labels, estimated) for name, seconds in jobs],
        ),
        max_time=max(p.checked.experiment.session_seconds for p in prepared),
    )
    if enforce:
        refuse_over(prepared, budget)
    return budget


def refuse_over(prepared: list[Prepared], budget: Budget) -> None:
    """SpecError at the first point's max_time where the budget of its backend's points does not fit."""
    if not budget.fits and not budget.local:
        problem = prepared[0].checked.spec.problem(("max_time",), "over all multirun points: " + budget.explain())
        raise SpecError([problem])


def joint_budgets(prepared: list[Prepared], labels: list[str]) -> None:
    """joint_budget's verdict on each backend's points (validate's and plan's check, as a run makes it: planned
    points as combine() budgets them; points only checked, on their lower bounds, any point's first job counted as
    joining the runtime job before it where the spec allows, as batches.joined_in_spec counts)."""
    for members in by_backend(prepared):
        points = [prepared[k] for k in members]
        if all(p.plan is not None for p in points):
            combine(prepared, labels, members)
            continue
        estimated = [p.estimated for p in points]
        if traits(points[0].checked.backend.kind).device:
            joined = batches.joined_in_spec([j for p in points for j in p.checked.experiment.jobs])
            carrying = [c for p in points for c in p.carrying]
            flat = [s for e in estimated for s in e]
            shared = [(n, 0.0 if k in joined and carrying[k] else s) for k, (n, s) in enumerate(flat)]
            starts = list(itertools.accumulate((len(e) for e in estimated), initial=0))
            estimated = [shared[a:b] for a, b in itertools.pairwise(starts)]
        joint_budget(points, [labels[k] for k in members], estimated)


class Router(Fanout):
    """A fan-out that sends each job's events to its own point's writer only (and to the reporters); session
    events go to every writer. A PUB-batched runtime job that carries jobs of several points is recorded by each
    point's writer with that point's jobs only."""

    def __init__(self, writers: Mapping[int, Sink], others: Sequence[Sink]):
        super().__init__([*writers.values(), *others])  # by point index: a backend's points, where there are several
        self.writers, self.others = dict(writers), list(others)

    def for_jobs(self, jobs: Sequence[JobPlan]) -> list[tuple[Sink, list[JobPlan]]]:
        by_point: dict[int, list[JobPlan]] = {}
        for job in jobs:
            by_point.setdefault(job.run_key, []).append(job)
        every = jobs if isinstance(jobs, list) else list(jobs)
        return [(self.writers[k], mine) for k, mine in by_point.items()] + [(s, every) for s in self.others]


def table(folder: Path, rows: list[tuple[dict[str, object], Path]]) -> None:
    """multirun.csv: one row per value (estimator values, sweep points, minimize optima), the point's variables
    first; multirun.json: the points and their folders."""
    variables = list(rows[0][0]) if rows else []
    header = [*variables, "run", "job", "kind", "observable", "index", "value", "stderr", "exact"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for point, run_dir in rows:
        head = [canonical(point.get(v)) for v in variables] + [run_dir.name]
        for entry in read_metadata(run_dir)["jobs"]:
            body = read_job_body(run_dir, entry)
            for line in _values(body, run_dir) if body is not None else []:
                writer.writerow(head + line)
    atomic_write(folder / "multirun.csv", out.getvalue())
    write_manifest(folder, [(p, d.name) for p, d in rows])


def _values(body: JobFile, run_dir: Path) -> list[list[object]]:
    job, kind = body.get("job"), body.get("primitive")
    if "points" in body or "points_file" in body:
        return [
            [job, kind, p.get("observable", ""), i, p.get("value", ""), p.get("stderr", ""), p.get("exact", "")]
            for i, p in enumerate(stored_points(run_dir, body))
            if "value" in p
        ]
    return kind_of(kind).rows(body) if isinstance(kind, str) else []
