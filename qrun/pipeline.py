"""The stages wired together: load -> validate -> plan -> execute -> results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import Interrupted, RunError


def check(path: str | Path, overrides: dict[str, Any] | None = None, vars_files: list[str] | None = None):
    """Load and validate a spec; SpecError lists every problem."""
    from .spec import load
    from .validate import validate

    return validate(load(path, overrides, vars_files))


def run(
    path: str | Path,
    out: str | Path = "results",
    overrides: dict[str, Any] | None = None,
    vars_files: list[str] | None = None,
    quiet: bool = False,
) -> Path:
    """Run the spec at `path`; returns the run folder. Raises RunError (its files kept) when a job fails."""
    from . import plan as planning
    from .execute import Runner
    from .progress import Reporter
    from .results import RunWriter

    checked = check(path, overrides, vars_files)
    the_plan = planning.build(checked)
    writer = RunWriter(Path(out), checked.spec, the_plan)
    run_dir = writer.open()
    runner = Runner(the_plan, Fanout(writer, Reporter(the_plan, quiet)))
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


