"""The typed experiment: made once from the schema-valid spec, frozen, and holding every field."""

import dataclasses

import pytest
from conftest import EXPERIMENTS

from qrun.jobs.registry import declared, kind_of, units
from qrun.model.experiment import FromJob, Job, Optimizer
from qrun.spec import load
from qrun.spec.build import experiment
from qrun.spec.build import job as build_job


def test_every_job_of_every_example_has_every_field_and_is_frozen():
    names = {f.name for f in dataclasses.fields(Job)}
    for path in sorted(EXPERIMENTS.glob("*.yaml")):
        spec = load(path)
        if "multirun" in spec.data:
            continue
        for job in experiment(spec.data).jobs:
            assert set(vars(job)) == names, (path.name, job.name)
            with pytest.raises(dataclasses.FrozenInstanceError):
                job.name = "other"  # type: ignore[misc]


def test_a_job_written_as_the_one_before_it_but_for_its_name_is_made_as_it_would_be_alone():
    """experiment() copies a job written as the one before it but for its name: each copy equals job() of its own
    text field by field, with its own index, name and text, and frozen; a job that differs anywhere else is made
    anew (its own shots here, and a declared estimate)."""
    written = {"primitive": "estimator", "circuit": "c", "observables": ["z"], "parameter_values": [[0.1, 0.2]]}
    raws = [
        {"name": "a", **written},
        {"name": "b", **written},
        {"name": "c", **written, "estimate": "3s"},
        {"name": "d", **written, "estimate": "3s", "options": {"resilience_level": 1}},
        {"name": "e", **written, "estimate": "3s", "options": {"resilience_level": 1}},
    ]
    typed = experiment({"name": "x", "backend": "aer", "circuits": {"c": {}}, "options": {"seed": 3}, "jobs": raws})
    for i, (made, raw) in enumerate(zip(typed.jobs, raws, strict=True)):
        alone = build_job(i, raw, typed.options)
        assert vars(made) == vars(alone) and made.raw is raw and made.index == i
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.name = "other"  # type: ignore[misc]
    estimates = [(j.name, j.estimate, j.options.payload().get("resilience_level")) for j in typed.jobs]
    assert estimates == [("a", None, None), ("b", None, None), ("c", 3, None), ("d", 3, 1), ("e", 3, 1)]


def test_the_vqe_example_as_typed_data():
    typed = experiment(load(EXPERIMENTS / "vqe.yaml").data)
    vqe, final = typed.jobs
    assert (vqe.primitive, vqe.observables, vqe.source, vqe.exact) == ("minimize", ("h2",), None, -1.857275)
    assert vqe.optimizer == Optimizer("COBYLA", 150, 1.0e-6)
    # what the minimize kind says of it: 150 iterations and a re-estimate of the optimum, 10 s declared per evaluation
    assert (kind_of("minimize").evaluations(vqe, 4), units(vqe, 4), declared(vqe, 4)) == (151, 151, 1510.0)
    assert (units(final, 4), declared(final, 4)) == (1, 30.0)  # its estimate: 30s, for the whole job
    assert (
        kind_of("minimize").session_reason(vqe)
        == "job 'vqe' is a minimize loop: each evaluation waits for the one before"
    )
    assert kind_of("sampler").session_reason(final) is None
    assert (vqe.target_precision(), final.target_precision()) == (0.0001, 0.015625)
    assert (final.parameter_values, final.source, final.measure_all) == (FromJob("vqe"), "vqe", True)
    assert (final.options.seed, final.options.default_shots, final.options.optimization_level) == (42, 2000, 2)
    assert (typed.max_time, typed.session_seconds, typed.mode) == (1800, 1800, "auto")
