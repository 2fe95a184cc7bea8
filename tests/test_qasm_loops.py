"""OpenQASM 3 for loops over numbers, written out before qiskit's importer: it cannot build one whose variable indexes
a register ("index must be int, slice or list"), though that is how a chain or a ladder of gates is written, and it
builds a repeated step as control flow, which mitigation refuses."""

import json
import time

import pytest
from qiskit import QuantumCircuit

from qrun.errors import SourceError
from qrun.sources import circuits
from qrun.sources.qasm_unroll import unrolled

HEAD = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[6] q;\n'


def _chain() -> QuantumCircuit:
    qc = QuantumCircuit(6)
    qc.h(0)
    for i in range(5):
        qc.cx(i, i + 1)
    return qc


def _two_steps(qc: QuantumCircuit) -> None:
    for _ in range(2):
        for i in range(5):
            qc.cz(i, i + 1)
        qc.rx(0.3, range(6))


def _reference(build) -> QuantumCircuit:
    qc = QuantumCircuit(6)
    build(qc)
    return qc


@pytest.mark.parametrize(
    "loop, expected",
    [
        ("h q[0];\nfor int i in [0:4] {\n  cx q[i], q[i + 1];  // a chain\n}\n", _chain()),
        (
            "for uint j in {5, 3, 1} { rz(j * 0.1) q[j]; }\n",
            _reference(lambda qc: [qc.rz(j * 0.1, j) for j in (5, 3, 1)]),
        ),
        ("for int i in [4:-2:0] { x q[i]; }\n", _reference(lambda qc: [qc.x(i) for i in (4, 2, 0)])),
        ("for int i in [-1:-1] { x q[i + 3]; }\n", _reference(lambda qc: qc.x(2))),
        (
            "for int a in [0:1] {\n  for int b in [2:3] { cz q[a], q[b]; }\n}\n",
            _reference(lambda qc: [qc.cz(a, b) for a in (0, 1) for b in (2, 3)]),
        ),
        (  # the outer loop's variable turns an angle only
            "for int k in [0:1] {\n  for int b in [0:1] { rz(k * 0.5) q[b]; }\n}\n",
            _reference(lambda qc: [qc.rz(k * 0.5, b) for k in (0, 1) for b in (0, 1)]),
        ),
        (  # a step repeated, its variable unused: two Trotter steps of a chain
            "for int s in [1:2] {\n  for int i in [0:4] { cz q[i], q[i + 1]; }\n  rx(0.3) q;\n}\n",
            _reference(_two_steps),
        ),
    ],
)
def test_a_loop_over_numbers_is_written_out_as_the_gates_it_means(tmp_path, loop, expected):
    assert circuits.build({"qasm": HEAD + loop}, tmp_path) == expected


def test_a_repeated_step_written_out_takes_every_mitigation_a_loop_would_be_refused(qrun, write_spec):
    """A Trotter step in a `for` loop was kept as qiskit's for_loop: control flow, so resilience_level 2 (ZNE and
    twirling) was refused for gates that mean a plain circuit. Written out, validate accepts it on a 156-qubit
    device and the noiseless run gives the statevector's value."""
    RZZ = "gate rzz(a) x, y { cx x, y; rz(a) y; cx x, y; }"  # noqa: N806 -- stdgates.inc has none
    step = "for int s in [1:3] { for int i in [0:2] { rzz(0.4) q[i], q[i + 1]; } rx(0.5) q; }"
    spec = write_spec(
        "version: 1\nname: trotter\nbackend: fake_fez\nmax_time: 10m\noptions: {resilience_level: 2}\ncircuits:\n"
        f'  t: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; {RZZ} qubit[4] q; {step}"}}\n'
        "observables: {z: IIIZ}\njobs:\n  - {name: e, primitive: estimator, circuit: t, observables: [z]}\n"
    )
    checked = qrun("validate", "--deep", spec)
    assert (checked.code, checked.out.strip()) == (0, f"{spec}: ok"), checked.err
    done = qrun(
        spec, "backend=aer", "~options.resilience_level", "jobs.e.exact=statevector", "--out", spec.parent / "r", "-q"
    )
    assert done.code == 0, done.err
    e = json.loads(next((spec.parent / "r" / "trotter").glob("*/jobs/00-e.json")).read_text())["observables"]["z"]
    reference = QuantumCircuit(4)
    for _ in range(3):
        for i in range(3):
            reference.rzz(0.4, i, i + 1)
        reference.rx(0.5, range(4))
    from qiskit.quantum_info import SparsePauliOp, Statevector

    assert e["exact"] == [
        pytest.approx(Statevector(reference).expectation_value(SparsePauliOp("IIIZ")).real, abs=1e-12)
    ]
    assert e["values"][0] == pytest.approx(e["exact"][0], abs=5 * e["stderrs"][0])


