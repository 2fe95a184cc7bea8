"""Dynamic circuits (mid-circuit measurements, resets, classical control): their exact references, worked out by
hand, and validate's refusals of what the runtime cannot run on them, verbatim."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from qrun.sources import branching, circuits, exact
from qrun.sources.facts import from_entry, from_qasm, of_circuit

TELEPORT = (
    'OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; bit[2] m; bit[1] out; ry(0.7) q[0]; h q[1]; cx q[1], q[2]; '
    "cx q[0], q[1]; h q[0]; m[0] = measure q[0]; m[1] = measure q[1]; if (m[1]) { x q[2]; } if (m[0]) { z q[2]; } "
    "out[0] = measure q[2];"
)
# |+> measured, then flipped back to |0> where it read 1: qubit 0 ends in |0>; qubit 1 is RY(0.4)|0>
FEED_FORWARD = (
    'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[1] m; h q[0]; m[0] = measure q[0]; '
    "if (m[0]) { x q[0]; } cx q[0], q[1]; ry(0.4) q[1];"
)
# a Bell pair whose qubit 0 is reset: qubit 1 is left half |0>, half |1>, qubit 0 in |+> after its H
RESET = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; h q[0]; cx q[0], q[1]; reset q[0]; h q[0]; ry(0.4) q[1];'


def _qc(text):
    return circuits.build({"qasm": text}, Path("."))


def test_teleportation_delivers_the_state_whatever_was_measured():
    ideal = branching.distribution(_qc(TELEPORT))
    assert ideal["out"] == {"0": pytest.approx(math.cos(0.35) ** 2, abs=1e-12), "1": pytest.approx(math.sin(0.35) ** 2)}
    assert ideal["m"] == {k: pytest.approx(0.25, abs=1e-12) for k in ("00", "01", "10", "11")}


def test_expectations_follow_feed_forward_and_resets():
    from qiskit.quantum_info import SparsePauliOp

    fed = _qc(FEED_FORWARD)
    assert exact.expectation(fed, SparsePauliOp("ZZ"), (), ()) == pytest.approx(math.cos(0.4), abs=1e-12)
    assert exact.expectation(fed, SparsePauliOp("IZ"), (), ()) == pytest.approx(1.0, abs=1e-12)
    reset = _qc(RESET)
    assert exact.expectation(reset, SparsePauliOp("IX"), (), ()) == pytest.approx(1.0, abs=1e-12)
    assert exact.expectation(reset, SparsePauliOp("ZI"), (), ()) == pytest.approx(0.0, abs=1e-12)
    assert exact.expectation(reset, SparsePauliOp("ZZ"), (), ()) == pytest.approx(0.0, abs=1e-12)


def test_switch_expressions_and_for_loops_are_followed():
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit import Parameter
    from qiskit.circuit.classical import expr

    q, c, out = QuantumRegister(3, "q"), ClassicalRegister(2, "c"), ClassicalRegister(1, "out")
    qc = QuantumCircuit(q, c, out)
    qc.h(0)
    qc.h(1)
    qc.measure(0, c[0])
    qc.measure(1, c[1])
    with qc.switch(c) as case:
        with case(0):
            pass
        with case(1, 2):
            qc.x(2)
        with case(case.DEFAULT):
            qc.ry(math.pi / 3, 2)
    with qc.if_test(expr.logic_and(c[0], c[1])):  # c == 3: undo the RY, then flip
        qc.ry(-math.pi / 3, 2)
        qc.x(2)
    t = Parameter("t")
    with qc.for_loop(range(2), t):  # two half turns: no change
        qc.rx(math.pi * t + math.pi / 2, 2)
        qc.rx(-math.pi * t - math.pi / 2, 2)
    qc.measure(2, out[0])
    # c = 00: out 0; 01, 10: out 1; 11: RY then undone, then X: out 1. So out is 1 with probability 3/4
    assert branching.distribution(qc)["out"] == {"0": pytest.approx(0.25, abs=1e-12), "1": pytest.approx(0.75)}


def test_a_loop_that_measures_and_resets_each_turn_is_followed_turn_by_turn():
    rounds = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[1] m; bit[1] out; '
    rounds += "for int i in [0:2] { ry(0.6) q[0]; m[0] = measure q[0]; if (m[0]) { x q[1]; } reset q[0]; } "
    rounds += "out[0] = measure q[1];"
    # q[1] ends flipped after an odd number of the three turns' ones, each of probability p = sin^2(0.3)
    p = math.sin(0.3) ** 2
    odd = (1 - (1 - 2 * p) ** 3) / 2
    assert branching.distribution(_qc(rounds))["out"] == {
        "0": pytest.approx(1 - odd, abs=1e-12),
        "1": pytest.approx(odd),
    }


def test_a_static_circuit_is_not_dynamic_and_a_measurement_followed_is():
    assert not branching.dynamic(
        _qc('OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; h q[0]; c = measure q;')
    )
    followed = _qc('OPENQASM 3.0; include "stdgates.inc"; qubit[1] q; bit[1] c; h q[0]; c[0] = measure q[0]; h q[0];')
    assert branching.dynamic(followed)
    # a measurement something acts on after collapses the state: <X> of H, measure, H is 0, not the static 1
    from qiskit.quantum_info import SparsePauliOp

    assert exact.expectation(followed, SparsePauliOp("X"), (), ()) == pytest.approx(0.0, abs=1e-12)
    assert exact.expectation(followed, SparsePauliOp("Z"), (), ()) == pytest.approx(0.0, abs=1e-12)


def test_what_cannot_be_followed_says_why():
    loop = 'OPENQASM 3.0; include "stdgates.inc"; qubit[1] q; bit[1] m; h q[0]; m[0] = measure q[0]; '
    assert branching.unfollowable(_qc(loop + "while (m[0]) { h q[0]; m[0] = measure q[0]; }")) == (
        "it has a while loop, whose branches need not end"
    )
    many = 'OPENQASM 3.0; include "stdgates.inc"; qubit[20] q; bit[1] m; h q; '
    many += "for int i in [0:5] { h q[0]; m[0] = measure q[0]; }"  # the last measurement ends the circuit
    assert branching.unfollowable(_qc(many)) == (
        "its mid-circuit measurements and resets could split it into 2^5 statevectors of 20 qubits, more than "
        "the 16,777,216 amplitudes qrun follows"
    )
    assert branching.unfollowable(_qc(FEED_FORWARD)) == ""


def test_facts_say_control_flow_and_survive_the_cache():
    fed = of_circuit(_qc(FEED_FORWARD))
    assert (fed.control_flow, fed.unfollowable, fed.num_qubits, fed.num_clbits) == (True, "", 2, 1)
    assert from_entry(json.loads(json.dumps(fed.entry()))) == fed
    assert of_circuit(_qc(RESET)).control_flow is False
    # the text alone cannot tell where a dynamic source branches: a build gives its facts
    assert from_qasm(FEED_FORWARD) is None and from_qasm(RESET) is None
    static = from_qasm('OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; h q[0]; c = measure q;')
    assert static is not None and static.control_flow is False


SPEC = """version: 1
name: dyn
backend: {backend}
max_time: 10m
options: {{seed: 3{options}}}
circuits:
  tele: {{qasm: '{tele}'}}
  fed: {{qasm: '{fed}'}}
