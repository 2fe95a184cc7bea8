"""qrun: declarative YAML experiments for Qiskit Runtime."""

__version__ = "0.1.0"

__all__ = ["__version__", "load", "run"]


def load(run_dir):
    """Read a finished run back: metadata, per-job JSON, and qiskit PrimitiveResults via .result(job)."""
    from .results import load as _load

    return _load(run_dir)


def run(spec_path, out="results", **variables):
    """Run a spec from Python (template variables as keywords); returns the run folder."""
    from .pipeline import run as _run

    return _run(spec_path, out, overrides=variables, progress="none")