def test_a_loop_that_would_write_out_too_many_gates_or_holds_an_if_stays_qiskits_for_loop(tmp_path):
    """Past 100,000 instructions written out (qiskit's pass takes about a second per 100,000), and where a body holds
    control flow of its own (the circuit stays dynamic anyway), a loop the importer can build stays its for_loop,
    which aer runs as it is."""
    long = circuits.build(
        {"qasm": HEAD + "for int k in [0:49999] { rx(0.5) q[0]; rx(0.5) q[1]; rx(0.5) q[2]; }"}, tmp_path
    )
    assert [i.operation.name for i in long.data] == ["for_loop"]
    fed = "bit[1] m; for int k in [0:2] { h q[0]; m[0] = measure q[0]; if (m[0]) { x q[1]; } }"
    assert [i.operation.name for i in circuits.build({"qasm": HEAD + fed}, tmp_path).data] == ["for_loop"]
    within = circuits.build({"qasm": HEAD + "for int k in [0:49999] { rx(0.5) q[0]; rx(0.5) q[1]; }"}, tmp_path)
    assert len(within.data) == 100_000 and {i.operation.name for i in within.data} == {"rx"}


def test_a_written_out_loop_keeps_every_later_line_where_it_was():
    text = HEAD + "for int i in [0:4] {\n  // step i\n  cx q[i], q[i + 1];\n}\nh q[0];\n"
    written = unrolled(text, 10_000)
    assert written.splitlines()[:3] == text.splitlines()[:3]
    assert written.splitlines()[7] == text.splitlines()[7] == "h q[0];"
    assert len(written.splitlines()) == len(text.splitlines())


@pytest.mark.parametrize(
    "tail, located",
    [
        ("h q[0]\ncx q[0], q[1];", "14:7: circuits.c.qasm: invalid OpenQASM: 8,0: a syntax error at 'cx'"),
        (  # the importer quotes this one's message with ' (it was left at the source's key)
            "for int j in [0:1] {\n  int k = 2;\n}",
            "14:9: circuits.c.qasm: invalid OpenQASM: '8,2: only global declarations are supported'",
        ),
    ],
)
def test_an_error_after_a_loop_is_located_at_its_own_line_of_the_spec(qrun, write_spec, tail, located):
    source = HEAD + "for int i in [0:4] {\n  x q[i];\n}\n" + tail
    spec = write_spec(
        "version: 1\nname: l\nbackend: aer\ncircuits:\n  c:\n    qasm: |\n"
        + "".join(f"      {line}\n" for line in source.splitlines())
        + "observables: {z: ZIIIII}\njobs:\n  - {name: e, primitive: estimator, circuit: c, observables: [z]}\n"
    )
    assert qrun("validate", spec).err.splitlines()[0] == f"{spec}:{located}"


@pytest.mark.parametrize(
    "loop, message",
    [
        (  # copies cannot break out of a loop: left to the importer, which says why it cannot, and qrun what it does
            "for int i in [0:2] { x q[i]; break; }",
            "invalid OpenQASM: index must be int, slice or list (qiskit's importer cannot index a register with a "
            "loop variable; qrun writes such a loop out, one body per value, when its range is numbers and its body "
            "declares nothing and has no break or continue)",
        ),
        (
            "for int i in [0:6] { x q[i]; }",
            "invalid OpenQASM: index out of range (in a for loop qrun wrote out? OpenQASM's range [a:b] includes b)",
        ),
    ],
)
def test_a_loop_qrun_cannot_write_out_or_that_overruns_its_register_says_why(tmp_path, loop, message):
    with pytest.raises(SourceError) as caught:
        circuits.build({"qasm": HEAD + loop}, tmp_path)
    assert str(caught.value) == message