observables:
  zz: ZZ
  z2: ZII
  x2: XII
jobs:
"""


def _spec(backend, jobs, options=""):
    return SPEC.format(backend=backend, options=options, tele=TELEPORT, fed=FEED_FORWARD) + jobs


@pytest.mark.parametrize("backend", ["fake_fez", "fake_sherbrooke"])
def test_a_dynamic_run_on_a_device_records_its_exact_references(backend, qrun, write_spec, tmp_path):
    jobs = (
        "  - {name: teleport, primitive: sampler, circuit: tele, shots: 4000, exact: statevector}\n"
        "  - {name: fed, primitive: estimator, circuit: fed, observables: [zz], exact: statevector,\n"
        "     options: {resilience_level: 0}}\n"
        "  - {name: climb, primitive: ladder, circuit: fed, observables: [zz], rungs: [raw], exact: statevector}\n"
        "  - {name: bob, primitive: estimator, circuit: tele, observables: [z2, x2], exact: statevector,\n"
        "     options: {resilience_level: 0}}\n"
    )
    result = qrun(write_spec(_spec(backend, jobs)), "--out", tmp_path / "r", "--quiet")
    assert result.code == 0, result.err
    (run_dir,) = (tmp_path / "r" / "dyn").iterdir()
    teleport = json.loads((run_dir / "jobs" / "00-teleport.json").read_text())
    assert teleport["ideal"]["out"] == [
        {"0": pytest.approx(math.cos(0.35) ** 2), "1": pytest.approx(math.sin(0.35) ** 2)}
    ]
    assert teleport["counts"]["out"][0]["1"] / 4000 == pytest.approx(math.sin(0.35) ** 2, abs=0.05)
    fed = json.loads((run_dir / "jobs" / "01-fed.json").read_text())["observables"]["zz"]
    assert fed["exact"] == [pytest.approx(math.cos(0.4), abs=1e-12)]
    assert fed["values"][0] == pytest.approx(math.cos(0.4), abs=0.1)
    climb = json.loads((run_dir / "jobs" / "02-climb.json").read_text())
    # the Bell measurement's bits choose the corrections: an estimator keeps them (only bob's own is final)
    bob = json.loads((run_dir / "jobs" / "03-bob.json").read_text())["observables"]
    assert (bob["z2"]["exact"], bob["x2"]["exact"]) == ([pytest.approx(math.cos(0.7))], [pytest.approx(math.sin(0.7))])
    assert (bob["z2"]["values"][0], bob["x2"]["values"][0]) == (
        pytest.approx(math.cos(0.7), abs=0.1),
        pytest.approx(math.sin(0.7), abs=0.1),
    )
    (raw,) = climb["rungs"]
    assert raw["observables"]["zz"]["exact"] == [pytest.approx(math.cos(0.4), abs=1e-12)]
    assert raw["error"] == pytest.approx(abs(raw["observables"]["zz"]["values"][0] - math.cos(0.4)), abs=1e-12)


def test_validate_refuses_what_the_runtime_cannot_run_on_control_flow(qrun, write_spec):
    jobs = (
        "  - {name: est, primitive: estimator, circuit: fed, observables: [zz]}\n"
        "  - {name: twirled, primitive: sampler, circuit: tele, options: {twirling: {enable_gates: true}}}\n"
        "  - {name: decoupled, primitive: sampler, circuit: tele, options: {dynamical_decoupling: {enable: true}}}\n"
        "  - {name: climb, primitive: ladder, circuit: fed, observables: [zz], rungs: [raw, trex]}\n"
        "  - {name: fine, primitive: sampler, circuit: tele}\n"
    )
    spec = write_spec(_spec("fake_fez", jobs))
    result = qrun("validate", spec)
    flow = "has classical control flow, which the runtime's twirling and dynamical decoupling cannot run, and"
    assert result.code == 2
    assert result.err.splitlines()[:4] == [
        f"{spec}:14:48: jobs[0].circuit: circuit 'fed' {flow} the job asks for them (resilience_level 1, whose "
        "measurement mitigation twirls): give the job options that leave them out (resilience_level: 0)",
        f"{spec}:15:50: jobs[1].circuit: circuit 'tele' {flow} the job asks for them (twirling.enable_gates: true): "
        "give the job options that leave them out",
        f"{spec}:16:52: jobs[2].circuit: circuit 'tele' {flow} the job asks for them "
        "(dynamical_decoupling.enable: true): give the job options that leave them out",
        f"{spec}:17:47: jobs[3].circuit: circuit 'fed' {flow} its rung 'trex' asks for them (resilience_level 1, "
        "whose measurement mitigation twirls; dynamical_decoupling.enable: true): run its raw rung alone (rungs: [raw])",
    ]
    # the run gives the same verdict, and a noiseless simulator runs them all
    assert qrun(spec, "--out", spec.parent / "r").err == result.err.replace("qrun: 1 of 1 spec invalid\n", "")
    noiseless = jobs.replace(
        "  - {name: climb, primitive: ladder, circuit: fed, observables: [zz], rungs: [raw, trex]}\n", ""
    )
    assert qrun("validate", write_spec(_spec("aer", noiseless), "aer.yaml")).code == 0


def test_exact_is_refused_where_it_cannot_follow_the_circuit(qrun, write_spec):
    many = 'OPENQASM 3.0; include "stdgates.inc"; qubit[20] q; bit[1] m; h q; '
    many += "for int i in [0:5] { h q[0]; m[0] = measure q[0]; }"  # the last measurement ends the circuit
    text = _spec("aer", "  - {name: wide, primitive: estimator, circuit: wide, observables: [z], exact: statevector}\n")
    text = text.replace("circuits:\n", f"circuits:\n  wide: {{qasm: '{many}'}}\n").replace(
        "  zz: ZZ", "  z: " + "I" * 19 + "Z"
    )
    result = qrun("validate", write_spec(text))
    assert (result.code, result.err.split(": jobs[0]")[1]) == (
        2,
        ".exact: exact: statevector cannot follow circuit 'wide': its mid-circuit measurements and resets could split "
        "it into 2^5 statevectors of 20 qubits, more than the 16,777,216 amplitudes qrun follows; give the exact "
        "value as a number\nqrun: 1 of 1 spec invalid\n",
    )


def test_a_ladder_on_a_circuit_with_parameters_says_what_to_do(qrun, write_spec):
    text = _spec("fake_fez", "  - {name: climb, primitive: ladder, circuit: p, observables: [zz]}\n").replace(
        "circuits:\n", "circuits:\n  p: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}\n"
    )
    result = qrun("validate", write_spec(text))
    assert result.err.splitlines()[0].split(": ", 1)[1] == (
        "jobs[0].circuit: circuit 'p' has 4 parameters; a ladder runs its circuit as written, with numbers for its "
        "angles"
    )


def test_a_twirling_failure_says_what_to_change():
    from qrun.running.failures import failure

    samplex = type("SamplexBuildError", (Exception,), {})("Cannot propagate 'cz' on\n  Partition(1)")
    assert failure(samplex) == (
        "SamplexBuildError: Cannot propagate 'cz' on Partition(1) (the runtime's twirling could not be built around "
        "this circuit, as for a two-qubit gate after a mid-circuit measurement on its qubit: run the job at "
        "resilience_level: 0 (measurement mitigation twirls), without twirling)"
    )
    assert failure(ValueError("a\nb")) == "ValueError: a b"


def test_a_mid_circuit_measurement_on_a_device_without_twirling(qrun, write_spec, tmp_path):
    # H, measure, then CX from the measured qubit: half |00>, half |11>, so <ZZ> = 1 and <IX> = 0
    mid = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[1] m; h q[0]; m[0] = measure q[0]; cx q[0], q[1];'
    jobs = "  - {name: mid, primitive: estimator, circuit: mid, observables: [zz, x0], exact: statevector}\n"
    text = _spec("fake_fez", jobs, options=", resilience_level: 0").replace(
        "circuits:\n", f"circuits:\n  mid: {{qasm: '{mid}'}}\n"
    )
    result = qrun(write_spec(text.replace("  zz: ZZ\n", "  zz: ZZ\n  x0: IX\n")), "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    body = json.loads((next((tmp_path / "r" / "dyn").iterdir()) / "jobs" / "00-mid.json").read_text())
    values = body["observables"]
    assert (values["zz"]["exact"], values["x0"]["exact"]) == ([pytest.approx(1.0)], [pytest.approx(0.0, abs=1e-12)])
    assert values["zz"]["values"][0] == pytest.approx(1.0, abs=0.1)
    assert values["x0"]["values"][0] == pytest.approx(0.0, abs=0.1)


def test_a_circuits_registers_are_its_facts_from_the_text_or_a_build():
    """What a sampler's result has a field for: `bit[2] c` and `creg c[2]` are registers, a loose `bit d` is in none
    (qiskit's importer keeps it so); OpenQASM 2's declarations in a 3 source are left to a build."""
    three = (
        'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; bit d; h q[0]; c = measure q; d = measure q[0];'
    )
    two = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; creg m[1]; h q[0]; measure q -> c;'
    for text, registers in [(three, (("c", 2),)), (two, (("c", 2), ("m", 1)))]:
        scanned = from_qasm(text)
        assert scanned is not None and scanned.registers == registers == of_circuit(_qc(text)).registers
        assert from_entry(json.loads(json.dumps(scanned.entry()))) == scanned
    assert from_qasm('OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; creg c[2]; c = measure q;') is None
    unknown = json.loads(json.dumps(from_qasm(three).entry()))
    unknown["facts"]["registers"] = [["c", "2"]]  # damaged: not known, rather than wrong
    assert from_entry(unknown).registers is None
