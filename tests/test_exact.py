"""exact: statevector: references computed by qrun match values worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

H2 = (
    "[[II, -1.052373245772859], [IZ, 0.39793742484318045], [ZI, -0.39793742484318045], "
    "[ZZ, -0.01128010425623538], [XX, 0.18093119978423156]]"
)
SPEC = f"""version: 1
name: ex
backend: aer
max_time: 10m
options: {{seed: 3, default_precision: 0.02}}
circuits:
  bell: {{qasm: 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;'}}
  one: {{library: real_amplitudes, args: {{num_qubits: 1, reps: 1}}}}
  two: {{library: real_amplitudes, args: {{num_qubits: 2, reps: 1}}}}
observables:
  zz: ZZ
  zi: ZI
  xx: XX
  z: Z
  h2: {{terms: {H2}, unit: Ha}}
jobs:
  - {{name: bell-e, primitive: estimator, circuit: bell, observables: [zz, zi, xx], exact: statevector}}
  - {{name: rot, primitive: estimator, circuit: one, observables: [z], parameter_values: [[0.3, 0.4], [1.0, 2.0]],
     exact: statevector}}
  - {{name: sweep, primitive: estimator, circuit: one, observables: [z], parameter_values: [[0.0, 0.0]],
     sweep: {{values: {{'θ[0]': [0.0, 1.0, 2.0]}}}}, exact: statevector}}
  - {{name: vqe, primitive: minimize, circuit: two, observables: [h2], optimizer: {{maxiter: 5}}, exact: statevector}}
  - {{name: counts, primitive: sampler, circuit: bell, shots: 200, exact: statevector}}
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from qrun.app.pipeline import run

    folder = tmp_path_factory.mktemp("exact")
    spec = folder / "ex.yaml"
    spec.write_text(SPEC)
    return run(spec, folder / "r", progress="none")


def _job(run_dir, name):
    return next(json.loads(p.read_text()) for p in (run_dir / "jobs").glob(f"*-{name}.json"))


def test_estimator_references_are_the_textbook_values(run_dir):
    bell = _job(run_dir, "bell-e")["observables"]
    # the Bell state (|00> + |11>)/sqrt 2: <ZZ> = <XX> = 1, <ZI> = 0
    assert bell["zz"]["exact"] == [pytest.approx(1.0, abs=1e-12)]
    assert bell["zi"]["exact"] == [pytest.approx(0.0, abs=1e-12)]
    assert bell["xx"]["exact"] == [pytest.approx(1.0, abs=1e-12)]
    # real_amplitudes(1, reps=1) is RY(a) then RY(b): <Z> = cos(a + b)
    rot = _job(run_dir, "rot")["observables"]["z"]
    assert rot["exact"] == [pytest.approx(math.cos(0.7), abs=1e-12), pytest.approx(math.cos(3.0), abs=1e-12)]
    # and the noisy values sit within 4 standard errors of them
    for v, s, e in zip(rot["values"], rot["stderrs"], rot["exact"]):
        assert abs(v - e) < 4 * s


def test_every_sweep_point_carries_its_reference(run_dir):
    points = _job(run_dir, "sweep")["points"]
    assert [p["exact"] for p in points] == [pytest.approx(math.cos(t), abs=1e-12) for t in (0.0, 1.0, 2.0)]
    # the tidy table has it beside each value, as the points do
    header, *rows = (run_dir / "jobs" / "02-sweep.csv").read_text().splitlines()
    assert header == "θ[0],observable,value,stderr,exact"
    assert [float(row.split(",")[-1]) for row in rows] == [p["exact"] for p in points]


def test_minimize_gets_the_ground_energy_and_units_are_kept(run_dir):
    vqe = _job(run_dir, "vqe")
    assert vqe["exact"] == pytest.approx(-1.857275, abs=1e-6)  # H2 at 0.735 Å, the known ground energy


def test_the_sampler_gets_the_ideal_distribution(run_dir):
    counts = _job(run_dir, "counts")
    assert counts["ideal"] == {"c": [{"00": pytest.approx(0.5), "11": pytest.approx(0.5)}]}


def test_show_prints_the_deviation_in_standard_errors(run_dir):
    from qrun.store.reader import load
    from qrun.views.report import summary

    text = summary(load(run_dir))
    rot = _job(run_dir, "rot")["observables"]["z"]
    z = (rot["values"][0] - rot["exact"][0]) / rot["stderrs"][0]
    assert f"(exact {math.cos(0.7):.6g}, {z:+.1f}σ)" in text
    assert "(exact -1.85728, " in text


def test_statevector_is_refused_past_20_qubits(qrun, write_spec):
    spec = write_spec("""version: 1
name: wide
backend: aer
max_time: 10m
circuits:
  w: {library: real_amplitudes, args: {num_qubits: 21, reps: 1}}
observables:
  z: {terms: [[ZIIIIIIIIIIIIIIIIIIII, 1.0]]}
jobs:
  - {name: e, primitive: estimator, circuit: w, observables: [z], exact: statevector,
     parameter_values: {from: nowhere}}
""")
    result = qrun("validate", spec)
    assert result.code == 2
    refused = (
        f"{spec}:10:74: jobs[0].exact: exact: statevector simulates at most 20 qubits; circuit 'w' has 21; "
        "give the exact value as a number"
    )
    # the circuit may be a Clifford one at the values given, whose value the tableau gives at any width
    assert f"{refused} (or exact: stabilizer, for a Clifford circuit)" in result.err.splitlines()
    tee = spec.read_text().replace(
        "{library: real_amplitudes, args: {num_qubits: 21, reps: 1}}",
        '{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[21] q; t q[0];"}',
    )
    built = qrun("validate", "--deep", write_spec(tee))  # built: a T gate is no Clifford gate at any value
    assert refused in built.err.splitlines()


def test_an_expectation_value_asked_again_is_the_same_and_each_row_gets_its_own(monkeypatch):
    """<Z> of ry(t)|0> is cos t: asked twice for one row (jobs that differ only in name) and once each for others,
    past the memo's size and with another circuit asked in between, every value is the statevector's."""
    import math

    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.quantum_info import SparsePauliOp

    from qrun.sources import exact

    monkeypatch.setattr(exact, "MEMO_SIZE", 2)
    t = Parameter("t")
    qc = QuantumCircuit(1)
    qc.ry(t, 0)
    z, x = SparsePauliOp("Z"), SparsePauliOp("X")
    flipped = QuantumCircuit(1)  # another circuit, asked in between: <Z> of ry(t) then x is -cos t
    flipped.ry(t, 0)
    flipped.x(0)
    for row in ([0.3], [0.3], [1.1], [2.0], [0.3]):
        assert exact.expectation(qc, z, ["t"], row) == pytest.approx(math.cos(row[0]), abs=1e-12)
        assert exact.expectation(qc, x, ["t"], row) == pytest.approx(math.sin(row[0]), abs=1e-12)
        assert exact.expectation(flipped, z, ["t"], row) == pytest.approx(-math.cos(row[0]), abs=1e-12)


def test_a_zero_is_stored_as_zero_not_as_its_rounding_noise():
    """<Z1 Z0> of zz_feature_map(3) at x = (0.1, 0.2, 0.3) is 0 (each qubit's H leaves it unbiased), which the
    statevector gives as 2.8e-17 and every headline showed as `exact 2.77556e-17`; a small value of a small
    observable is kept, the tolerance being relative to the observable's size."""
    import math

    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.circuit.library import zz_feature_map
    from qiskit.quantum_info import SparsePauliOp

    from qrun.sources import exact

    fm = zz_feature_map(3, reps=1)
    names = [p.name for p in fm.parameters]
    assert exact.expectation(fm, SparsePauliOp("IZZ"), names, [0.1, 0.2, 0.3]) == 0.0
    t = Parameter("t")
    qc = QuantumCircuit(1)
    qc.ry(t, 0)
    tiny = SparsePauliOp("Z", coeffs=[1e-9])
    assert exact.expectation(qc, tiny, ["t"], [math.pi / 3]) == pytest.approx(0.5e-9, rel=1e-9)


EVOLUTION = """\
from qiskit import QuantumCircuit
from qiskit.circuit.library import PauliEvolutionGate
from qiskit.quantum_info import SparsePauliOp


def evolved(t):
    qc = QuantumCircuit(3)
    qc.h(range(3))
    qc.append(PauliEvolutionGate(SparsePauliOp(["ZZI", "IZZ", "XII"]), time=t), range(3))
    return qc
"""


def test_a_pauli_evolution_gates_reference_is_the_product_the_backend_runs(qrun, write_spec, tmp_path):
    """qiskit's Statevector took exp(-itH) exactly, where the transpiler builds the gate's Lie-Trotter product: a
    noiseless aer run read +12σ from its "exact" value (0.53 against 0.29), the Trotter error shown as the backend's."""
    import numpy as np
    from qiskit.quantum_info import Pauli
    from scipy.linalg import expm

    (tmp_path / "evo.py").write_text(EVOLUTION)
    spec = write_spec(
        "version: 1\nname: evo\nbackend: aer\nmax_time: 10m\nallow_python: true\noptions: {seed: 4}\n"
        'circuits:\n  c: {python: "evo.py:evolved", args: {t: 0.4}}\nobservables:\n  zz: ZZI\njobs:\n'
        "  - {name: e, primitive: estimator, circuit: c, observables: [zz], precision: 0.01, exact: statevector}\n"
    )
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    body = json.loads(next((tmp_path / "r" / "evo").glob("*/jobs/*-e.json")).read_text())["observables"]["zz"]

    def matrix(label: str) -> np.ndarray:
        return Pauli(label).to_matrix()

    plus = np.full(8, 8**-0.5, dtype=complex)  # h on every qubit of |000>
    trotter = plus
    for term in ("ZZI", "IZZ", "XII"):  # each term's exponential in turn, the first first
        trotter = expm(-0.4j * matrix(term)) @ trotter
    exact = expm(-0.4j * (matrix("ZZI") + matrix("IZZ") + matrix("XII"))) @ plus

    def zz(state: np.ndarray) -> float:
        return float(np.real(state.conj() @ matrix("ZZI") @ state))

    assert zz(trotter) == pytest.approx(0.51460, abs=1e-5) and zz(exact) == pytest.approx(0.28729, abs=1e-5)
    assert body["exact"][0] == pytest.approx(zz(trotter), abs=1e-9)
    assert body["values"][0] == pytest.approx(zz(trotter), abs=5 * 0.01)  # the noiseless run, within 5σ


def test_a_samplers_ideal_distribution_is_qiskits_probabilities_dict_by_register():
    """ideal_counts reads each register's probabilities without qiskit's array of every outcome's digits (which took
    a 20-qubit register gigabytes): the same outcomes, keyed and ordered as probabilities_dict keys them, the same
    probabilities to 1e-14, on random circuits whose registers measure any of their qubits in any order."""
    from qiskit import ClassicalRegister
    from qiskit.circuit.random import random_circuit
    from qiskit.quantum_info import Statevector

    from qrun.sources import exact, stabilizer

    rng = np.random.default_rng(11)
    for _ in range(60):
        n = int(rng.integers(1, 8))
        qc = random_circuit(n, 3, seed=int(rng.integers(2**31)))
        for name in ("a", "b")[: int(rng.integers(1, 3))]:
            register = ClassicalRegister(int(rng.integers(1, n + 1)), name)
            qc.add_register(register)
            qc.measure([int(q) for q in rng.choice(n, register.size, replace=False)], register)
        state = Statevector(qc.remove_final_measurements(inplace=False))
        want = {
            register: {str(k): v for k, v in sorted(state.probabilities_dict(qargs=qargs).items()) if v > 1e-12}
            for register, qargs in stabilizer.measured_registers(qc).items()
        }
        got = exact.ideal_counts(qc, [], [])
        assert [(r, list(p)) for r, p in got.items()] == [(r, list(p)) for r, p in want.items()]
        assert all(got[r][k] == pytest.approx(want[r][k], abs=1e-14) for r in got for k in got[r])


def test_ideal_distributions_a_job_file_cannot_keep_are_refused_before_the_run(qrun, write_spec, tmp_path):
    """12 parameter sets of a 20-qubit sampler with exact: statevector listed 12.6 million outcomes, a 410 MB job file
    that qrun then refused to read as damaged (exit 2 after the run). Refused alike by validate and a run now, with
    what to do; three sets, 3.1 million outcomes at most, are within the bound. Counts alone list as many: 100 sets of
    100,000 shots on 20 qubits did the same, and are refused at their shots."""
    text = (
        "version: 1\nname: wide\nbackend: aer\noptions: {seed: 1}\ncircuits:\n"
        '  r: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[20] q; h q; rz(a) q; ry(a) q;"}\n'
        "jobs:\n  - {name: s, primitive: sampler, circuit: r, measure_all: true, shots: 100, exact: statevector, "
        "parameter_values: {a: ANGLES}}\n"
    )
    spec = write_spec(text.replace("ANGLES", str([k / 10 for k in range(12)])))
    message = (
        f"{spec}:8:85: jobs[0].exact: exact: statevector lists each parameter set's ideal distribution beside its "
        "counts, up to 1,048,676 outcomes (register 'meas' has 20 bits) in each of 12: 12,584,112 in all, more than the "
        "4,194,304 a job's file keeps; give fewer parameter sets or measure fewer qubits, use exact: stabilizer for a "
        "Clifford circuit (it lists only the outcomes the state allows), or leave exact out"
    )
    for said in (qrun("validate", spec), qrun(spec, "--out", tmp_path / "r")):
        assert (said.code, said.err.splitlines()[0]) == (2, message)
    assert not (tmp_path / "r").exists()
    assert qrun("validate", write_spec(text.replace("ANGLES", "[0.1, 0.2, 0.3]"))).code == 0
    counted = write_spec(
        text.replace(", exact: statevector", "")
        .replace("shots: 100,", "shots: 100000,")
        .replace("ANGLES", str([k / 100 for k in range(100)]))
    )
    message = (
        f"{counted}:8:73: jobs[0].shots: each parameter set's counts may list up to 100,000 outcomes (register 'meas' "
        "has 20 bits; 100,000 shots) in each of 100: 10,000,000 in all, more than the 4,194,304 a job's file keeps; "
        "give fewer parameter sets or shots, measure fewer qubits, or split the parameter sets over several jobs"
    )
    for said in (qrun("validate", counted), qrun(counted, "--out", tmp_path / "r")):
        assert (said.code, said.err.splitlines()[0]) == (2, message)
    assert not (tmp_path / "r").exists()


def test_a_wide_circuits_gates_merged_before_its_state_give_the_unmerged_states_values():
    """From 14 qubits qrun merges runs of gates on one or two qubits into one unitary each before evolving the state
    (a layered 20-qubit circuit about ten times faster): <O> and the ideal distribution of random circuits of one- to
    three-qubit gates, with a barrier and a delay, equal qiskit's Statevector of the circuit as written to 1e-12."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.random import random_circuit
    from qiskit.quantum_info import SparsePauliOp, Statevector

    from qrun.sources import exact

    rng = np.random.default_rng(5)
    for n in (14, 15):
        qc = random_circuit(n, 4, max_operands=3, seed=int(rng.integers(2**31)))
        qc.barrier()
        qc.delay(100, 0)
        qc.compose(random_circuit(n, 2, max_operands=2, seed=int(rng.integers(2**31))), inplace=True)
        assert exact.fused(qc).size() < qc.size()  # merged: the case this test is about
        labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(3)]
        op = SparsePauliOp(labels, coeffs=[0.5, -1.0, 0.25])
        state = Statevector(qc)
        assert exact.expectation(qc, op, [], []) == pytest.approx(float(state.expectation_value(op).real), abs=1e-12)
        measured = QuantumCircuit(n, n)
        measured.compose(qc, inplace=True)
        measured.measure(range(n), range(n))
        ideal = exact.ideal_counts(measured, [], [])["c"]
        want = {k: v for k, v in state.probabilities_dict().items() if v > 1e-12}
        assert set(ideal) == set(want)
        assert max(abs(ideal[k] - want[k]) for k in want) < 1e-12
