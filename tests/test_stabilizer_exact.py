"""exact: stabilizer: references of Clifford circuits at any width, against qiskit's Statevector where one fits, and
against the values a GHZ state has by theory where none does; refusals verbatim, the same from validate and a run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from fake_runtime import Cloud, install

from qrun.sources import exact, stabilizer


def _random_clifford_circuit(rng: np.random.Generator):
    """A random Clifford circuit of 1-6 qubits whose qubits are measured into one or two registers (some, in any
    order, some twice)."""
    from qiskit import ClassicalRegister, QuantumCircuit
    from qiskit.quantum_info import random_clifford

    n = int(rng.integers(1, 7))
    qc = QuantumCircuit(n)
    qc.compose(random_clifford(n, seed=int(rng.integers(2**31))).to_circuit(), inplace=True)
    for name in ("a", "b")[: int(rng.integers(1, 3))]:
        k = int(rng.integers(1, n + 1))
        register = ClassicalRegister(k, name)
        qc.add_register(register)
        qc.measure([int(q) for q in rng.choice(n, k, replace=False)], register)
    return qc


def test_the_ideal_distribution_from_the_tableau_is_the_statevectors_on_random_clifford_circuits():
    rng = np.random.default_rng(2026)
    for _ in range(200):
        qc = _random_clifford_circuit(rng)
        by_tableau = stabilizer.ideal_counts(qc)
        by_state = exact.ideal_counts(qc, [], [])
        assert by_tableau.keys() == by_state.keys()
        for register, probabilities in by_state.items():
            assert by_tableau[register] == pytest.approx(probabilities, abs=1e-12), qc


def test_expectation_values_by_tableau_are_the_statevectors_on_random_clifford_circuits():
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, Statevector, random_clifford, random_pauli_list

    rng = np.random.default_rng(7)
    for k in range(60):
        n = int(rng.integers(1, 7))
        qc = QuantumCircuit(n)
        qc.compose(random_clifford(n, seed=k).to_circuit(), inplace=True)
        paulis = random_pauli_list(n, 4, seed=k, phase=False)
        op = SparsePauliOp(paulis, rng.normal(size=4))
        expected = float(Statevector(qc).expectation_value(op).real)
        assert exact.expectation(qc, op, [], [], "stabilizer") == pytest.approx(expected, abs=1e-12)


def _ghz(n: int, phase_on: int | None = None):
    """An n-qubit GHZ chain, with rz(a) on one qubit where asked."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    if phase_on is not None:
        qc.rz(Parameter("a"), phase_on)
    return qc


@pytest.mark.parametrize("n", [127, 156])
def test_a_device_wide_ghz_state_has_its_textbook_values_with_no_amplitude_formed(n):
    from qiskit.quantum_info import SparsePauliOp

    qc = _ghz(n, phase_on=7)
    xs = SparsePauliOp("X" * n)
    ends = SparsePauliOp.from_sparse_list([("ZZ", [0, n - 1], 1.0)], n)
    # (|0..0> + e^{ia}|1..1>)/sqrt 2: <X..X> = cos a, <Z0 Z(n-1)> = 1
    for a in (0.0, math.pi / 2, math.pi, 3 * math.pi / 2):
        assert exact.expectation(qc, xs, ["a"], [a], "stabilizer") == pytest.approx(math.cos(a), abs=1e-12)
        assert exact.expectation(qc, ends, ["a"], [a], "stabilizer") == 1.0
    measured = _ghz(n)
    measured.x(5)
    measured.measure_all()
    flipped = "".join("1" if q == 5 else "0" for q in reversed(range(n)))
    assert exact.ideal_counts(measured, [], [], "stabilizer") == {
        "meas": {flipped: 0.5, "".join("1" if q != 5 else "0" for q in reversed(range(n))): 0.5}
    }


