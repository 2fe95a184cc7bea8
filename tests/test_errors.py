"""Every error class lives in errors.py with its exit code, and the CLI maps each to that code."""

import inspect

import pytest

from qrun import errors
from qrun.errors import Problem, ServiceJobError, SpecError


def test_exit_codes_are_the_documented_ones():
    assert (errors.EXIT_OK, errors.EXIT_FAILED, errors.EXIT_USAGE, errors.EXIT_INTERNAL, errors.EXIT_INTERRUPTED) == (
        0,
        1,
        2,
        3,
        130,
    )
    codes = {
        name: cls.exit_code
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.QrunError)
    }
    assert codes == {
        "QrunError": 1,
        "UsageError": 2,
        "SpecError": 2,
        "SpecsInvalid": 2,
        "BackendError": 2,
        "RunError": 1,
        "ClusterError": 1,
        "ServiceError": 1,
        "PreflightError": 1,
        "OpenPlanError": 2,
        "ServiceJobError": 1,
        "ResultsError": 1,
        "RunFolderError": 2,
        "JobKindError": 2,
        "PlotError": 2,
        "ExportError": 1,
        "MissingExtraError": 1,
        "Interrupted": 130,
    }


def test_no_other_module_defines_an_error_class():
    """(the runner's private _Stop is control flow inside minimize, never seen by a user.)"""
    import pathlib
    import re

    package = pathlib.Path(errors.__file__).parent
    offenders = [
        p.name
        for p in package.glob("*.py")
        if p.name != "errors.py" and re.search(r"^class \w*(Error|Invalid|Interrupted)\b", p.read_text(), re.M)
    ]
    assert offenders == []


def test_a_spec_error_lists_its_problems_sorted_by_position():
    e = SpecError([Problem("s.yaml", 9, 3, "jobs[1].shots", "too many"), Problem("s.yaml", 2, 1, "name", "bad")])
    assert str(e) == "s.yaml:2:1: name: bad\ns.yaml:9:3: jobs[1].shots: too many"


def test_a_problem_without_a_column_or_a_path_still_reads_well():
    assert str(Problem("s.yaml", 4, 0, "", "empty")) == "s.yaml:4: empty"


def test_a_service_job_error_names_the_backend_the_job_and_the_reason_without_quotes():
    e = ServiceJobError("ibm_fez", "job-1", RuntimeError("'Unable to retrieve job result. Error code 1517; deep'"))
    assert str(e) == "runtime job job-1 on ibm_fez: Unable to retrieve job result. Error code 1517; deep"
    assert (e.backend, e.job_id, e.exit_code) == ("ibm_fez", "job-1", 1)


@pytest.mark.parametrize("error, code", [(OSError(30, "Read-only file system", "/ro/x"), 1)])
def test_an_environment_failure_is_one_line_naming_the_path(qrun, monkeypatch, error, code):
    def fail(*a, **k):
        raise error

    monkeypatch.setattr("qrun.app.prepare.check", fail)
    monkeypatch.setattr("qrun.app.prepare.prepare", fail)
    from conftest import EXPERIMENTS

    result = qrun(EXPERIMENTS / "bell.yaml")
    assert result.code == code
    assert result.err == "qrun: /ro/x: Read-only file system\n"
