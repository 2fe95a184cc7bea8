"""`qrun qubits`: a device's chains of coupled qubits ranked by the errors its calibration reports, to name in a
circuit's `layout:`, on a hand-made target (every fidelity worked out here), fake devices and the service."""

from __future__ import annotations

import json
import math

import pytest
from fake_runtime import Cloud, install

from qrun.planning.chains import Ranking, best_chains


def _target():
    """0 - 1 - 2 - 3 in a line, and 4 hanging off 1; cx errors and readout errors chosen to order every chain."""
    from qiskit.circuit.library import CXGate, Measure
    from qiskit.transpiler import InstructionProperties, Target

    target = Target(num_qubits=5)
    cx = {(0, 1): 0.01, (1, 0): 0.02, (1, 2): 0.05, (2, 3): 0.01, (1, 4): 0.6, (4, 1): 0.7}  # 1-4 broken both ways
    target.add_instruction(CXGate(), {q: InstructionProperties(error=e) for q, e in cx.items()})
    readout = [0.01, 0.02, 0.03, 0.04, 0.001]
    target.add_instruction(Measure(), {(q,): InstructionProperties(error=e) for q, e in enumerate(readout)})
    return target


def test_chains_are_ranked_by_the_product_of_their_fidelities_and_broken_links_are_left_out():
    ranking = best_chains(_target(), 3, top=5)
    # 0-1-2: (1 - .01)(1 - .05) links, (1 - .01)(1 - .02)(1 - .03) readouts; 1-2-3: (1 - .05)(1 - .01), .02 .03 .04
    first = 0.99 * 0.95 * 0.99 * 0.98 * 0.97
    second = 0.95 * 0.99 * 0.98 * 0.97 * 0.96
    assert [c.qubits for c in ranking.chains] == [(0, 1, 2), (1, 2, 3)]  # nothing through 4: its link is broken
    assert [c.fidelity for c in ranking.chains] == [pytest.approx(first, rel=1e-12), pytest.approx(second, rel=1e-12)]
    assert ranking.chains[0].worst == ("cx", (1, 2), 0.05)
    assert ranking.exhaustive and ranking.usable == 5
    assert [c.qubits for c in best_chains(_target(), 1, top=2).chains] == [(4,), (0,)]
    assert best_chains(_target(), 5).chains == []  # the line has only four qubits once 1-4 is left out
    assert best_chains(_target(), 6, max_steps=0) == Ranking([], True, 5)  # longer than the qubits: no search at all
    assert not best_chains(_target(), 3, max_steps=2).exhaustive


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_a_devices_chains_are_coupled_their_fidelity_is_its_calibrations_and_a_layout_takes_one(qrun, tmp_path, device):
    from qiskit_ibm_runtime import fake_provider

    target = getattr(fake_provider, "Fake" + device.removeprefix("fake_").title())().target
    result = qrun("qubits", device, "--chain", "4", "--json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert (found["device"], found["length"], found["exhaustive"], len(found["chains"])) == (device, 4, True, 5)
    coupled = {tuple(sorted(q)) for q in target.build_coupling_map().get_edges()}
    fidelities = []
    for chain in found["chains"]:
        layout = chain["layout"]
        links = list(zip(layout, layout[1:]))
        assert all(tuple(sorted(link)) in coupled for link in links) and len(set(layout)) == 4
        two = [
            min(
                p.error
                for g in target.operation_names
                if target.operation_from_name(g).num_qubits == 2
                for qargs, p in target[g].items()
                if qargs is not None and sorted(qargs) == sorted(link)
            )
            for link in links
        ]
        readout = [target["measure"][(q,)].error for q in layout]
        assert chain["fidelity"] == pytest.approx(math.prod(1 - e for e in two + readout), abs=1e-6)
        assert chain["worst"]["error"] == max(two + readout)
        # the chain's shortest T1 and T2, as the calibration gives each qubit: what bounds a circuit that idles on it
        assert chain["t1_us"] == pytest.approx(min(target.qubit_properties[q].t1 for q in layout) * 1e6, abs=1e-3)
        assert chain["t2_us"] == pytest.approx(min(target.qubit_properties[q].t2 for q in layout) * 1e6, abs=1e-3)
        fidelities.append(chain["fidelity"])
    assert fidelities == sorted(fidelities, reverse=True)
    best = found["chains"][0]["layout"]
    spec = tmp_path / "chain.yaml"
    spec.write_text(
        f"version: 1\nname: chain\nbackend: {device}\nmax_time: 10m\noptions: {{seed: 1}}\ncircuits:\n"
        '  line: {qasm: \'OPENQASM 3.0; include "stdgates.inc"; qubit[4] q; h q[0]; cx q[0], q[1]; cx q[1], q[2]; '
        f"cx q[2], q[3];', layout: {best}}}\nobservables:\n  zz: Z0 Z3\n"
        "jobs:\n  - {name: e, primitive: estimator, circuit: line, observables: [zz], estimate: 10s}\n"
    )
    planned = json.loads(qrun("plan", spec, "--json").out)["jobs"][0]
    assert planned["physical_qubits"] == best
    # the spec itself says how long a chain (its widest circuit's), and its own layout is scored beside the best
    head, first, own = qrun("qubits", spec, "--top", "1").out.splitlines()
    assert head == (
        f"{device}: the best chain of 4 coupled qubits with the least error (readouts and two-qubit gates, as its "
        "calibration reports them)"
    )
    assert first.startswith(f"  1  layout: {best}  fidelity ")
    t1, t2 = found["chains"][0]["t1_us"], found["chains"][0]["t2_us"]
    assert first.endswith(f"  shortest T1 {t1:.0f} µs, T2 {t2:.0f} µs")
    assert own == f"circuits.line.layout {best}: " + first.split(f"{best}  ", 1)[1]
    assert json.loads(qrun("qubits", spec, "--top", "1", "--json").out)["layouts"] == {"line": found["chains"][0]}
    shuffled = [best[0], best[2], best[1], best[3]]  # 0-2 are not neighbours in a chain
    spec.write_text(spec.read_text().replace(f"layout: {best}", f"layout: {shuffled}"))
    assert qrun("qubits", spec, "--top", "1").out.splitlines()[2] == (
        f"circuits.line.layout {shuffled}: not a chain of coupled qubits"
    )


def test_fake_sherbrookes_broken_links_are_in_no_chain(qrun):
    # its ecr on 6-5 and 7-6 report an error of 1: a chain of 3 through 6 would use one of them
    found = json.loads(qrun("qubits", "fake_sherbrooke", "--chain", "3", "--top", "100", "--json").out)["chains"]
    assert len(found) == 100
    pairs = {frozenset(p) for c in found for p in zip(c["layout"], c["layout"][1:])}
    assert not pairs & {frozenset((5, 6)), frozenset((6, 7))}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["aer", "--chain", "2"],
            "aer simulates circuits as written: it has no qubits to choose (a layout is for a device)",
        ),
        (["aer"], "aer simulates circuits as written: it has no qubits to choose (a layout is for a device)"),
        (["fake_fez"], "qrun qubits fake_fez: say how many qubits with --chain N (or give a spec, whose circuits say)"),
        (["fake_mumba"], "unknown fake backend 'fake_mumba'; did you mean fake_mumbai or fake_lima or fake_miami?"),
        (["fake_fez", "--chain", "157"], "--chain 157: fake_fez has 156 qubits"),
        (["nosuch.yaml"], "nosuch.yaml: no such file"),
        (
            ["fake_sherbrook", "--chain", "3"],
            "unknown fake backend 'fake_sherbrook'; did you mean fake_sherbrooke or fake_brooklyn or fake_boston?",
        ),
    ],
)
def test_what_has_no_qubits_to_choose_is_said(qrun, args, message):
    result = qrun("qubits", *args)
    assert (result.code, result.err) == (2, f"qrun: {message}\n")


def test_on_the_service_the_devices_calibration_is_read_through_the_runtimes_client(monkeypatch, qrun):
    from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

    cloud = Cloud({"ibm_sherbrooke": FakeSherbrooke()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, cloud)
    served = qrun("qubits", "ibm_sherbrooke", "--chain", "3", "--json")
    assert served.code == 0, served.err
    local = json.loads(qrun("qubits", "fake_sherbrooke", "--chain", "3", "--json").out)
    assert json.loads(served.out)["chains"] == local["chains"]
    assert cloud.order == []  # nothing was run