def test_a_gate_qiskit_reads_as_clifford_within_its_tolerance_is_refused():
    """qiskit's Clifford takes rx(0.001) for the identity (it reads the gate's matrix within a tolerance): an exact
    reference must not."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Clifford

    qc = QuantumCircuit(1)
    qc.rx(0.001, 0)
    Clifford(qc)  # qiskit accepts it
    assert stabilizer.non_clifford(qc) == "rx(0.001) on qubit 0 is not a Clifford gate"
    wide = _ghz(127, phase_on=3)
    assert stabilizer.row_refusal(wide, ["a"], [[0.0], [math.pi], [math.pi + 1e-6]], False) == (
        "parameter set 2 makes rz(3.14159) on qubit 3 non-Clifford (angles must be multiples of π/2)"
    )


def test_a_thousand_rows_of_a_layered_device_wide_circuit_are_checked_by_kind_of_gate():
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    h = Parameter("h")
    qc = QuantumCircuit(127)
    for _ in range(5):  # a kicked Ising step: rx(h) on every qubit, then rzz(-π/2) on the pairs
        qc.rx(h, range(127))
        for i in range(0, 126, 2):
            qc.rzz(-math.pi / 2, i, i + 1)
    rows = [[k * math.pi / 2] for k in range(1000)]
    assert stabilizer.row_refusal(qc, ["h"], rows, False) == ""
    rows[500] = [0.3]
    assert stabilizer.row_refusal(qc, ["h"], rows, False) == (
        "parameter set 500 makes rx(0.3) on qubit 0 non-Clifford (angles must be multiples of π/2)"
    )


def _clifford(backend: str, n: int = 8, options: str = "", estimate: str = "") -> str:
    """A spec of an n-qubit GHZ chain with rz(a) on qubit 3: an estimator over rows, a sampler, then (on a fake
    device) a sweep and a ladder of a 3-qubit Clifford circuit."""
    return f"""version: 1
name: clifford
backend: {backend}
max_time: 30m
options: {{seed: 5, default_precision: 0.03{options}}}
circuits:
  ghz:
    qasm: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float a;
      qubit[{n}] q;
      h q[0];
      for int i in [0:{n - 2}] {{ cx q[i], q[i + 1]; }}
      rz(a) q[3];
  mirror:
    qasm: |
      OPENQASM 3.0; include "stdgates.inc"; qubit[3] q;
      h q[0]; cx q[0], q[1]; s q[1]; cx q[1], q[2]; sdg q[1]; cx q[0], q[1]; h q[0];
observables:
  x-all: {"X" * n}
  z-ends: Z0 Z{n - 1}
  zzz: Z0 Z1 Z2
jobs:
  - {{name: rows, primitive: estimator, circuit: ghz, observables: [x-all, z-ends],
     parameter_values: [[0], [1.5707963267948966], [3.141592653589793]], exact: stabilizer{estimate}}}
  - {{name: counts, primitive: sampler, circuit: ghz, measure_all: true, shots: 2000, parameter_values: [[0]],
     exact: stabilizer{estimate}}}
"""


FAKE_ONLY = """  - {name: swept, primitive: estimator, circuit: ghz, observables: [x-all],
     sweep: {values: {a: [0, 3.141592653589793]}}, exact: stabilizer}
  - {name: climb, primitive: ladder, circuit: mirror, observables: [zzz], rungs: [raw, trex], exact: stabilizer}
  - {name: swept-counts, primitive: sampler, circuit: ghz, measure_all: true, shots: 500, exact: stabilizer,
     sweep: {values: {a: [0, 3.141592653589793]}}}
