"""Backend names, widths without imports, and the qubit-subset devices that rehearse real-size fake devices."""

import json

import pytest
from conftest import EXPERIMENTS

from qrun import backends
from qrun.errors import BackendError


@pytest.mark.parametrize(
    "name, kind", [("aer", "aer"), ("fake_manila", "fake"), ("ibm_fez", "service"), ("least_busy", "service")]
)
def test_kind_of(name, kind):
    assert backends.kind_of(name) == kind


@pytest.mark.parametrize("name, width", [("fake_manila", 5), ("fake_sherbrooke", 127), ("fake_fez", 156)])
def test_fake_widths_are_read_without_building_the_device(name, width):
    assert backends.fake_width(name) == width
    assert backends.info(name).num_qubits == width


def test_an_unknown_fake_backend_names_close_matches():
    with pytest.raises(BackendError, match="did you mean fake_manila"):
        backends.fake_backend("fake_manilla")


def test_a_subset_device_keeps_exactly_those_qubits_calibration():
    full = backends.fake_backend("fake_sherbrooke")
    small = backends.subset_device(full, [103, 104])
    assert small.num_qubits == 2
    assert sorted(small.coupling_map.get_edges()) == [(1, 0)]  # sherbrooke's ECR runs 104 -> 103
    assert small.qubit_properties(0).t1 == full.qubit_properties(103).t1
    assert small.qubit_properties(1).t2 == full.qubit_properties(104).t2
    assert small.target["ecr"][(1, 0)].error == full.target["ecr"][(104, 103)].error
    assert small.target["measure"][(0,)].error == full.target["measure"][(103,)].error
    assert small.target["sx"][(1,)].duration == full.target["sx"][(104,)].duration


@pytest.mark.parametrize("name", ["aer", "Aer", "AerSimulator", "aer_simulator", "aer-simulator"])
def test_the_names_people_give_aer_run_locally(qrun, tmp_path, name):
    spec = tmp_path / "s.yaml"
    spec.write_text((EXPERIMENTS / "bell.yaml").read_text().replace("backend: aer", f"backend: {name}"))
    assert qrun("validate", spec).code == 0
    if name != "AerSimulator":
        assert backends.kind_of(name) == "aer"
        return  # one of them is run: the names all reach the same kind
    ran = qrun(spec, "--out", tmp_path / "r", "-q")
    assert ran.code == 0, ran.err
    (run,) = (tmp_path / "r" / "bell").iterdir()
    counts = json.loads(next((run / "jobs").glob("*.json")).read_text())["counts"]["c"][0]
    assert set(counts) == {"00", "11"}  # a Bell pair on the noiseless simulator, not a service call


@pytest.mark.parametrize("name, meant", [("aer_simulatr", "aer_simulator"), ("least_bussy", "least_busy")])
def test_a_typo_of_a_local_name_is_not_taken_for_a_device(qrun, write_spec, name, meant):
    spec = write_spec(
        f"version: 1\nname: t\nbackend: {name}\nmax_time: 1m\n"
        'circuits:\n  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; c = measure q;"}\n'
        "jobs:\n  - {name: j, primitive: sampler, circuit: b, shots: 10}\n"
    )
    done = qrun("validate", spec)
    assert (done.code, done.err.splitlines()[0]) == (
        2,
        f"{spec}:3:10: backend: unknown backend '{name}'; did you mean {meant}?",
    )
