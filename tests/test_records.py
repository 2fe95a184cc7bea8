"""Result files: the runtime's JSON codec round-trips, and the sweep table is tidy CSV."""

import numpy as np

from qrun import records


def test_a_primitive_result_round_trips_through_the_runtime_json_codec():
    from qiskit.primitives import PrimitiveResult, PubResult
    from qiskit.primitives.containers import DataBin

    result = PrimitiveResult(
        [PubResult(DataBin(evs=np.array([0.25, -1.0]), stds=np.array([0.01, 0.02]), shape=(2,)))],
        metadata={"version": 2},
    )
    back = records.from_runtime_json(records.runtime_json(result))
    assert np.array_equal(back[0].data.evs, [0.25, -1.0])
    assert np.array_equal(back[0].data.stds, [0.01, 0.02])
    assert back.metadata == {"version": 2}