"""


def _jobs(run_dir) -> dict[str, dict]:
    return {json.loads(p.read_text())["job"]: json.loads(p.read_text()) for p in (run_dir / "jobs").glob("*.json")}


@pytest.mark.slow  # a whole experiment per device: `make test` stays well under its 3 minutes
@pytest.mark.parametrize("backend", ["fake_fez", "fake_sherbrooke"])
def test_every_kind_gets_its_references_from_the_tableau_on_a_noisy_device(tmp_path, backend):
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, Statevector

    from qrun.app.pipeline import run

    spec = tmp_path / "clifford.yaml"
    spec.write_text(_clifford(backend) + FAKE_ONLY)
    jobs = _jobs(run(spec, tmp_path / "results", progress="none"))
    rows = jobs["rows"]["observables"]
    assert rows["x-all"]["exact"] == [1.0, 0.0, -1.0]  # (|0..0> + e^{ia}|1..1>)/sqrt 2: <X..X> = cos a
    assert rows["z-ends"]["exact"] == [1.0, 1.0, 1.0]
    assert [p["exact"] for p in jobs["swept"]["points"]] == [1.0, -1.0]
    assert jobs["counts"]["ideal"] == {"meas": [{"00000000": 0.5, "11111111": 0.5}]}
    assert [p["ideal"] for p in jobs["swept-counts"]["points"]] == [{"meas": {"00000000": 0.5, "11111111": 0.5}}] * 2
    mirror = QuantumCircuit(3)
    mirror.h(0), mirror.cx(0, 1), mirror.s(1), mirror.cx(1, 2), mirror.sdg(1), mirror.cx(0, 1), mirror.h(0)
    zzz = float(Statevector(mirror).expectation_value(SparsePauliOp("ZZZ")).real)
    assert [r["observables"]["zzz"]["exact"] for r in jobs["climb"]["rungs"]] == [[pytest.approx(zzz, abs=1e-12)]] * 2
    # the noisy device's values sit near them (readout and gate errors; σ from the precision asked)
    assert rows["x-all"]["values"][0] == pytest.approx(1.0, abs=0.25)


def test_a_circuit_wider_than_any_statevector_on_a_127_qubit_service_device(monkeypatch, qrun, tmp_path):
    """The IBM path through the runtime's real classes (only the REST transport replaced): a 100-qubit GHZ state,
    past exact: statevector's 20 qubits, gets its references from the tableau."""
    from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

    from qrun.app.pipeline import run

    cloud = Cloud({"ibm_sherbrooke": FakeSherbrooke()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    spec = tmp_path / "wide.yaml"
    spec.write_text(_clifford("ibm_sherbrooke", 100, ", resilience_level: 0", ", estimate: 10s"))
    jobs = _jobs(run(spec, tmp_path / "results", progress="none", clock=cloud.clock))
    rows = jobs["rows"]["observables"]
    assert rows["x-all"]["exact"] == [1.0, 0.0, -1.0]
    assert rows["z-ends"]["exact"] == [1.0, 1.0, 1.0]
    # the stand-in is noiseless: each value within 4σ of its reference (σ 0 where the state gives one outcome)
    for v, s, e in zip(rows["x-all"]["values"], rows["x-all"]["stderrs"], rows["x-all"]["exact"]):
        assert abs(v - e) <= 4 * s + 1e-9
    assert jobs["counts"]["ideal"] == {"meas": [{"0" * 100: 0.5, "1" * 100: 0.5}]}
    assert set(jobs["counts"]["counts"]["meas"][0]) == {"0" * 100, "1" * 100}


# The head and circuits the refused spec and the rows' spec share
_ROT = '  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[2] q; h q[0]; rz(2 * a) q[1];"}\n'
_PLUS = '  plus: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[20] q; h q;"}\n'


def _on_fez(name: str, circuits: str) -> str:
    return f"version: 1\nname: {name}\nbackend: fake_fez\nmax_time: 30m\ncircuits:\n{circuits}observables:\n  zz: ZZ\n"


REFUSED = (
    _on_fez(
        "refused",
        '  tee: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; t q[1]; cx q[0], q[1];"}\n'
        + _ROT
        + '  mid: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[1] c; h q[0]; c[0] = measure q[0]; x q[0];"}\n'
        + _PLUS,
    )
    + """jobs:
  - {name: t, primitive: estimator, circuit: tee, observables: [zz], exact: stabilizer}
  - {name: mid, primitive: estimator, circuit: mid, observables: [zz], exact: stabilizer}
  - {name: vqe, primitive: minimize, circuit: rot, observables: [zz], exact: stabilizer}
  - {name: after, primitive: estimator, circuit: rot, observables: [zz], parameter_values: {from: vqe},
     exact: stabilizer}
"""
)
ROWS = (
    _on_fez("rows", _ROT + _PLUS)
    + """jobs:
  - {name: r, primitive: estimator, circuit: rot, observables: [zz], parameter_values: [[0.7853981633974483], [0.2]],
     exact: stabilizer}
  - {name: s, primitive: estimator, circuit: rot, observables: [zz], sweep: {values: {a: [0, 0.5]}}, exact: stabilizer}
  - {name: p, primitive: sampler, circuit: plus, measure_all: true, exact: stabilizer}
"""
)


RANDOM = """version: 1
name: random
backend: aer
max_time: 10m
circuits:
  r: {random: {num_qubits: 3, depth: 3, seed: 4}}
observables:
  z: ZII
jobs:
  - {name: e, primitive: estimator, circuit: r, observables: [z], exact: stabilizer}
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            REFUSED,
            "refused.yaml:13:77: jobs[0].exact: exact: stabilizer needs a Clifford circuit; in circuit 'tee', t on "
            "qubit 1 is not a Clifford gate; use exact: statevector (up to 20 qubits)\n"
            "refused.yaml:14:79: jobs[1].exact: exact: stabilizer needs a Clifford circuit; in circuit 'mid', a "
            "stabilizer tableau does not follow its mid-circuit measurements, resets or control flow; use exact: "
            "statevector (up to 20 qubits)\n"
            "refused.yaml:15:78: jobs[2].exact: exact: stabilizer gives <O> of a Clifford circuit, not a ground "
            "energy: use exact: statevector (up to 20 qubits) or give the ground energy\n"
            "refused.yaml:17:13: jobs[3].exact: exact: stabilizer checks each parameter set before the run, and a "
            "minimize job's optimum comes only during it: use exact: statevector or give the value\n",
        ),
        (
            ROWS,
            "rows.yaml:12:13: jobs[0].exact: parameter set 1 makes rz(0.4) on qubit 1 non-Clifford (angles must be "
            "multiples of π/2)\n"
            "rows.yaml:13:109: jobs[1].exact: sweep point 1 makes rz(1) on qubit 1 non-Clifford (angles must be "
            "multiples of π/2)\n"
            "rows.yaml:14:76: jobs[2].exact: at parameter set 0, register 'meas' has 2^20 equally likely outcomes; "
            "exact: stabilizer lists at most 2^16: measure fewer qubits, or leave exact out\n",
        ),
        (  # validate reads a random circuit's facts from its arguments; its gates are read here all the same
            RANDOM,
            "random.yaml:10:74: jobs[0].exact: exact: stabilizer needs a Clifford circuit; in circuit 'r', p(0.785398) "
            "on qubit 0 is not a Clifford gate; use exact: statevector (up to 20 qubits)\n",
        ),
    ],
    ids=["circuits", "rows", "random"],
)
def test_what_a_tableau_cannot_take_is_refused_alike_by_validate_and_a_run_before_anything_runs(
    qrun, tmp_path, monkeypatch, text, expected
):
    name = {id(REFUSED): "refused.yaml", id(ROWS): "rows.yaml", id(RANDOM): "random.yaml"}[id(text)]
    (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    checked = qrun("validate", name)
    ran = qrun(name, "--out", tmp_path / "results")
    assert (checked.code, checked.err) == (2, expected + "qrun: 1 of 1 spec invalid\n")
    assert (ran.code, ran.err) == (2, expected)
    assert not (tmp_path / "results").exists()


def test_a_plan_warns_where_a_sessions_tableaux_would_outlast_its_interactive_timeout(monkeypatch, qrun, tmp_path):
    """2,000 points of a 127-qubit kicked Ising circuit (380 gates) take qrun about 38 ms each after the runtime job
    returns: in a session the service would deactivate it meanwhile."""
    from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

    cloud = Cloud({"ibm_sherbrooke": FakeSherbrooke()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    step = "rx(kick) q; " + " ".join(f"rzz(-pi/2) q[{i}], q[{i + 1}];" for i in range(0, 126, 2))
    rzz = "gate rzz(θ) a, b { cx a, b; rz(θ) b; cx a, b; }"  # as the hint for a missing rzz gives it
    qasm = f'OPENQASM 3.0; include \\"stdgates.inc\\"; {rzz} input float kick; qubit[127] q; {step * 2}'
    spec = tmp_path / "ising.yaml"
    spec.write_text(
        "version: 1\nname: ising\nbackend: ibm_sherbrooke\nmax_time: 2h\nmode: session\n"
        "options: {seed: 3, resilience_level: 0, optimization_level: 1}\n"
        f'circuits:\n  step: {{qasm: "{qasm}"}}\n'
        f"observables:\n  z0: Z0\n"
        "jobs:\n  - {name: curve, primitive: estimator, circuit: step, observables: [z0], precision: 0.05,\n"
        "     exact: stabilizer, sweep: {values: {kick: {linspace: [0, %r, 2000]}}}}\n" % (1999 * math.pi / 2)
    )
    result = qrun("plan", spec)
    assert result.code == 0, result.err
    assert (
        "warning: jobs[0] (curve): its exact values take qrun about 1m 16s after each runtime job, longer than a "
        "session's interactive timeout (1m): the service would deactivate the session each time and the next job "
        "would wait in the queue; use mode: batch, or fewer points per job"
    ) in result.err


@pytest.mark.slow  # the example's own test runs slow too; the fast suite keeps the 100-qubit run above
def test_the_ghz_example_at_100_qubits_on_a_service_device_has_its_exact_bound(monkeypatch, qrun, tmp_path):
    """examples/ghz at device width, as its comment offers (`n=100 backend=ibm_fez`): past any statevector, its
    references come from the tableau, and the stand-in's noiseless values meet them."""
    from pathlib import Path

    from qiskit_ibm_runtime.fake_provider import FakeFez

    from qrun.app.pipeline import run

    cloud = Cloud({"ibm_fez": FakeFez()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    example = Path(__file__).parent.parent / "examples" / "ghz" / "ghz.yaml"
    overrides = {"n": 100, "backend": "ibm_fez", "options.resilience_level": 0}
    run_dir = run(example, tmp_path / "results", overrides=overrides, progress="none", clock=cloud.clock)
    bound = json.loads((run_dir / "derived.json").read_text())["fidelity-bound"]
    assert bound["exact"] == 1.0
    assert bound["value"] == pytest.approx(1.0, abs=4 * bound["stderr"] + 1e-9)
    ideal = _jobs(run_dir)["z-basis"]["ideal"]["meas"]
    assert ideal == [{"0" * 100: 0.5, "1" * 100: 0.5}]


GRID = """version: 1
name: grid
backend: fake_fez
max_time: 30m
circuits:
  two: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; input float b; qubit[2] q; h q[0]; rz(a + b) q[1]; rx(a) q[0];"}
observables:
  zz: ZZ
  z0: IZ
jobs:
  - {name: g, primitive: estimator, circuit: two, observables: [zz, z0], exact: stabilizer,
     sweep: {values: {a: [0, 1.5707963267948966], b: [0, 0.3, 3.141592653589793]}}}
  - {name: z, primitive: estimator, circuit: two, observables: [zz], exact: stabilizer,
     sweep: {mode: zip, values: {a: [0, 1.5707963267948966, 3.141592653589793], b: [0, 3.141592653589793, 0.3]}}}
  - {name: ok, primitive: estimator, circuit: two, observables: [zz], exact: stabilizer,
     sweep: {values: {a: {linspace: [0, 785398.1633974483, 500001]}, b: [0, 3.141592653589793]}}}
"""


def test_sweep_points_are_named_as_the_sweep_orders_them_and_a_million_are_checked_in_a_moment(qrun, tmp_path):
    """A grid's last variable runs fastest and each point is measured with every observable: the grid's first bad
    point (a=0, b=0.3) is its third, the zip's (a=π, b=0.3) its third. A million Clifford points (500,001
    multiples of π/2 by two) pass, checked as columns, where checking them one by one took minutes."""
    spec = tmp_path / "grid.yaml"
    spec.write_text(GRID)
    result = qrun("validate", spec)
    assert result.err == (
        f"{spec}:11:81: jobs[0].exact: sweep point 2 makes rz(0.3) on qubit 1 non-Clifford (angles must be multiples "
        "of π/2)\n"
        f"{spec}:13:77: jobs[1].exact: sweep point 2 makes rz(3.44159) on qubit 1 non-Clifford (angles must be "
        "multiples of π/2)\n"
        "qrun: 1 of 1 spec invalid\n"
    )


def test_angles_written_as_expressions_are_read_as_qiskit_binds_them():
    """A linear expression is computed over the columns at once, any other bound a distinct row at a time: both as
    qiskit's own binding gives them."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(2)
    qc.rz(2 * a - math.pi, 0)  # linear, with an offset
    qc.rx(a * b, 1)  # not linear
    quarter = math.pi / 4
    assert stabilizer.row_refusal(qc, ["a", "b"], [[quarter, 2.0], [3 * quarter, 2.0], [quarter, 4.0]], False) == ""
    assert stabilizer.row_refusal(qc, ["a", "b"], [[quarter, 2.0], [quarter, 1.0]], False) == (
        "parameter set 1 makes rx(0.785398) on qubit 1 non-Clifford (angles must be multiples of π/2)"
    )
    assert stabilizer.row_refusal(qc, ["a", "b"], [[0.1, 0.0]], False) == (
        "parameter set 0 makes rz(-2.94159) on qubit 0 non-Clifford (angles must be multiples of π/2)"
    )


def test_the_gates_qrun_answers_for_itself_are_cliffords_as_qiskit_says():
    """qrun names these Clifford (or, for a rotation, Clifford at multiples of π/2) without asking qiskit: each must
    be so by qiskit's own Clifford, and a rotation off a multiple must not be."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.quantum_info import Clifford

    gates = get_standard_gate_name_mapping()
    for name in sorted(stabilizer.CLIFFORD_GATES):
        qc = QuantumCircuit(gates[name].num_qubits)
        qc.append(gates[name], range(qc.num_qubits))
        Clifford(qc)  # qiskit agrees
        assert stabilizer.non_clifford(qc) == ""
    for name in sorted(stabilizer.ROTATIONS):
        gate = gates[name].base_class
        for k in range(-4, 9):
            qc = QuantumCircuit(2 if name.startswith("r") and len(name) == 3 else 1)
            qc.append(gate(k * math.pi / 2), range(qc.num_qubits))
            Clifford(qc)
            assert stabilizer.non_clifford(qc) == ""
        off = QuantumCircuit(qc.num_qubits)
        off.append(gate(0.3), range(off.num_qubits))
        assert stabilizer.non_clifford(off).endswith("is not a Clifford gate")


def test_a_gate_a_source_defines_is_read_by_its_body_not_its_name():
    """OpenQASM defines rzz itself (stdgates.inc lacks it): a body that is Clifford passes, and one under the same
    name that is not (here a t gate inside) is refused, however often the standard name was answered before."""
    from qiskit import QuantumCircuit, qasm3
    from qiskit.circuit import Parameter

    head = 'OPENQASM 3.0; include "stdgates.inc"; '
    tail = " qubit[2] q; rzz(-pi/2) q[0], q[1];"
    standard = QuantumCircuit(2)
    standard.rzz(-math.pi / 2, 0, 1)
    assert stabilizer.non_clifford(standard) == ""
    assert stabilizer.non_clifford(qasm3.loads(head + "gate rzz(θ) a, b { cx a, b; rz(θ) b; cx a, b; }" + tail)) == ""
    odd = qasm3.loads(head + "gate rzz(θ) a, b { t a; rz(θ) b; }" + tail)
    assert stabilizer.non_clifford(odd) == "rzz(-1.5708) on qubits 0, 1 is not a Clifford gate"
    # a parameterized delay's duration is no angle
    wait = QuantumCircuit(1)
    wait.delay(Parameter("d"), 0)
    wait.h(0)
    assert stabilizer.row_refusal(wait, ["d"], [[100.0]], False) == ""


WIDE_ON_AER = """version: 1
name: wide
backend: aer
options: {{seed: 3}}
circuits:
  ghz:
    qasm: |
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[{n}] q;
      bit[{n}] c;
      h q[0];
      {extra}
      for uint i in [0:{last}] {{ cx q[i], q[i + 1]; }}
      c = measure q;
jobs:
  - {{name: counts, primitive: sampler, circuit: ghz, shots: 1000, exact: stabilizer}}
derived:
  both: counts.c["{zeros}"] + counts.c["{ones}"]
"""


def _wide(n: int, extra: str = "") -> str:
    return WIDE_ON_AER.format(n=n, extra=extra, last=n - 2, zeros="0" * n, ones="1" * n)


def test_a_clifford_circuit_wider_than_a_state_vector_runs_on_aer(qrun, write_spec, tmp_path):
    """aer's width is its state vector's (30 qubits here); Aer runs a Clifford circuit on its stabilizer method at
    any width, which qrun refused: a 100-qubit GHZ state's counts, and the sum of its two outcomes, 1 ± 0."""
    spec = write_spec(_wide(100))
    # built, then read back from the facts cache (which keeps the instructions' names), then built again
    assert [qrun("validate", spec).code, qrun("validate", spec).code, qrun("validate", "--deep", spec).code] == [0] * 3
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    run = tmp_path / done.out.strip()
    (counts,) = json.loads((run / "jobs" / "00-counts.json").read_text())["counts"]["c"]
    assert set(counts) == {"0" * 100, "1" * 100} and sum(counts.values()) == 1000
    assert abs(counts["0" * 100] - 500) < 5 * math.sqrt(250)
    both = json.loads((run / "derived.json").read_text())["both"]
    assert (both["value"], both["stderr"], both["exact"]) == (pytest.approx(1.0), pytest.approx(0.0, abs=1e-6), 1.0)


@pytest.mark.parametrize(
    "extra, why", [("t q[1];", "a T gate"), ("u2(0, pi) q[1];", "a gate Aer's stabilizer method lacks")]
)
def test_a_wide_circuit_aer_cannot_hold_is_refused_alike_by_validate_and_a_run(qrun, write_spec, tmp_path, extra, why):
    from qrun.backends import aer_width

    spec = write_spec(_wide(40, extra))
    message = (
        f"{spec}:17:49: jobs[0].circuit: circuit 'ghz' needs 40 qubits but backend aer has {aer_width()} for a state "
        "vector (a Clifford circuit, run by its stabilizer method, may have any)"
    )
    for said in (qrun("validate", spec), qrun(spec, "--out", tmp_path / "r")):
        assert (said.code, said.err.splitlines()[0]) == (2, message), why


def test_a_wide_clifford_circuit_on_aer_is_estimated_by_its_tableau_and_runs_within_max_time(
    qrun, write_spec, tmp_path
):
    """On aer a Clifford circuit runs by Aer's stabilizer method, but its local estimate was a state vector's (2^40
    amplitudes for 100 qubits: days), so the run refused its second job as longer than max_time. Its estimate is now
    the tableau's (a pass through 200 gates; a shot's 100 measurements), and both jobs run."""
    n = 100
    text = _wide(n).replace("backend: aer\n", "backend: aer\nmax_time: 10m\n")
    text = text.replace("jobs:\n", f"observables:\n  xs: {'X' * n}\njobs:\n")
    text = text.replace(
        "\nderived:",
        "\n  - {name: x, primitive: estimator, circuit: ghz, observables: [xs], precision: 0.05}\nderived:",
    )
    spec = write_spec(text)
    planned = json.loads(qrun("plan", spec, "--estimates", "fresh", "--json").out)
    gates = 1 + (n - 1) + n  # h, the CX chain and the measurements, as Aer runs them
    shot = 2e-7 + 3.5e-9 * n**1.75 * n**0.75
    assert [(j["name"], j["estimate"]) for j in planned["jobs"]] == [
        ("counts", pytest.approx(0.01 + 8e-5 + gates * 3.5e-5 + 1000 * shot, abs=0.005)),
        ("x", pytest.approx(0.01 + 8e-5 + (gates - n) * 3.5e-5, abs=0.005)),
    ]
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    run = tmp_path / done.out.strip()
    (x,) = json.loads((run / "jobs" / "01-x.json").read_text())["observables"]["xs"]["values"]
    assert x == pytest.approx(1.0, abs=5 * 0.05)  # <X...X> of a GHZ state is 1, within 5 of the precision asked


@pytest.mark.parametrize("extra, aer", [("", ", or on aer without noise (backend: aer)"), ("t q[1];", "")])
def test_a_clifford_circuit_too_wide_for_a_fake_devices_simulation_is_pointed_to_aer(
    qrun, write_spec, tmp_path, extra, aer
):
    """A fake device is simulated with its noise as a state vector; a 40-qubit Clifford circuit can run noiseless
    on aer, by its stabilizer method, and the refusal says so; a circuit with a T gate cannot, and it does not."""
    from qrun.backends import aer_width

    spec = write_spec(_wide(40, extra).replace("backend: aer\n", "backend: fake_fez\nmax_time: 10m\n"))
    message = (
        f"{spec}:18:49: jobs[0].circuit: circuit 'ghz' has 40 qubits; fake_fez is simulated on this machine, which "
        f"holds at most {aer_width()} (a statevector of n qubits takes 16 x 2^n bytes); use fewer qubits, or run on "
        f"the IBM service{aer}"
    )
    for said in (qrun("validate", spec), qrun(spec, "--out", tmp_path / "r")):
        assert (said.code, said.err.splitlines()[0]) == (2, message)
