"""Backend names, widths without imports, and the qubit-subset devices that rehearse real-size fake devices."""

import pytest

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
