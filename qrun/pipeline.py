"""The stages wired together: load -> validate -> plan -> execute -> results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Interrupted, RunError, SpecError

ESTIMATE_SOURCES = ("learned", "declared", "fresh")


@dataclass
class Prepared:
    """A spec that was loaded, checked and planned: everything short of running it."""

    checked: Any
    plan: Any
    warnings: list = field(default_factory=list)

    @property
    def spec(self):
        return self.checked.spec


def check(path: str | Path, overrides: dict[str, Any] | None = None, vars_files: list[str] | None = None):
    """Load and validate a spec; SpecError lists every problem."""
    from .spec import load
    from .validate import validate

    return validate(load(path, overrides, vars_files))


def prepare(path: str | Path, overrides: dict[str, Any] | None = None, vars_files: list[str] | None = None,
            estimates: str = "learned", out: str | Path = "results", enforce_budget: bool = True) -> Prepared:
    """Check and plan a spec; with enforce_budget, a plan whose estimates do not fit max_time is a SpecError."""
    from . import plan as planning
    from .results import history

    checked = check(path, overrides, vars_files)
    past = history(Path(out), checked.spec.data["name"]) if estimates == "learned" else {}
    the_plan = planning.build(checked, source=estimates, history=past)
    if enforce_budget and not the_plan.budget.fits:
        raise SpecError([checked.spec.problem(("max_time",), the_plan.budget.explain())])
    return Prepared(checked, the_plan, estimate_warnings(checked.spec, the_plan))


def estimate_warnings(spec, the_plan) -> list:
    """A declared estimate that a matching earlier run took more than twice as long as: the spec is out of date."""
    from . import durations
    from . import estimates as model

    out = []
    for job in the_plan.jobs:
        if job.estimate_source.startswith("learned") and "estimate" in job.spec:
            declared = model.declared(job.spec, len(job.parameter_names))
            if job.estimate > 2 * declared:
                out.append(spec.problem(("jobs", job.index, "estimate"),
                                        f"warning: a matching earlier run took {durations.format(job.estimate)}, more than "
                                        f"twice the declared {durations.format(declared)}; qrun plans with the learned time"))
    return out


def run(
    path: str | Path,
    out: str | Path = "results",
    overrides: dict[str, Any] | None = None,
    vars_files: list[str] | None = None,
    quiet: bool = False,
    estimates: str = "learned",
) -> Path:
    """Run the spec at `path`; returns the run folder. Raises RunError (its files kept) when a job fails."""
    from .execute import Runner
    from .progress import Reporter
    from .results import RunWriter

    prepared = prepare(path, overrides, vars_files, estimates, out)
    reporter = Reporter(prepared.plan, quiet)
    for warning in prepared.warnings:
        reporter.say(str(warning))
    writer = RunWriter(Path(out), prepared.spec, prepared.plan)
    run_dir = writer.open()
    runner = Runner(prepared.plan, Fanout(writer, reporter))
    try:
        runner.run()
    except RunError as e:
        writer.finish("failed", str(e))
        e.run_dir = run_dir
        raise
    except KeyboardInterrupt:
        writer.finish("interrupted", "interrupted by the user")
        raise Interrupted(f"interrupted; finished jobs are kept in {run_dir}") from None
    except BaseException as e:
        writer.finish("failed", f"{type(e).__name__}: {e}")
        raise
    writer.finish("completed")
    return run_dir


class Fanout:
    """One sink that forwards every event to several."""

    def __init__(self, *sinks: Any):
        self.sinks = sinks

    def __getattr__(self, event: str):
        def forward(*args: Any) -> None:
            for sink in self.sinks:
                handler = getattr(sink, event, None)
                if handler is not None:
                    handler(*args)

        return forward
