"""Result files: the runtime's JSON codec round-trips, and the sweep table is tidy CSV."""

import json

import numpy as np

from qrun.store import records


def test_a_primitive_result_round_trips_through_the_runtime_json_codec():
    from qiskit.primitives import PrimitiveResult, PubResult
    from qiskit.primitives.containers import DataBin

    result = PrimitiveResult(
        [PubResult(DataBin(evs=np.array([0.25, -1.0]), stds=np.array([0.01, 0.02]), shape=(2,)))],
        metadata={"version": 2},
    )
    back = records.from_runtime_json(json.loads(records.runtime_json_text(result)))
    assert np.array_equal(back[0].data.evs, [0.25, -1.0])
    assert np.array_equal(back[0].data.stds, [0.01, 0.02])
    assert back.metadata == {"version": 2}


def _primitive_results():
    """What each local engine returns: Aer's estimator (a 2-D sweep) and sampler, qiskit's backend primitives."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer import AerSimulator
    from qiskit_aer.primitives import EstimatorV2, SamplerV2

    theta = Parameter("t")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    measured = qc.measure_all(inplace=False)
    ops = [[SparsePauliOp("ZZ")], [SparsePauliOp("XI")]]
    values = [[0.1], [0.7], [1.3]]
    yield EstimatorV2(options={"run_options": {"seed_simulator": 1}}).run([(qc, ops, values)]).result()
    yield SamplerV2(default_shots=16, seed=3).run([(measured, values)]).result()
    sim = AerSimulator(seed_simulator=2)
    yield BackendEstimatorV2(backend=sim).run([(qc, SparsePauliOp("ZZ"), [0.4])], precision=0.2).result()
    yield BackendSamplerV2(backend=sim).run([(measured, [0.4])], shots=8).result()


def test_local_results_are_encoded_as_the_runtime_encodes_them():
    # runtime_json_text writes what Aer and qiskit return without importing the runtime; the text must be exactly
    # RuntimeEncoder's, so a run written either way reads back the same.
    from qiskit_ibm_runtime import RuntimeEncoder

    for result in _primitive_results():
        assert records.runtime_json_text(result) == json.dumps(result, cls=RuntimeEncoder)


def test_a_value_only_the_runtime_knows_goes_to_its_encoder():
    import datetime

    from qiskit.primitives import PrimitiveResult

    when = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
    text = records.runtime_json_text(PrimitiveResult([], metadata={"when": when, "set": {3}}))
    assert records.from_runtime_json(json.loads(text)).metadata == {"when": when, "set": {3}}


def test_arrays_are_written_byte_for_byte_as_np_save_writes_them():
    # the header is made once per dtype and shape and reused; the bytes must stay np.save's, twice over
    import io

    arrays = [np.array([0.5, 1.0]), np.zeros((3, 4)), np.zeros((0,)), np.array([[1, 2], [3, 4]], dtype=np.uint8)]
    arrays += [np.zeros((2, 3)).T, np.array(3.0), np.array([True, False]), np.arange(6.0).reshape(2, 3)[:, ::2]]
    for array in arrays + arrays:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        assert records._npy(array) == buffer.getvalue()


def test_a_sampler_records_the_shots_twirling_delivered_not_those_asked(qrun, write_spec, tmp_path):
    """32 randomizations cannot split 1000 shots evenly: the runtime rounds up to 1024 (32 x 32), and the record says
    so, with what was asked beside it."""
    spec = write_spec(
        "version: 1\nname: tw\nbackend: fake_sherbrooke\nmax_time: 10m\n"
        "options: {seed: 3, twirling: {enable_gates: true, num_randomizations: 32}}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; '
        'cx q[0], q[1]; c = measure q;"}\n'
        "jobs:\n  - {name: counts, primitive: sampler, circuit: bell, shots: 1000}\n"
    )
    result = qrun(spec, "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    (run,) = (tmp_path / "r" / "tw").iterdir()
    body = json.loads((run / "jobs" / "00-counts.json").read_text())
    assert (body["shots"], body["shots_requested"], sum(body["counts"]["c"][0].values())) == (1024, 1000, 1024)