def test_a_loop_whose_copies_pass_a_circuits_text_limit_is_refused_before_one_is_made(qrun, write_spec):
    """qiskit's importer takes about a second per 4,000 statements: a loop may not write out more text than a
    circuit may have (1 MiB), and a billion turns are refused without listing them."""
    start = time.perf_counter()
    with pytest.raises(SourceError) as caught:
        unrolled(HEAD + "for int i in [0:1000000000] { x q[i % 6]; }\n", 1024 * 1024)
    assert time.perf_counter() - start < 1.0  # a list of its values alone would take minutes and gigabytes
    assert str(caught.value) == (
        "a for loop of 1,000,000,001 turns would be written out as more than 1,048,576 characters of OpenQASM, the "
        "most a circuit's text may have (qiskit's importer cannot build a loop whose variable indexes a register); "
        "build the circuit in Python (allow_python) instead"
    )
    spec = write_spec(
        "version: 1\nname: l\nbackend: aer\ncircuits:\n"
        '  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; for int i in [0:99999] { x q[i % 2]; }"}\n'
        "observables: {z: ZI}\njobs:\n  - {name: e, primitive: estimator, circuit: c, observables: [z]}\n"
    )
    refused = qrun("validate", spec)
    assert refused.err.splitlines()[0] == (
        f"{spec}:5:13: circuits.c.qasm: a for loop of 100,000 turns would be written out as more than 1,048,576 "
        "characters of OpenQASM, the most a circuit's text may have (qiskit's importer cannot build a loop whose "
        "variable indexes a register); build the circuit in Python (allow_python) instead"
    )


@pytest.mark.parametrize("device", ["fake_fez", pytest.param("fake_sherbrooke", marks=pytest.mark.slow)])
def test_a_ghz_state_written_as_a_loop_runs_on_a_real_size_device_against_its_exact_values(qrun, write_spec, device):
    spec = write_spec(
        f"version: 1\nname: loop\nbackend: {device}\nmax_time: 10m\noptions: {{seed: 1}}\ncircuits:\n  ghz:\n"
        '    qasm: |\n      OPENQASM 3.0;\n      include "stdgates.inc";\n      qubit[6] q;\n      h q[0];\n'
        "      for int i in [0:4] {\n        cx q[i], q[i + 1];\n      }\n"
        "observables: {ends: ZIIIIZ}\njobs:\n"
        "  - {name: e, primitive: estimator, circuit: ghz, observables: [ends], exact: statevector, precision: 0.03}\n"
        "  - {name: s, primitive: sampler, circuit: ghz, measure_all: true, shots: 1000, exact: statevector}\n"
    )
    done = qrun(spec, "--out", spec.parent / "r", "-q")
    assert done.code == 0, done.err
    jobs = next((spec.parent / "r" / "loop").iterdir()) / "jobs"
    e = json.loads((jobs / "00-e.json").read_text())["observables"]["ends"]
    assert e["exact"] == [pytest.approx(1.0, abs=1e-12)]
    assert e["values"][0] == pytest.approx(1.0, abs=0.1)  # the device's noise over 5 CNOTs, measured
    s = json.loads((jobs / "01-s.json").read_text())
    assert s["ideal"]["meas"] == [{"0" * 6: pytest.approx(0.5), "1" * 6: pytest.approx(0.5)}]
    counts = s["counts"]["meas"][0]
    assert counts["0" * 6] + counts["1" * 6] > 800


def test_a_loop_kept_as_one_says_why_where_mitigation_refuses_it(qrun, write_spec):
    """The docs say loops are written out; one holding an `if` is not, and the control-flow refusal says why, so a
    user does not look for a bug in qrun's loop handling."""
    body = "for int k in [0:2] { h q[0]; m[0] = measure q[0]; if (m[0]) { x q[1]; } }"
    spec = write_spec(
        "version: 1\nname: kept\nbackend: fake_fez\nmax_time: 10m\ncircuits:\n"
        f'  c: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[1] m; {body}"}}\n'
        "observables: {z: ZI}\njobs:\n  - {name: e, primitive: estimator, circuit: c, observables: [z]}\n"
    )
    refused = qrun("validate", "--deep", spec)
    assert refused.code == 2
    assert refused.err.splitlines()[0] == (
        f"{spec}:9:46: jobs[0].circuit: circuit 'c' has classical control flow, which the runtime's twirling and "
        "dynamical decoupling cannot run, and the job asks for them (resilience_level 1, whose measurement mitigation "
        "twirls): give the job options that leave them out (resilience_level: 0) (its for loop stays one: qrun writes "
        "out an OpenQASM loop of plain gates up to 100,000 instructions, not one holding an `if`, a longer one, or a "
        "Python circuit's)"
    )
